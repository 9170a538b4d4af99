/**
 * The multipart upload helper behind a real HTTP server, on both drivers: limits answer 413,
 * malformed bodies 400, and no failure leaves a file (or a temporary file) behind.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isShipshapeError } from '../errors/index.js'
import { buildStorages } from './_registry.js'
import { png } from './_test/fixtures.js'
import { type S3Server, startS3 } from './_test/s3.js'
import { receiveUpload, type Storage, type UploadOptions } from './index.js'

let s3: S3Server
let root: string
beforeAll(async () => {
  s3 = await startS3()
  root = await mkdtemp(join(tmpdir(), 'shipshape-upload-'))
})
afterAll(async () => {
  await s3?.close()
  await rm(root, { recursive: true, force: true })
})

const boundary = '----shipshape-test-boundary'
/** `filename` goes out as raw UTF-8 in `filename="…"`; `encodedName` as RFC 8187 `filename*=UTF-8''…`. */
type Part = { field: string; filename?: string; encodedName?: string; type?: string; data: Buffer | string }

function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = []
  for (const part of parts) {
    const disposition = part.filename
      ? `form-data; name="${part.field}"; filename="${part.filename}"`
      : part.encodedName
        ? `form-data; name="${part.field}"; filename*=UTF-8''${encodeURIComponent(part.encodedName)}`
        : `form-data; name="${part.field}"`
    chunks.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`,
      ),
      Buffer.from(part.data),
      Buffer.from('\r\n'),
    )
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}

interface Answer {
  status: number
  body: string
}

/** A server answering each upload with its result (200 JSON) or its error's status and code. */
async function uploadServer(storage: Storage, options: UploadOptions) {
  const settled: Promise<unknown>[] = []
  const server: Server = createServer((req, res) => {
    settled.push(
      receiveUpload(req, storage, options).then(
        (upload) => res.end(JSON.stringify(upload)),
        (error: unknown) => {
          res.statusCode = isShipshapeError(error) ? error.status : 500
          res.end(isShipshapeError(error) ? error.code : String(error))
        },
      ),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const send = (body: Buffer, headers: Record<string, string | number> = {}, chunked = false) =>
    new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          port,
          host: '127.0.0.1',
          method: 'POST',
          headers: {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            ...(chunked ? {} : { 'content-length': body.length }),
            ...headers,
          },
        },
        (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  return {
    send,
    port,
    settled,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function keys(storage: Storage, prefix = ''): Promise<string[]> {
  const found: string[] = []
  for await (const file of storage.list(prefix)) found.push(file.key)
  return found
}

const drivers = [
  ['local', () => buildStorages({ root, signingKeys: ['k'.repeat(32)] })],
  ['s3', () => buildStorages({ driver: 's3', s3: s3.settings })],
] as const

describe.each(drivers)('receiveUpload on the %s driver', (driverName, make) => {
  let storage: Storage
  beforeAll(() => {
    storage = make().get('public')
  })

  async function noLeftovers(prefix: string) {
    expect(await keys(storage, prefix)).toEqual([])
    if (driverName === 'local') {
      const entries = await readdir(join(root, 'public')).catch(() => [])
      expect(entries.filter((entry) => entry.startsWith('.'))).toEqual([])
    }
  }

  it('stores each file under a safe, unique key with the type from its bytes', async () => {
    const server = await uploadServer(storage, { prefix: 'ok/' })
    try {
      const answer = await server.send(
        multipart([
          { field: 'title', data: 'Holiday' },
          { field: 'photo', filename: '../../etc/evil.html', type: 'text/html', data: png },
          { field: 'notes', filename: 'notes.txt', type: 'image/png', data: 'just text' },
        ]),
      )
      expect(answer.status).toBe(200)
      const upload = JSON.parse(answer.body)
      expect(upload.fields).toEqual({ title: 'Holiday' })
      expect(upload.files).toHaveLength(2)
      const photo = upload.files.find((file: { field: string }) => file.field === 'photo')
      expect(photo.key).toMatch(/^ok\/evil-[a-z0-9]{8}\.png$/)
      expect(photo.contentType).toBe('image/png')
      expect(photo.filename).toBe('evil.html')
      expect(photo.size).toBe(png.length)
      const notes = upload.files.find((file: { field: string }) => file.field === 'notes')
      expect(notes.contentType).toBe('text/plain')
      expect((await keys(storage, 'ok/')).sort()).toEqual([notes.key, photo.key].sort())
    } finally {
      await server.close()
    }
  })

  it('keeps UTF-8 names, sent raw in filename= or encoded in filename*=', async () => {
    const server = await uploadServer(storage, { prefix: 'utf8/' })
    try {
      const answer = await server.send(
        multipart([
          { field: 'raw', filename: 'résumé.png', data: png },
          { field: 'encoded', encodedName: 'résumé.png', data: png },
          // Persian needs the zero-width non-joiner; it cannot reorder text, so it stays.
          { field: 'persian', encodedName: 'می\u200cخواهم.txt', data: 'text' },
        ]),
      )
      expect(answer.status).toBe(200)
      const { files } = JSON.parse(answer.body) as {
        files: { field: string; key: string; filename: string }[]
      }
      const byField = Object.fromEntries(files.map((file) => [file.field, file]))
      for (const field of ['raw', 'encoded']) {
        expect(byField[field]?.filename).toBe('résumé.png')
        expect(byField[field]?.key).toMatch(/^utf8\/résumé-[a-z0-9]{8}\.png$/)
      }
      expect(byField.persian?.filename).toBe('می\u200cخواهم.txt')
      expect((await storage.get(byField.raw?.key as string)).info.size).toBe(png.length)
    } finally {
      await server.close()
    }
  })

  it('strips bidirectional and other format characters from names in either form', async () => {
    const server = await uploadServer(storage, { prefix: 'bidi/' })
    try {
      const spoofed = 'invoice\u202efdp.exe'
      const answer = await server.send(
        multipart([
          { field: 'encoded', encodedName: spoofed, data: 'MZ' },
          { field: 'raw', filename: spoofed, data: 'MZ' },
          { field: 'isolates', encodedName: 'a\u2066b\u2069\u200e\u061c\ufeff\u00ad\u200bc.txt', data: 'x' },
        ]),
      )
      expect(answer.status).toBe(200)
      const { files } = JSON.parse(answer.body) as {
        files: { field: string; key: string; filename: string }[]
      }
      const byField = Object.fromEntries(files.map((file) => [file.field, file]))
      for (const field of ['encoded', 'raw']) {
        expect(byField[field]?.filename).toBe('invoicefdp.exe')
        expect(byField[field]?.key).toMatch(/^bidi\/invoicefdp-[a-z0-9]{8}\.exe$/)
      }
      expect(byField.isolates?.filename).toBe('abc.txt')
      for (const file of files) expect(file.key).not.toMatch(/\p{Cf}/u)
    } finally {
      await server.close()
    }
  })

  it('answers 413 for a file over the per-file limit, and keeps none of the request', async () => {
    const server = await uploadServer(storage, { prefix: 'perfile/', maxFileBytes: 100_000 })
    try {
      const answer = await server.send(
        multipart([
          { field: 'a', filename: 'small.bin', data: Buffer.alloc(1000, 1) },
          { field: 'b', filename: 'large.bin', data: Buffer.alloc(300_000, 2) },
        ]),
      )
      expect(answer).toEqual({ status: 413, body: 'SHIPSHAPE_E_UPLOAD_TOO_LARGE' })
      await Promise.all(server.settled)
      await noLeftovers('perfile/')
    } finally {
      await server.close()
    }
  })

  it('answers 413 for a request over the per-request limit, declared or chunked', async () => {
    const server = await uploadServer(storage, {
      prefix: 'total/',
      maxFileBytes: 1_000_000,
      maxTotalBytes: 200_000,
    })
    try {
      const body = multipart([
        { field: 'a', filename: 'a.bin', data: Buffer.alloc(150_000, 1) },
        { field: 'b', filename: 'b.bin', data: Buffer.alloc(150_000, 2) },
      ])
      expect(await server.send(body)).toEqual({ status: 413, body: 'SHIPSHAPE_E_UPLOAD_TOO_LARGE' })
      expect(await server.send(body, {}, true)).toEqual({ status: 413, body: 'SHIPSHAPE_E_UPLOAD_TOO_LARGE' })
      await Promise.all(server.settled)
      await noLeftovers('total/')
    } finally {
      await server.close()
    }
  })

  it('answers 413 past the file-count limit and removes the files already stored', async () => {
    const server = await uploadServer(storage, { prefix: 'count/', maxFiles: 2 })
    try {
      const files = [1, 2, 3].map((n) => ({ field: `f${n}`, filename: `${n}.txt`, data: `file ${n}` }))
      expect(await server.send(multipart(files))).toEqual({
        status: 413,
        body: 'SHIPSHAPE_E_UPLOAD_TOO_MANY_FILES',
      })
      await Promise.all(server.settled)
      await noLeftovers('count/')
    } finally {
      await server.close()
    }
  })

  it('answers 413 for a field over its limit or too many fields', async () => {
    const server = await uploadServer(storage, { prefix: 'fields/', maxFieldBytes: 10, maxFields: 2 })
    try {
      expect(await server.send(multipart([{ field: 'long', data: 'x'.repeat(11) }]))).toEqual({
        status: 413,
        body: 'SHIPSHAPE_E_UPLOAD_TOO_LARGE',
      })
      const many = [1, 2, 3].map((n) => ({ field: `f${n}`, data: 'x' }))
      expect((await server.send(multipart(many))).status).toBe(413)
    } finally {
      await server.close()
    }
  })

  it('answers 400 for a body that is not multipart or is cut short', async () => {
    const server = await uploadServer(storage, { prefix: 'bad/' })
    try {
      const json = await server.send(Buffer.from('{"a":1}'), { 'content-type': 'application/json' })
      expect(json).toEqual({ status: 400, body: 'SHIPSHAPE_E_UPLOAD_MALFORMED' })
      const noBoundary = await server.send(Buffer.from('x'), { 'content-type': 'multipart/form-data' })
      expect(noBoundary.status).toBe(400)
      const whole = multipart([{ field: 'a', filename: 'a.txt', data: 'x'.repeat(10_000) }])
      const truncated = await server.send(whole.subarray(0, 5000))
      expect(truncated).toEqual({ status: 400, body: 'SHIPSHAPE_E_UPLOAD_MALFORMED' })
      await Promise.all(server.settled)
      await noLeftovers('bad/')
    } finally {
      await server.close()
    }
  })

  it('leaves nothing behind when the client goes away mid-upload', async () => {
    const server = await uploadServer(storage, {
      prefix: 'aborted/',
      maxFileBytes: 50_000_000,
      maxTotalBytes: 50_000_000,
    })
    try {
      const head = multipart([{ field: 'a', filename: 'a.bin', data: Buffer.alloc(10 * 1024 * 1024) }])
      const req = request({
        port: server.port,
        host: '127.0.0.1',
        method: 'POST',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': head.length,
        },
      })
      req.on('error', () => {})
      req.write(head.subarray(0, 9 * 1024 * 1024))
      await new Promise((resolve) => setTimeout(resolve, 300))
      req.destroy()
      await new Promise((resolve) => setTimeout(resolve, 50))
      await Promise.all(server.settled)
      expect(server.settled).toHaveLength(1)
      await noLeftovers('aborted/')
    } finally {
      await server.close()
    }
  })
})

describe('file modes on the local driver', () => {
  it('makes private directories 0700 and files 0600, public ones 0755 and 0644 under the umask', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'shipshape-modes-'))
    try {
      const media = join(fresh, 'media')
      const storages = buildStorages({ root: media, signingKeys: ['k'.repeat(32)] })
      const mask = process.umask()
      for (const [name, directoryMode, fileMode] of [
        ['private', 0o700, 0o600],
        ['public', 0o755 & ~mask, 0o644 & ~mask],
      ] as const) {
        const server = await uploadServer(storages.get(name), { prefix: 'nested/' })
        try {
          const answer = await server.send(multipart([{ field: 'f', filename: 'a.txt', data: 'x' }]))
          expect(answer.status).toBe(200)
          const [file] = JSON.parse(answer.body).files as { key: string }[]
          const mode = async (path: string) => (await stat(path)).mode & 0o777
          expect(await mode(join(media, name))).toBe(directoryMode)
          expect(await mode(join(media, name, 'nested'))).toBe(directoryMode)
          expect(await mode(join(media, name, ...(file as { key: string }).key.split('/')))).toBe(fileMode)
        } finally {
          await server.close()
        }
      }
      // The media root, made by the first (private) upload, stays open: a public storage is under it.
      expect((await stat(media)).mode & 0o777).toBe(0o755 & ~mask)
    } finally {
      await rm(fresh, { recursive: true, force: true })
    }
  })
})
