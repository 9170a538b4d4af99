/**
 * Sending one file entity over HTTP: encoding negotiation, conditional requests, byte ranges,
 * HEAD and 405. Shared by the static files middleware and by local media serving, so both
 * answer every client the same way. Nothing here touches the filesystem except to read the
 * body of a representation that is not held in memory.
 */
import { constants, createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Mime } from 'mime/lite'
import standardTypes from 'mime/types/standard.js'
import { plainAnswer } from '../http/index.js'

/** One stored form of an entity's bytes: the original, or its brotli or gzip copy. */
export interface Representation {
  /** The file holding these bytes. */
  readonly path: string
  readonly size: number
  /** A strong ETag, quoted (`"3f2a9c1b7d4e"`); each representation has its own. */
  readonly etag: string
  /** The bytes, when they are kept in memory; otherwise they are read from `path` per request. */
  data?: Buffer
}

/** Everything needed to answer a request for one file, decided before the request comes. */
export interface Entity {
  readonly identity: Representation
  /** A brotli copy, sent to clients that accept `br`. */
  readonly br?: Representation | undefined
  /** A gzip copy, sent to clients that accept `gzip` (and not `br`, or with a lower q-value). */
  readonly gzip?: Representation | undefined
  /** The Content-Type, with its charset for text. */
  readonly contentType: string
  /** The Last-Modified HTTP date (`toUTCString()` of the file's mtime). */
  readonly lastModified: string
  readonly cacheControl: string
  /** Further headers sent with every answer about this entity (CORS, the per-file hook's). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

type Encoding = 'br' | 'gzip' | 'identity'

/**
 * Files are opened without following a symbolic link in their last path segment, so a file
 * swapped for a link after it was indexed or checked is refused (404), not read. Windows has
 * no such flag.
 */
export const readNoFollow = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0)
// createReadStream passes its flags to fs.open, which takes numbers too; its type says string.
const streamNoFollow = readNoFollow as unknown as string

const allow = 'GET, HEAD'

/**
 * The headers of a plain 200 for a representation held in memory, made on its first such answer:
 * the most common answer by far, so it is not rebuilt per request.
 */
const fullAnswers = new WeakMap<Representation, (string | number)[]>()

/**
 * Answers `req` with `entity`: 200, 206, 304, 405 or 416. GET and HEAD only (405 with `Allow`
 * otherwise). A request with a Range header is answered from the uncompressed bytes, because
 * offsets into a compressed stream mean nothing to the clients that send ranges (media players,
 * download resumers); every other request gets the best encoding the client accepts.
 */
export function sendEntity(req: IncomingMessage, res: ServerResponse, entity: Entity): void {
  const method = req.method
  if (method !== 'GET' && method !== 'HEAD') {
    plainAnswer(res, 405, 'Method Not Allowed\n', { Allow: allow })
    return
  }
  const headers = req.headers
  const range = method === 'GET' ? headers.range : undefined
  const encoding: Encoding =
    range === undefined ? negotiate(headers['accept-encoding'], entity.br, entity.gzip) : 'identity'
  const rep = (encoding === 'identity' ? entity.identity : entity[encoding]) as Representation

  const ifNoneMatch = headers['if-none-match'] as string | undefined
  const notModified =
    ifNoneMatch !== undefined
      ? etagListMatches(ifNoneMatch, rep.etag)
      : notModifiedSince(headers['if-modified-since'], entity.lastModified)
  if (notModified) {
    res.writeHead(304, {
      ETag: rep.etag,
      'Cache-Control': entity.cacheControl,
      Vary: 'Accept-Encoding',
      ...entity.headers,
    })
    res.end()
    return
  }

  const size = rep.size
  let start = 0
  let end = size - 1
  let status = 200
  if (
    range !== undefined &&
    ifRangeHolds(headers['if-range'] as string | undefined, rep.etag, entity.lastModified)
  ) {
    const bounds = parseRange(range, size)
    if (bounds === 'unsatisfiable') {
      res.writeHead(416, {
        'Content-Range': `bytes */${size}`,
        'Content-Length': 0,
        'Accept-Ranges': 'bytes',
        Vary: 'Accept-Encoding',
        ...entity.headers,
      })
      res.end()
      return
    }
    if (bounds !== undefined) {
      status = 206
      start = bounds[0]
      end = bounds[1]
    }
  }

  if (status === 200 && method === 'GET' && rep.data !== undefined) {
    const full = fullAnswers.get(rep)
    if (full !== undefined) {
      res.writeHead(200, full)
      res.end(rep.data)
      return
    }
  }
  const head: Record<string, string | number> = {
    'Content-Type': entity.contentType,
    'Content-Length': end - start + 1,
    ETag: rep.etag,
    'Last-Modified': entity.lastModified,
    'Cache-Control': entity.cacheControl,
    Vary: 'Accept-Encoding',
    'Accept-Ranges': 'bytes',
  }
  if (encoding !== 'identity') head['Content-Encoding'] = encoding
  if (status === 206) head['Content-Range'] = `bytes ${start}-${end}/${size}`
  if (entity.headers !== undefined) Object.assign(head, entity.headers)

  if (status === 200 && method === 'GET' && rep.data !== undefined) {
    const full = Object.entries(head).flat()
    fullAnswers.set(rep, full)
    res.writeHead(200, full)
    res.end(rep.data)
    return
  }
  if (method === 'HEAD' || size === 0) {
    res.writeHead(status, head)
    res.end()
    return
  }
  if (rep.data !== undefined) {
    res.writeHead(status, head)
    res.end(status === 206 ? rep.data.subarray(start, end + 1) : rep.data)
    return
  }
  streamFile(res, rep.path, status, head, start, end)
}

