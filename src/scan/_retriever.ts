/**
 * `shipshape scan <url>`: fetches a site the way the MDN HTTP Observatory does, then grades it
 * with the Observatory's tests. Two sessions run side by side, one from the http:// URL and one
 * from the https:// URL; each follows up to 10 redirects by hand, recording every step and keeping
 * the cookies set on the way. The HTTPS session is graded when the site answers over HTTPS. A
 * certificate that does not verify is retried without verification and graded as invalid.
 */

import { type LookupOptions, lookup } from 'node:dns'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls'
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib'
import { ShipshapeError } from '../errors/index.js'
import type { CookieJar } from './_cookie-jar.js'
import { grade } from './_grader.js'
import type { Retrieval, RouteStep, ScannedResponse, ScanReport } from './types.js'

export interface ScanOptions {
  /** PEM certificate(s) of a CA to trust besides the system's (a private CA, or a test's self-signed cert). */
  ca?: string
  /**
   * Do not verify certificates, and grade as if they were valid. For staging and tests only: a real
   * scanner would grade an unverifiable certificate as invalid.
   */
  insecure?: boolean
  /** Port for the http:// session when the URL given is https:// (default 80). */
  httpPort?: number
  /** Port for the https:// session when the URL given is http:// (default 443). */
  httpsPort?: number
  /** Time each session (all its redirects) may take, as the Observatory allows: 10 s. */
  timeoutMs?: number
  /** Origin sent in the CORS preflight; the Observatory's own by default. */
  corsOrigin?: string
  /**
   * Host names to reach at a given address instead of asking DNS, as curl's --resolve does: scan a
   * staging server under the production name, or a local test server under a real-looking one.
   */
  resolve?: Record<string, string>
}

export interface SiteScan extends ScanReport {
  /** The URL graded: where the graded session ended. */
  url: string
  responseHeaders: IncomingHttpHeaders
}

const observatoryOrigin = 'https://http-observatory.security.mozilla.org'
const redirectStatuses = new Set([301, 302, 303, 307, 308])
const maxRedirects = 10
/** Pages larger than this are cut: more is never needed to find <script> and <meta> tags. */
const maxBodyBytes = 8 * 1024 * 1024
const requestHeaders = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-encoding': 'gzip, deflate, br',
  'user-agent': 'shipshape-scan (MDN HTTP Observatory algorithm 4)',
}
/** The errors Node gives for a certificate chain that does not verify. */
const certificateErrors = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** The http:// and https:// URLs to start from, for `example.com`, `https://host:8443/path` and the like. */
export function scanTargets(
  target: string,
  options: Pick<ScanOptions, 'httpPort' | 'httpsPort'> = {},
): { hostname: string; http: URL; https: URL } {
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(target)
  let url: URL
  try {
    url = new URL(hasScheme ? target : `https://${target}`)
  } catch {
    throw new ShipshapeError('SHIPSHAPE_E_BAD_OPTION', `not a URL or host name: ${JSON.stringify(target)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `scan needs an http:// or https:// URL, got ${url.protocol}`,
    )
  if (url.username || url.password)
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      'the URL to scan must not carry a user name or password',
    )
  if (!hasScheme && url.port !== '')
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `say which scheme port ${url.port} speaks: https://${url.host} or http://${url.host}`,
    )
  const path = `${url.pathname}${url.search}`
  const at = (scheme: 'http' | 'https', port: number | undefined) =>
    new URL(`${scheme}://${url.hostname}${port === undefined ? '' : `:${port}`}${path}`)
  const given = url.port === '' ? undefined : Number(url.port)
  return {
    hostname: url.hostname,
    http: at('http', url.protocol === 'http:' && hasScheme ? given : options.httpPort),
    https: at('https', url.protocol === 'https:' ? given : options.httpsPort),
  }
}

interface Fetched {
  url: URL
  status: number
  headers: IncomingHttpHeaders
  body: string
}

interface TlsMode {
  verify: boolean
  /** Made once per scan: building one from a CA list costs milliseconds per connection otherwise. */
  secureContext: SecureContext | undefined
  lookup: LookupFunction
}

interface Session {
  start: URL
  response: ScannedResponse & { body: string }
  route: RouteStep[]
  cookies: CookieJar
  tls: TlsMode
}

/** Fetches and grades a site. Throws SHIPSHAPE_E_SCAN_* when it cannot be graded. */
export async function scanSite(target: string, options: ScanOptions = {}): Promise<SiteScan> {
  const { hostname, http, https } = scanTargets(target, options)
  const timeoutMs = options.timeoutMs ?? 10_000
  const secureContext =
    options.ca === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, options.ca] })
  const verifying: TlsMode = { verify: true, secureContext, lookup: resolving(options.resolve ?? {}) }
  // tough-cookie (with its public suffix list) and parse5 load when a scan runs, not with every
  // command that imports shipshape/scan: together about 15 MB resident.
  const [{ CookieJar }, { findTags }] = await Promise.all([
    import('./_cookie-jar.js'),
    import('./_html-tags.js'),
  ])
  const newJar = () => new CookieJar()
  const [httpSession, httpsSession] = await Promise.all([
    runSession(http, verifying, options.insecure === true, timeoutMs, newJar),
    runSession(https, verifying, options.insecure === true, timeoutMs, newJar),
  ])
  const graded = httpsSession ?? httpSession
  if (graded === null)
    throw new ShipshapeError('SHIPSHAPE_E_SCAN_UNREACHABLE', `${http.href} and ${https.href}`)
  const status = graded.response.status
  if (status < 200 || (status >= 400 && status !== 401 && status !== 403))
    throw new ShipshapeError('SHIPSHAPE_E_SCAN_STATUS', `${graded.response.url.href} answered ${status}`)
  const corsOrigin = options.corsOrigin ?? observatoryOrigin
  const finalUrl = graded.route.at(-1)?.url ?? graded.start
  const cors = await preflight(finalUrl, corsOrigin, graded.tls, timeoutMs)
  const retrieval: Retrieval = {
    hostname,
    sessionUrl: graded.start,
    auto: graded.response,
    http: httpSession?.response ?? null,
    httpRoute: httpSession?.route ?? [],
    https: httpsSession?.response ?? null,
    body: graded.response.body,
    cookies: graded.cookies.all(),
    cors: cors === null ? null : { ...cors, verified: graded.response.verified },
    corsOrigin,
  }
  const report = grade(retrieval, findTags(graded.response.body))
  return { ...report, url: graded.response.url.href, responseHeaders: graded.response.headers }
}

