/**
 * Multipart uploads straight into a storage, on @fastify/busboy (the maintained fork of busboy,
 * whose last release is from 2022). Each file streams from the socket to
 * the storage as it arrives: memory holds a few chunks, never a whole file. Any failure (a
 * limit, a malformed body, the client going away) deletes every file the request had stored,
 * so an upload is kept whole or not at all.
 */
import { AsyncResource } from 'node:async_hooks'
import type { IncomingMessage } from 'node:http'
import { PassThrough, Transform } from 'node:stream'
import type { BusboyHeaders, BusboyInstance } from '@fastify/busboy'
import { ShipshapeError } from '../errors/index.js'
import { safeFileName } from './_keys.js'
import type { FileInfo, Storage } from './_storage.js'

export interface UploadOptions {
  /** Largest file, in bytes (413 beyond it). Default 10 MB. */
  maxFileBytes?: number
  /** Largest request body, files and fields together (413 beyond it). Default 50 MB. */
  maxTotalBytes?: number
  /** Most files in one request (413 beyond it). Default 10. */
  maxFiles?: number
  /** Most non-file fields (413 beyond it). Default 100. */
  maxFields?: number
  /** Largest non-file field, in bytes (413 beyond it). Default 64 KiB. */
  maxFieldBytes?: number
  /** Prepended to every file's key, such as `avatars/`. Default none. */
  prefix?: string
  /** Stops the upload and deletes what it stored: pass the request context's signal. */
  signal?: AbortSignal
}

export interface UploadedFile extends FileInfo {
  /** The form field the file came in. */
  field: string
  /** The name the client gave, made safe; for display only (the key is what identifies the file). */
  filename: string
}

export interface Upload {
  files: UploadedFile[]
  fields: Record<string, string>
}

const defaults = {
  maxFileBytes: 10_000_000,
  maxTotalBytes: 50_000_000,
  maxFiles: 10,
  maxFields: 100,
  maxFieldBytes: 64 * 1024,
}

/**
 * Reads a multipart/form-data request and stores each file in `storage` under
 * `<prefix><client file name made safe>` (made unique, as every put is). Rejects with a
 * SHIPSHAPE_E_UPLOAD_* error carrying its status (413, or 400 for a malformed body).
 */
export async function receiveUpload(
  req: IncomingMessage,
  storage: Storage,
  options: UploadOptions = {},
): Promise<Upload> {
  const limits = { ...defaults, ...options }
  const prefix = options.prefix ?? ''
  const declared = Number(req.headers['content-length'])
  if (declared > limits.maxTotalBytes) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_UPLOAD_TOO_LARGE',
      `the request is over ${limits.maxTotalBytes} bytes`,
    )
  }
  // The parser is loaded on the first upload, not when a worker starts.
  const { Busboy: Parser } = await import('@fastify/busboy')
  let parser: BusboyInstance
  try {
    // Names in `filename=` are decoded as UTF-8, as browsers send them (busboy took them as
    // latin1 by default: `résumé.png` became `rÃ©sumÃ©.png`); `filename*=` names their charset.
    parser = new Parser({
      headers: req.headers as BusboyHeaders,
      defCharset: 'utf8',
      preservePath: false,
      limits: {
        fileSize: limits.maxFileBytes,
        files: limits.maxFiles,
        fields: limits.maxFields,
        fieldSize: limits.maxFieldBytes,
      },
    })
  } catch (error) {
    throw new ShipshapeError('SHIPSHAPE_E_UPLOAD_MALFORMED', (error as Error).message)
  }

  const files: UploadedFile[] = []
  const fields: Record<string, string> = {}
  const writes: Promise<unknown>[] = []
  const open = new Set<PassThrough>()
  let failure: Error | undefined
  let parsed: () => void = () => {}
  const done = new Promise<void>((resolve) => {
    parsed = resolve
  })
  const fail = (error: Error) => {
    if (failure) return
    failure = error
    for (const stream of open) stream.destroy(error)
    parsed()
  }

  // The parser's events run in the socket's async context, not the request's: the write is bound
  // to the request's, so storage('name') finds the worker's storages there (not the process's).
  const put = AsyncResource.bind((...args: Parameters<Storage['put']>) => storage.put(...args))
  parser.on('file', (field, source, clientName) => {
    if (failure) {
      source.resume()
      return
    }
    // The storage reads from its own stream, so a limit or an abort can fail the write (and
    // remove its temporary data) however far the storage has got.
    const body = new PassThrough()
    open.add(body)
    source.on('limit', () =>
      fail(new ShipshapeError('SHIPSHAPE_E_UPLOAD_TOO_LARGE', `a file is over ${limits.maxFileBytes} bytes`)),
    )
    source.on('error', (error: Error) => fail(malformed(error)))
    source.pipe(body)
    const filename = safeFileName(clientName ?? '')
    writes.push(
      put(prefix + filename, body, { signal: options.signal }).then(
        (stored) => {
          open.delete(body)
          files.push({ ...stored, field, filename })
        },
        (error: Error) => {
          open.delete(body)
          source.resume()
          fail(error)
        },
      ),
    )
  })
  parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
    if (valueTruncated) {
      fail(
        new ShipshapeError(
          'SHIPSHAPE_E_UPLOAD_TOO_LARGE',
          `field ${JSON.stringify(name)} is over ${limits.maxFieldBytes} bytes`,
        ),
      )
    } else if (!(name in fields)) fields[name] = value
  })
  parser.on('filesLimit', () =>
    fail(new ShipshapeError('SHIPSHAPE_E_UPLOAD_TOO_MANY_FILES', `more than ${limits.maxFiles} files`)),
  )
  parser.on('fieldsLimit', () =>
    fail(new ShipshapeError('SHIPSHAPE_E_UPLOAD_TOO_LARGE', `more than ${limits.maxFields} fields`)),
  )
  parser.on('error', (error: Error) => fail(malformed(error)))
  parser.on('finish', () => parsed())

  let received = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length
      if (received > limits.maxTotalBytes) {
        fail(
          new ShipshapeError(
            'SHIPSHAPE_E_UPLOAD_TOO_LARGE',
            `the request is over ${limits.maxTotalBytes} bytes`,
          ),
        )
        callback()
      } else callback(null, chunk)
    },
  })
  const onAbort = () => fail(options.signal?.reason ?? new Error('upload aborted'))
  const onClose = () => {
    if (!req.complete)
      fail(new ShipshapeError('SHIPSHAPE_E_UPLOAD_MALFORMED', 'the client went away mid-upload'))
  }
  options.signal?.addEventListener('abort', onAbort, { once: true })
  req.on('close', onClose)
  req.on('error', (error: Error) => fail(malformed(error)))
  // Not stream.pipeline(): on failure it would destroy the request, and with it the socket the
  // 413 has to go out on.
  req.pipe(counter).pipe(parser)
  try {
    await done
    await Promise.all(writes)
  } finally {
    options.signal?.removeEventListener('abort', onAbort)
    req.off('close', onClose)
  }
  if (failure) {
    // Stop parsing; the rest of the body is read and dropped so the client gets the answer.
    req.unpipe(counter)
    req.resume()
    // Whatever got stored before the failure goes too: the request is all or nothing.
    await Promise.allSettled(files.map((file) => storage.delete(file.key)))
    throw failure
  }
  return { files, fields }
}

function malformed(error: Error): Error {
  if (error instanceof ShipshapeError) return error
  return new ShipshapeError('SHIPSHAPE_E_UPLOAD_MALFORMED', error.message, { cause: error })
}