/**
 * The headers go out only once the file is open, so a file removed since start-up is a 404
 * instead of a response cut short.
 */
function streamFile(
  res: ServerResponse,
  path: string,
  status: number,
  head: Record<string, string | number>,
  start: number,
  end: number,
): void {
  const stream = createReadStream(path, { start, end, flags: streamNoFollow })
  stream.once('open', () => {
    res.writeHead(status, head)
    stream.pipe(res)
  })
  stream.once('error', () => {
    if (!res.headersSent) plainAnswer(res, 404, 'Not Found\n')
    else res.destroy()
  })
  res.once('close', () => stream.destroy())
}

/**
 * The encoding to send, from the client's Accept-Encoding and the copies that exist. Only an
 * explicit `br` or `gzip` with a non-zero q-value selects a copy (`*` does not: a client that
 * names no encoding gets the original); the higher q-value wins, and brotli wins a tie.
 */
function negotiate(
  accept: string | undefined,
  br: Representation | undefined,
  gzip: Representation | undefined,
): Encoding {
  if (accept === undefined || (br === undefined && gzip === undefined)) return 'identity'
  let weights = acceptedWeights.get(accept)
  if (weights === undefined) {
    weights = parseAcceptEncoding(accept)
    // Browsers send a handful of distinct values; a flood of odd ones must not grow the cache.
    if (acceptedWeights.size >= 256) acceptedWeights.clear()
    acceptedWeights.set(accept, weights)
  }
  const [brQ, gzipQ] = weights
  if (br !== undefined && brQ > 0 && (gzip === undefined || brQ >= gzipQ)) return 'br'
  if (gzip !== undefined && gzipQ > 0) return 'gzip'
  return 'identity'
}

const acceptedWeights = new Map<string, [number, number]>()

/** The q-values of `br` and `gzip` in an Accept-Encoding header (0 when not named). */
function parseAcceptEncoding(accept: string): [number, number] {
  let brQ = 0
  let gzipQ = 0
  for (const part of accept.split(',')) {
    const semicolon = part.indexOf(';')
    const name = (semicolon === -1 ? part : part.slice(0, semicolon)).trim().toLowerCase()
    if (name !== 'br' && name !== 'gzip' && name !== 'x-gzip') continue
    const q = semicolon === -1 ? 1 : qValue(part.slice(semicolon + 1))
    if (name === 'br') brQ = q
    else gzipQ = Math.max(gzipQ, q)
  }
  return [brQ, gzipQ]
}

/** The q parameter of one Accept-Encoding item; a malformed one counts as 0 (not acceptable). */
function qValue(parameters: string): number {
  const match = /(?:^|;)\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*(?:;|$)/i.exec(parameters)
  if (match === null) return /\bq\s*=/i.test(parameters) ? 0 : 1
  return Math.min(1, Number(match[1]))
}

