/**
 * The Storage API apps use, written once over a small driver interface. Everything that must
 * hold on every driver lives here: key rules, no silent overwrite, the content type from the
 * bytes, visibility, expiry limits. A driver only moves bytes.
 */
import { Readable } from 'node:stream'
import { ShipshapeError } from '../errors/index.js'
import {
  type DetectedType,
  detectContentType,
  disposition,
  keyForType,
  sniffBytes,
  typeOfKey,
} from './_content-type.js'
import { checkKey, uniqueKey } from './_keys.js'
import { checkExpiresIn, defaultExpiresIn } from './_signing.js'

export type Visibility = 'public' | 'private'

export interface FileInfo {
  key: string
  /** Bytes. */
  size: number
  /** Decided from the bytes when the file was stored (then from the name), never from a client. */
  contentType: string
  lastModified: Date
}

export type Body = Uint8Array | string | Readable | AsyncIterable<Uint8Array>

export interface PutOptions {
  /**
   * Store under exactly this name, replacing any file there. Default `false`: a random suffix
   * is added (`avatar.png` → `avatar-7k2m9xq4.png`), so two saves never share a key.
   */
  overwrite?: boolean
  /** Stops the write; nothing is left behind. */
  signal?: AbortSignal
}

export interface SignedUrlOptions {
  /** Seconds the link stays valid: 1 to 604800 (7 days). Default 3600. */
  expiresIn?: number
}

export interface PresignedPostOptions {
  /** Largest file the browser may upload, in bytes. Required: an unlimited upload form is never made. */
  maxBytes: number
  /** Seconds the form stays valid: 1 to 604800. Default 3600. */
  expiresIn?: number
}

/** A form a browser posts a file to, straight to the bucket. */
export interface PresignedPost {
  /** The key the file will have. */
  key: string
  url: string
  /** Hidden fields, sent before the `file` field. */
  fields: Record<string, string>
}

/** What a driver is told about a file it writes. */
export interface WriteInfo {
  contentType: string
  /** `attachment` for types a browser could run (HTML, SVG, …); drivers that store headers keep it. */
  disposition: 'inline' | 'attachment'
  overwrite: boolean
  signal: AbortSignal | undefined
}

/** The bytes-moving half of a storage. Keys reaching a driver have passed checkKey. */
export interface Driver {
  /** Writes the whole body or nothing: no partial file is ever visible, even when the body fails. */
  write(key: string, body: Readable, info: WriteInfo): Promise<FileInfo>
  read(key: string): Promise<{ body: Readable; info: FileInfo } | undefined>
  remove(key: string): Promise<void>
  info(key: string): Promise<FileInfo | undefined>
  list(prefix: string): AsyncIterable<FileInfo>
  /** The URL of a public file. */
  url(key: string): string
  signedUrl(key: string, expiresIn: number): Promise<string>
  presignedPost?(key: string, info: WriteInfo, maxBytes: number, expiresIn: number): Promise<PresignedPost>
}

export interface Storage {
  readonly name: string
  readonly visibility: Visibility
  /** Types served inline although they could run script (see docs/storage.md). */
  readonly inlineTypes: readonly string[]
  /**
   * Stores a file and returns where it went. The key is `name` made unique (unless
   * `overwrite`), with its extension made to agree with the file's bytes.
   */
  put(name: string, body: Body, options?: PutOptions): Promise<FileInfo>
  /** The file's bytes as a stream; throws SHIPSHAPE_E_STORAGE_NOT_FOUND when there is none. */
  get(key: string): Promise<{ body: Readable; info: FileInfo }>
  /** Deletes the file; deleting a missing file is not an error. */
  delete(key: string): Promise<void>
  exists(key: string): Promise<boolean>
  /** The file's size, type and date, or undefined when there is none. */
  stat(key: string): Promise<FileInfo | undefined>
  /** Every file whose key starts with `prefix` (a string prefix, as in S3), in key order. */
  list(prefix?: string): AsyncIterable<FileInfo>
  /** The permanent URL of a file in a public storage; throws for a private one. */
  url(key: string): string
  /** A URL that stops working after `expiresIn` seconds. */
  signedUrl(key: string, options?: SignedUrlOptions): Promise<string>
  /** A size-limited upload form straight to the bucket (S3 driver only). */
  presignedPost(name: string, options: PresignedPostOptions): Promise<PresignedPost>
  /** How a file of this type is served: inline, or as a download. */
  disposition(contentType: string): 'inline' | 'attachment'
}

