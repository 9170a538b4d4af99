/**
 * CDN caching headers: Cache-Control for browsers and every shared cache (RFC 9111, with RFC
 * 5861's stale-while-revalidate and stale-if-error), CDN-Cache-Control for CDNs alone (RFC 9213),
 * and the purge tags each CDN reads. Each CDN cuts or ignores a tag header past its limits, so a
 * tag set past any of them is refused here, when the headers are made, instead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ShipshapeError } from '../errors/index.js'
import { checkSeconds, checkTags } from './_input.js'

export type CdnName = 'fastly' | 'cloudflare' | 'akamai' | 'cloudfront'

export interface CdnOptions {
  /** How long browsers keep the page (Cache-Control max-age). Default: 0 (they revalidate each time). */
  maxAge?: number | string
  /** How long shared caches (CDNs, proxies) keep it. Default: none (they follow maxAge). */
  sMaxAge?: number | string
  /** Serve stale this long while refetching in the background (RFC 5861). Default: none. */
  staleWhileRevalidate?: number | string
  /** Serve stale this long while the origin fails (RFC 5861). Default: none. */
  staleIfError?: number | string
  /** Purge tags for the page. Default: none. */
  tags?: readonly string[]
  /** The CDNs whose tag header is sent and whose limits are enforced. Default: fastly, cloudflare, akamai. */
  cdns?: readonly CdnName[]
}

interface TagRules {
  /** The tag header (CloudFront has none: its limits apply to a header your edge function reads). */
  header: string | undefined
  separator: string
  maxTags: number
  maxTagLength: number
  maxHeaderBytes: number
}

/** As each CDN documents them: Fastly (Surrogate-Key), Cloudflare (Cache-Tag), Akamai (Edge-Cache-Tag). */
export const cdnTagRules: Readonly<Record<CdnName, TagRules>> = {
  fastly: {
    header: 'Surrogate-Key',
    separator: ' ',
    maxTags: Number.POSITIVE_INFINITY,
    maxTagLength: 1024,
    maxHeaderBytes: 16_384,
  },
  cloudflare: {
    header: 'Cache-Tag',
    separator: ',',
    maxTags: Number.POSITIVE_INFINITY,
    maxTagLength: 1024,
    maxHeaderBytes: 16 * 1024,
  },
  akamai: {
    header: 'Edge-Cache-Tag',
    separator: ',',
    maxTags: 128,
    maxTagLength: 128,
    maxHeaderBytes: Number.POSITIVE_INFINITY,
  },
  cloudfront: {
    header: undefined,
    separator: ',',
    maxTags: 50,
    maxTagLength: 256,
    maxHeaderBytes: Number.POSITIVE_INFINITY,
  },
}

const defaultCdns: readonly CdnName[] = ['fastly', 'cloudflare', 'akamai']

/** The headers for `options`, validated; throws SHIPSHAPE_E_CDN_TAGS or a duration error. */
export function cdnHeaders(options: CdnOptions = {}, call = 'cdnHeaders()'): Record<string, string> {
  const directives = ['public', `max-age=${checkSeconds(call, 'maxAge', options.maxAge ?? 0)}`]
  const shared: string[] = []
  if (options.sMaxAge !== undefined) {
    const seconds = checkSeconds(call, 'sMaxAge', options.sMaxAge)
    directives.push(`s-maxage=${seconds}`)
    shared.push(`max-age=${seconds}`)
  }
  for (const [name, directive] of [
    ['staleWhileRevalidate', 'stale-while-revalidate'],
    ['staleIfError', 'stale-if-error'],
  ] as const) {
    if (options[name] === undefined) continue
    const part = `${directive}=${checkSeconds(call, name, options[name])}`
    directives.push(part)
    shared.push(part)
  }
  const headers: Record<string, string> = { 'Cache-Control': directives.join(', ') }
  if (shared.length > 0) headers['CDN-Cache-Control'] = shared.join(', ')
  const tags = [...new Set(checkTags(call, options.tags))]
  if (tags.length === 0) return headers
  for (const cdn of options.cdns ?? defaultCdns) {
    const rules = cdnTagRules[cdn]
    if (rules === undefined) throw new ShipshapeError('SHIPSHAPE_E_ARGUMENT', `${call}: unknown CDN ${cdn}`)
    const value = tags.join(rules.separator)
    const long = tags.find((tag) => tag.length > rules.maxTagLength)
    const problem =
      tags.length > rules.maxTags
        ? `${tags.length} tags, and ${cdn} keeps at most ${rules.maxTags}`
        : long !== undefined
          ? `the tag ${long.slice(0, 40)}… is ${long.length} characters, and ${cdn} allows ${rules.maxTagLength}`
          : Buffer.byteLength(value) > rules.maxHeaderBytes
            ? `the ${rules.header} header would be ${Buffer.byteLength(value)} bytes, and ${cdn} reads at most ${rules.maxHeaderBytes}`
            : undefined
    if (problem) throw new ShipshapeError('SHIPSHAPE_E_CDN_TAGS', `${call}: ${problem}`)
    if (rules.header) headers[rules.header] = value
  }
  return headers
}

/**
 * Middleware (Express/Connect shape, or call it with `(req, res)`) setting the CDN headers on
 * each response it sees. The options are checked here, once: a bad tag set stops start-up.
 */
export function cdn(options: CdnOptions = {}) {
  const headers = Object.entries(cdnHeaders(options, 'cdn()'))
  return function cdnCacheHeaders(_req: IncomingMessage, res: ServerResponse, next?: () => void): void {
    for (const [name, value] of headers) res.setHeader(name, value)
    next?.()
  }
}