/** If-None-Match uses the weak comparison: `W/"x"` matches `"x"`; `*` matches any entity. */
function etagListMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true
  for (const item of header.split(',')) {
    let tag = item.trim()
    if (tag.startsWith('W/')) tag = tag.slice(2)
    if (tag === etag) return true
  }
  return false
}

/** True when the client's copy is as new as the file; a date that does not parse is ignored. */
function notModifiedSince(header: string | undefined, lastModified: string): boolean {
  if (header === undefined) return false
  const since = Date.parse(header)
  return !Number.isNaN(since) && Date.parse(lastModified) <= since
}

/** If-Range holds when it names this exact representation (strong comparison) or its exact date. */
function ifRangeHolds(header: string | undefined, etag: string, lastModified: string): boolean {
  if (header === undefined) return true
  const value = header.trim()
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag
  const date = Date.parse(value)
  return !Number.isNaN(date) && date === Date.parse(lastModified)
}

/**
 * One byte range of a `size`-byte body, inclusive, truncated to the end of the file; `undefined`
 * when the header should be ignored (malformed, another unit, several ranges: the full body is
 * sent), `unsatisfiable` for a 416.
 */
function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header)
  if (match === null) return undefined
  const [, first = '', last = ''] = match
  if (first === '' && last === '') return undefined
  if (first === '') {
    const suffix = Number(last)
    if (!Number.isSafeInteger(suffix)) return undefined
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return [Math.max(0, size - suffix), size - 1]
  }
  const start = Number(first)
  const end = last === '' ? Number.MAX_SAFE_INTEGER : Number(last)
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return [start, Math.min(end, size - 1)]
}

const textTypes = new Set([
  'application/javascript',
  'application/json',
  'application/ld+json',
  'application/manifest+json',
  'application/xml',
  'application/xhtml+xml',
  'image/svg+xml',
])

/**
 * Types by extension: mime's standard (IANA) types, plus the few vendor and `x-` types web apps
 * serve and users upload. mime's full database, with a thousand more of those, costs each
 * worker about 2.4 MB more (bench/README.md); an extension it does not know is served as
 * octet-stream.
 */
export const mimeTypes = new Mime(standardTypes, {
  'image/vnd.microsoft.icon': ['ico'],
  // What file-type calls an icon it recognises in an upload.
  'image/x-icon': ['*ico'],
  'application/vnd.ms-fontobject': ['eot'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['docx'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['xlsx'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['pptx'],
  'application/vnd.ms-excel': ['xls'],
  'application/vnd.ms-powerpoint': ['ppt'],
  'application/vnd.oasis.opendocument.text': ['odt'],
  'application/vnd.oasis.opendocument.spreadsheet': ['ods'],
  'application/vnd.oasis.opendocument.presentation': ['odp'],
  'application/x-tar': ['tar'],
  'application/x-7z-compressed': ['7z'],
  'application/vnd.rar': ['rar'],
  'application/x-rar-compressed': ['*rar'],
})

/** The Content-Type for a file name, with `charset=utf-8` for text; unknown types are octet-stream. */
export function contentTypeFor(path: string): string {
  const type = mimeTypes.getType(path) ?? 'application/octet-stream'
  return type.startsWith('text/') || textTypes.has(type) ? `${type}; charset=utf-8` : type
}

export interface FileEntityOptions {
  /** Default: from the file name, with a charset for text. */
  contentType?: string
  /** Default: `public, max-age=60`. */
  cacheControl?: string
  headers?: Record<string, string>
}

/**
 * An entity for one file on disk, read with a single stat (for callers that serve files not
 * indexed at start-up, such as media). Its ETag is made from the size and modification time,
 * as nginx does: strong, and it changes whenever the file does.
 */
export async function fileEntity(path: string, options: FileEntityOptions = {}): Promise<Entity> {
  const info = await stat(path)
  if (!info.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' })
  return {
    identity: { path, size: info.size, etag: statEtag(info.size, info.mtimeMs) },
    contentType: options.contentType ?? contentTypeFor(path),
    lastModified: httpDate(info.mtimeMs),
    cacheControl: options.cacheControl ?? 'public, max-age=60',
    headers: options.headers,
  }
}

export function statEtag(size: number, mtimeMs: number): string {
  return `"${Math.floor(mtimeMs).toString(16)}-${size.toString(16)}"`
}

export function httpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString()
}