export function createStorage(
  name: string,
  visibility: Visibility,
  driver: Driver,
  inlineTypes: readonly string[] = [],
): Storage {
  const chooseKey = (requested: string, detected: DetectedType, overwrite: boolean) => {
    const typed = keyForType(requested, detected)
    return overwrite ? typed : uniqueKey(typed)
  }
  return {
    name,
    visibility,
    inlineTypes,
    async put(requested, body, options = {}) {
      const checked = checkKey(requested)
      options.signal?.throwIfAborted()
      const { head, stream } = await peek(body)
      // Destroying the body makes every driver's write fail and clean up after itself.
      const abort = () => stream.destroy(options.signal?.reason)
      options.signal?.addEventListener('abort', abort, { once: true })
      const detected = await detectContentType(head, checked)
      const { contentType } = detected
      const overwrite = options.overwrite === true
      const key = chooseKey(checked, detected, overwrite)
      try {
        return await driver.write(key, stream, {
          contentType,
          disposition: disposition(contentType, inlineTypes),
          overwrite,
          signal: options.signal,
        })
      } finally {
        options.signal?.removeEventListener('abort', abort)
      }
    },
    async get(key) {
      const found = await driver.read(checkKey(key))
      if (!found) throw new ShipshapeError('SHIPSHAPE_E_STORAGE_NOT_FOUND', `${name}: ${key}`)
      return found
    },
    delete: async (key) => driver.remove(checkKey(key)),
    exists: async (key) => (await driver.info(checkKey(key))) !== undefined,
    stat: async (key) => driver.info(checkKey(key)),
    list(prefix = '') {
      if (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.split('/').includes('..')) {
        throw new ShipshapeError('SHIPSHAPE_E_STORAGE_KEY', `list prefix ${JSON.stringify(prefix)}`)
      }
      return driver.list(prefix.normalize('NFC'))
    },
    url(key) {
      if (visibility === 'private') {
        throw new ShipshapeError('SHIPSHAPE_E_STORAGE_PRIVATE', `storage ${JSON.stringify(name)}`)
      }
      return driver.url(checkKey(key))
    },
    async signedUrl(key, options = {}) {
      return driver.signedUrl(checkKey(key), checkExpiresIn(options.expiresIn ?? defaultExpiresIn))
    },
    async presignedPost(requested, options) {
      if (!driver.presignedPost) {
        throw new ShipshapeError(
          'SHIPSHAPE_E_STORAGE_UNSUPPORTED',
          `storage ${JSON.stringify(name)} is on the local disk; use receiveUpload() instead`,
        )
      }
      const { maxBytes } = options
      if (!Number.isInteger(maxBytes) || maxBytes < 1) {
        throw new ShipshapeError(
          'SHIPSHAPE_E_STORAGE_CONFIG',
          `maxBytes must be a whole number ≥ 1, got ${maxBytes}`,
        )
      }
      const expiresIn = checkExpiresIn(options.expiresIn ?? defaultExpiresIn)
      // The bytes never pass through shipshape, so the type comes from the name; the signed
      // policy pins it, and the browser cannot choose another.
      const key = uniqueKey(checkKey(requested))
      const contentType = typeOfKey(key)
      const info: WriteInfo = {
        contentType,
        disposition: disposition(contentType, inlineTypes),
        overwrite: false,
        signal: undefined,
      }
      return driver.presignedPost(key, info, maxBytes, expiresIn)
    },
    disposition: (contentType) => disposition(contentType, inlineTypes),
  }
}

/**
 * Reads the first bytes of a body (for the content type) and puts them back, so the driver
 * reads the whole body from the same stream: destroying it (an abort, a failed write) stops
 * the source too.
 */
async function peek(body: Body): Promise<{ head: Uint8Array; stream: Readable }> {
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body
    return { head: bytes.subarray(0, sniffBytes), stream: Readable.from([bytes], { objectMode: false }) }
  }
  if (body === null || typeof body !== 'object' || !(Symbol.asyncIterator in body)) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_ARGUMENT',
      `put() takes a Buffer, Uint8Array, string or readable stream, got ${body === null ? 'null' : typeof body}`,
    )
  }
  const stream = body instanceof Readable ? body : Readable.from(body, { objectMode: false })
  // The error is reported by the driver's write, which finds the stream errored; without a
  // listener it would also crash the process if it came while the type is being detected.
  stream.on('error', ignore)
  const chunks: Buffer[] = []
  let size = 0
  while (size < sniffBytes) {
    const chunk: Buffer | string | null = stream.read()
    if (chunk !== null) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      chunks.push(bytes)
      size += bytes.length
      continue
    }
    if (stream.errored) throw stream.errored
    if (stream.readableEnded || stream.destroyed) break
    await new Promise<void>((resolve) => {
      const wake = () => {
        for (const event of ['readable', 'end', 'error', 'close']) stream.off(event, wake)
        resolve()
      }
      for (const event of ['readable', 'end', 'error', 'close']) stream.once(event, wake)
    })
  }
  const head = Buffer.concat(chunks)
  // A body shorter than the peek has ended already, and an ended stream takes nothing back.
  if (stream.readableEnded) return { head, stream: Readable.from([head], { objectMode: false }) }
  if (head.length > 0) stream.unshift(head)
  return { head: head.subarray(0, sniffBytes), stream }
}

function ignore(): void {}
