/**
 * A per-route response cache, as Django's cache_page: the whole response of a GET is kept for a
 * time, keyed by method, path, query and the request headers its Vary names (learned from the
 * last response of that URL, as Django's learn_cache_key does). Never kept: a response that sets
 * a cookie, is private, no-store or no-cache, varies on `*`, has a CSP nonce, or has a status
 * not allowed.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Cache } from './_cache.js'
import { checkDuration, checkTags } from './_input.js'
import { cache as workerCache } from './_worker.js'
import type { Duration } from './types.js'

export interface CachePageOptions {
  /** Default: the cache's ttl. */
  ttl?: Duration
  /** Tags for deleteByTag(). Default: none. */
  tags?: readonly string[]
  /** Statuses that may be kept. Default: 200, 301, 404 (what a shared cache may keep without being told). */
  statuses?: readonly number[]
  /** Larger bodies are passed through, not kept. Default: 1 MiB. */
  maxBodyBytes?: number
  /** Default: the serve worker's cache. */
  cache?: Cache
}

type Handler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => unknown

interface StoredPage {
  status: number
  headers: [string, string | string[]][]
  /** Base64. */
  body: string
  /** Epoch ms, for Age. */
  at: number
}

/** Headers of one exchange, never replayed to another client. */
const personal = new Set([
  'set-cookie',
  'x-request-id',
  'date',
  'connection',
  'keep-alive',
  'transfer-encoding',
])

const hash = (text: string) => createHash('sha256').update(text).digest('base64url')

/** `handler` (a node:http or Express route handler) with its GET responses cached. */
export function cachePage(options: CachePageOptions, handler: Handler): Handler {
  const ttl = options.ttl === undefined ? undefined : checkDuration('cachePage()', 'ttl', options.ttl) / 1000
  const tags = checkTags('cachePage()', options.tags)
  const statuses = new Set(options.statuses ?? [200, 301, 404])
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024

  return async function cachedPage(req, res, next) {
    // RFC 9111 §3.5: a shared cache does not reuse an answer to an authenticated request.
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.headers.authorization !== undefined)
      return handler(req, res, next)
    const store = options.cache ?? workerCache()
    const base = `GET ${req.url}`
    const varyKey = `page-vary:${hash(base)}`
    const learned = (await store.get<string[]>(varyKey)) ?? []
    const stored = await store.get<StoredPage>(pageKey(base, learned, req))
    if (stored !== undefined) return replay(req, res, stored)
    res.setHeader('X-Shipshape-Cache', 'miss')
    const chunks = capture(res, maxBodyBytes)
    res.once('finish', () => {
      const body = chunks()
      if (req.method !== 'GET' || body === undefined || !statuses.has(res.statusCode)) return
      const headers = res.getHeaders()
      if (!keepable(headers)) return
      const vary = varyNames(headers.vary)
      if (vary === undefined) return
      const page: StoredPage = {
        status: res.statusCode,
        headers: Object.entries(headers)
          .filter(([name]) => !personal.has(name) && name !== 'x-shipshape-cache')
          .map(([name, value]) => [name, Array.isArray(value) ? value : String(value)]),
        body: body.toString('base64'),
        at: Date.now(),
      }
      void Promise.all([
        store.set(varyKey, vary, { ttl, tags }),
        store.set(pageKey(base, vary, req), page, { ttl, tags }),
        // set() throws only on arguments, checked above; Redis failures are the cache's to count.
      ]).catch(() => {})
    })
    return handler(req, res, next)
  }
}

function pageKey(base: string, vary: readonly string[], req: IncomingMessage): string {
  const values = vary.map((name) => `${name}:${String(req.headers[name] ?? '')}`)
  return `page:${hash(`${base}\n${values.join('\n')}`)}`
}

/**
 * Shared caches must not keep these (RFC 9111 §3, §5.2.2): private, no-store, no-cache, or a
 * cookie. Nor a page whose CSP carries a nonce (cspNonce()): replayed, every visitor would share
 * one nonce, which then protects nothing.
 */
function keepable(headers: OutgoingHttpHeaders): boolean {
  if (headers['set-cookie'] !== undefined) return false
  for (const name of ['content-security-policy', 'content-security-policy-report-only'])
    if (String(headers[name] ?? '').includes("'nonce-")) return false
  const control = String(headers['cache-control'] ?? '').toLowerCase()
  return !/(?:^|[\s,])(?:private|no-store|no-cache)(?:$|[\s,=])/.test(control)
}

/** The request headers a response varies on, lower-case and sorted; undefined for `Vary: *`. */
function varyNames(vary: OutgoingHttpHeaders[string]): string[] | undefined {
  if (vary === undefined) return []
  const names = String(Array.isArray(vary) ? vary.join(',') : vary)
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean)
  if (names.includes('*')) return undefined
  return [...new Set(names)].sort()
}

function replay(req: IncomingMessage, res: ServerResponse, page: StoredPage): void {
  res.statusCode = page.status
  for (const [name, value] of page.headers) res.setHeader(name, value)
  res.setHeader('X-Shipshape-Cache', 'hit')
  res.setHeader('Age', String(Math.max(0, Math.floor((Date.now() - page.at) / 1000))))
  res.end(req.method === 'HEAD' ? undefined : Buffer.from(page.body, 'base64'))
}

/**
 * Copies what the handler writes, as it is written (the client is not kept waiting), up to
 * `limit` bytes; returns the body, or undefined past the limit. Headers given to writeHead go
 * through setHeader first, so getHeaders() sees them.
 */
function capture(res: ServerResponse, limit: number): () => Buffer | undefined {
  const chunks: Buffer[] = []
  let size = 0
  const keep = (chunk: unknown, encoding: unknown) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function' || size > limit) return
    const buffer =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : Buffer.from(chunk as Uint8Array)
    size += buffer.length
    chunks.push(buffer)
  }
  const { write, end, writeHead } = res
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    const headers = rest.find((part) => typeof part === 'object' && part !== null)
    if (Array.isArray(headers)) {
      for (let i = 0; i + 1 < headers.length; i += 2) res.appendHeader(String(headers[i]), headers[i + 1])
    } else if (headers) {
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value)
    }
    const reason = rest.find((part) => typeof part === 'string')
    return (writeHead as (status: number, reason?: string) => ServerResponse).call(
      this,
      status,
      reason as string | undefined,
    )
  } as typeof res.writeHead
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0])
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
  } as typeof res.write
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    keep(chunk, rest[0])
    return (end as (...args: unknown[]) => ServerResponse).call(this, chunk, ...rest)
  } as typeof res.end
  return () => (size > limit ? undefined : Buffer.concat(chunks))
}