/**
 * The status of one GET (redirects not followed) on `path` of the site at `base`, with the TLS and
 * resolving options of a scan; undefined when the request fails. For probes such as admin pages.
 */
export async function probeStatus(
  base: string,
  path: string,
  options: ScanOptions = {},
): Promise<number | undefined> {
  const { http, https } = scanTargets(base, options)
  const start = /^http:\/\//i.test(base) ? http : https
  const secureContext =
    options.ca === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, options.ca] })
  const tls: TlsMode = {
    verify: options.insecure !== true,
    secureContext,
    lookup: resolving(options.resolve ?? {}),
  }
  try {
    const fetched = await fetchOnce(
      new URL(path, start),
      'GET',
      {},
      tls,
      AbortSignal.timeout(options.timeoutMs ?? 10_000),
    )
    return fetched.status
  } catch {
    return undefined
  }
}

/** Follows redirects from `start`; on a certificate error, again without verification. Null if unreachable. */
async function runSession(
  start: URL,
  verifying: TlsMode,
  insecure: boolean,
  timeoutMs: number,
  newJar: () => CookieJar,
): Promise<Session | null> {
  const signal = AbortSignal.timeout(timeoutMs)
  const unverified = { ...verifying, verify: false }
  const attempts = insecure ? [unverified] : [verifying, unverified]
  for (const tls of attempts) {
    const route: RouteStep[] = []
    const cookies = newJar()
    try {
      let url = start
      for (let redirects = 0; ; redirects++) {
        const fetched = await fetchOnce(url, 'GET', {}, tls, signal)
        route.push({ url, status: fetched.status })
        const setCookie = fetched.headers['set-cookie'] ?? []
        cookies.store(setCookie, url)
        if (redirects < maxRedirects && redirectStatuses.has(fetched.status)) {
          // As the Observatory does, a missing Location resolves as the relative URL "undefined".
          url = new URL(String(fetched.headers.location), url)
          continue
        }
        return { start, response: { ...fetched, verified: tls.verify || insecure }, route, cookies, tls }
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (tls.verify && code !== undefined && certificateErrors.has(code)) continue
      return null
    }
  }
  return null
}

/** A CORS preflight as the Observatory sends it, following redirects; null when it fails. */
async function preflight(url: URL, origin: string, tls: TlsMode, timeoutMs: number): Promise<Fetched | null> {
  const signal = AbortSignal.timeout(timeoutMs)
  let method = 'OPTIONS'
  let current = url
  try {
    for (let redirects = 0; ; redirects++) {
      const fetched = await fetchOnce(
        current,
        method,
        { origin, 'access-control-request-method': 'GET' },
        tls,
        signal,
      )
      if (!redirectStatuses.has(fetched.status) || fetched.headers.location === undefined) return fetched
      if (redirects >= maxRedirects) return null
      if (fetched.status === 303) method = 'GET'
      current = new URL(fetched.headers.location, current)
    }
  } catch {
    return null
  }
}

/** DNS, except for the host names given, which go to the address given. */
function resolving(addresses: Record<string, string>): LookupFunction {
  return ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    const address = addresses[hostname.toLowerCase()]
    if (address === undefined) return lookup(hostname, options, callback as never)
    const family = isIP(address) || 4
    if (options.all) callback(null, [{ address, family }])
    else callback(null, address, family)
  }) as LookupFunction
}

function fetchOnce(
  url: URL,
  method: string,
  extraHeaders: Record<string, string>,
  tls: TlsMode,
  signal: AbortSignal,
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined
    if (send === undefined) {
      reject(new Error(`cannot fetch ${url.protocol} URLs`))
      return
    }
    const req = send(url, {
      method,
      headers: { ...requestHeaders, ...extraHeaders },
      signal,
      agent: false,
      rejectUnauthorized: tls.verify,
      lookup: tls.lookup,
      ...(tls.secureContext === undefined ? {} : { secureContext: tls.secureContext }),
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase()
      const decoder =
        encoding === 'gzip' || encoding === 'x-gzip'
          ? createGunzip()
          : encoding === 'deflate'
            ? createInflate()
            : encoding === 'br'
              ? createBrotliDecompress()
              : undefined
      const stream = decoder === undefined ? res : res.pipe(decoder)
      const chunks: Buffer[] = []
      let size = 0
      const finish = () => {
        res.destroy()
        resolve({
          url,
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        })
      }
      stream.on('data', (chunk: Buffer) => {
        if (size >= maxBodyBytes) return
        chunks.push(chunk)
        size += chunk.length
        if (size >= maxBodyBytes) finish()
      })
      stream.on('end', finish)
      // A body that fails to decompress is graded as empty, like a page with no scripts.
      stream.on('error', () => {
        chunks.length = 0
        finish()
      })
      res.on('error', reject)
    })
    req.end()
  })
}
