/**
 * What only the S3 driver does: ACLs, presigned GET and POST, CDN domains, multipart streaming.
 * Against s3rver on loopback, through a recording proxy so the requests on the wire are checked;
 * signatures are checked by an independent SigV4 implementation (s3rver accepts any).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildStorages } from './_registry.js'
import { png } from './_test/fixtures.js'
import { type Recorded, recordingProxy } from './_test/recorder.js'
import { bucket, credentials, type S3Server, startS3 } from './_test/s3.js'
import { postPolicyIsValid, presignedUrlIsValid } from './_test/sigv4.js'

let s3: S3Server
let proxy: Awaited<ReturnType<typeof recordingProxy>>
let root: string

beforeAll(async () => {
  s3 = await startS3()
  proxy = await recordingProxy(s3.endpoint)
  root = await mkdtemp(join(tmpdir(), 'shipshape-media-'))
})
afterAll(async () => {
  await proxy?.close()
  await s3?.close()
  await rm(root, { recursive: true, force: true })
})
beforeEach(() => {
  proxy.seen.length = 0
})

const settings = () => ({ ...s3.settings, endpoint: proxy.endpoint })
const writes = (seen: Recorded[]) =>
  seen.filter((request) => request.method === 'PUT' || request.method === 'POST')

describe('S3 driver', () => {
  it('never writes a private object with an ACL, even for a multipart upload', async () => {
    const storages = buildStorages({ driver: 's3', s3: settings() })
    const priv = storages.get('private')
    await priv.put('secret.txt', 'top secret')
    await priv.put('big.bin', Readable.from([Buffer.alloc(9 * 1024 * 1024, 7)]))
    const sent = writes(proxy.seen)
    expect(sent.length).toBeGreaterThanOrEqual(4) // one PutObject, then create, parts, complete
    for (const request of sent) {
      expect(request.headers['x-amz-acl'], `${request.method} ${request.path}`).toBeUndefined()
      expect(request.path.startsWith(`/${bucket}/private/`)).toBe(true)
    }
  })

  it('writes public objects without an ACL by default, and with public-read only when asked', async () => {
    const plain = buildStorages({ driver: 's3', s3: settings() }).get('public')
    await plain.put('a.png', png)
    expect(writes(proxy.seen)[0]?.headers['x-amz-acl']).toBeUndefined()
    proxy.seen.length = 0
    const withAcl = buildStorages({
      driver: 's3',
      s3: settings(),
      storages: { avatars: { visibility: 'public', publicReadAcl: true } },
    }).get('avatars')
    await withAcl.put('a.png', png)
    expect(writes(proxy.seen)[0]?.headers['x-amz-acl']).toBe('public-read')
  })

  it('stores the detected type, and attachment for types a browser could run', async () => {
    const pub = buildStorages({ driver: 's3', s3: s3.settings }).get('public')
    const page = await pub.put('page.html', '<script>alert(document.cookie)</script>')
    const image = await pub.put('image.html', png)
    const pageResponse = await fetch(pub.url(page.key))
    expect(pageResponse.headers.get('content-type')).toBe('text/html')
    expect(pageResponse.headers.get('content-disposition')).toBe('attachment')
    const imageResponse = await fetch(pub.url(image.key))
    expect(imageResponse.headers.get('content-type')).toBe('image/png')
    expect(imageResponse.headers.get('content-disposition')).toBeNull()
    expect(Buffer.from(await imageResponse.arrayBuffer())).toEqual(png)

    const allowed = buildStorages({
      driver: 's3',
      s3: s3.settings,
      storages: { art: { visibility: 'public', inlineTypes: ['image/svg+xml'] } },
    }).get('art')
    const svg = await allowed.put('logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
    expect((await fetch(allowed.url(svg.key))).headers.get('content-disposition')).toBeNull()
  })

  it('hands out presigned GET URLs that are signed for the right host, key and expiry', async () => {
    const priv = buildStorages({ driver: 's3', s3: s3.settings }).get('private')
    const report = await priv.put('report.csv', 'a,b\n1,2\n')
    const link = await priv.signedUrl(report.key, { expiresIn: 300 })
    expect(presignedUrlIsValid(link, credentials.secretAccessKey)).toBe(true)
    expect(presignedUrlIsValid(link, 'another secret')).toBe(false)
    expect(presignedUrlIsValid(link.replace(report.key, 'other.csv'), credentials.secretAccessKey)).toBe(
      false,
    )
    expect(
      presignedUrlIsValid(
        link.replace('X-Amz-Expires=300', 'X-Amz-Expires=900'),
        credentials.secretAccessKey,
      ),
    ).toBe(false)
    expect(presignedUrlIsValid(link, credentials.secretAccessKey, new Date(Date.now() + 301_000))).toBe(false)
    const response = await fetch(link)
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('a,b\n1,2\n')
  })

  it('signs for a custom S3 domain, and refuses a CDN domain on a private storage at start-up', async () => {
    const custom = buildStorages({
      driver: 's3',
      s3: { ...s3.settings, endpoint: 'https://files.example.com' },
    }).get('private')
    const link = await custom.signedUrl('report.csv', { expiresIn: 60 })
    expect(new URL(link).host).toBe('files.example.com')
    expect(presignedUrlIsValid(link, credentials.secretAccessKey)).toBe(true)

    expect(() =>
      buildStorages({
        driver: 's3',
        s3: s3.settings,
        storages: { private: { visibility: 'private', publicUrl: 'https://cdn.example.com' } },
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'SHIPSHAPE_E_STORAGE_CONFIG',
        message: expect.stringMatching(/publicUrl/),
      }),
    )

    const cdn = buildStorages({
      driver: 's3',
      s3: s3.settings,
      storages: { public: { visibility: 'public', publicUrl: 'https://cdn.example.com/' } },
    }).get('public')
    expect(cdn.url('a b.png')).toBe('https://cdn.example.com/public/a%20b.png')
  })

  it('makes size-limited presigned POST forms that pin key, type and size', async () => {
    const priv = buildStorages({ driver: 's3', s3: s3.settings }).get('private')
    const form = await priv.presignedPost('uploads/photo.jpg', { maxBytes: 1_000_000, expiresIn: 600 })
    expect(form.key).toMatch(/^uploads\/photo-[a-z0-9]{8}\.jpg$/)
    expect(form.fields.key).toBe(`private/${form.key}`)
    expect(form.fields['Content-Type']).toBe('image/jpeg')
    expect(form.fields.acl).toBeUndefined()
    expect(postPolicyIsValid(form.fields, credentials.secretAccessKey)).toBe(true)
    expect(
      postPolicyIsValid({ ...form.fields, Policy: `${form.fields.Policy}x` }, credentials.secretAccessKey),
    ).toBe(false)
    const policy = JSON.parse(Buffer.from(form.fields.Policy as string, 'base64').toString()) as {
      expiration: string
      conditions: unknown[]
    }
    expect(policy.conditions).toContainEqual(['content-length-range', 1, 1_000_000])
    expect(policy.conditions).toContainEqual(['eq', '$Content-Type', 'image/jpeg'])
    expect(policy.conditions).toContainEqual({ key: `private/${form.key}` })
    const lifetime = Date.parse(policy.expiration) - Date.now()
    expect(lifetime).toBeGreaterThan(590_000)
    expect(lifetime).toBeLessThanOrEqual(600_000)

    // The form works against a real S3-protocol server.
    const body = new FormData()
    for (const [name, value] of Object.entries(form.fields)) body.append(name, value)
    body.append('file', new Blob([png]), 'photo.jpg')
    const posted = await fetch(form.url, { method: 'POST', body })
    expect(posted.status).toBeLessThan(300)
    expect(await priv.exists(form.key)).toBe(true)

    const html = await priv.presignedPost('page.html', { maxBytes: 1000 })
    expect(html.fields['Content-Disposition']).toBe('attachment')
    for (const maxBytes of [0, -1, 1.5, Number.NaN]) {
      await expect(priv.presignedPost('a.jpg', { maxBytes })).rejects.toMatchObject({
        code: 'SHIPSHAPE_E_STORAGE_CONFIG',
      })
    }
    await expect(priv.presignedPost('a.jpg', { maxBytes: 10, expiresIn: 604_801 })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_STORAGE_EXPIRY',
    })
    await expect(priv.presignedPost('../a.jpg', { maxBytes: 10 })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_STORAGE_KEY',
    })
  })

  it('refuses presigned POST on the local driver', async () => {
    const local = buildStorages({ root, signingKeys: ['k'.repeat(32)] }).get('private')
    await expect(local.presignedPost('a.jpg', { maxBytes: 10 })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_STORAGE_UNSUPPORTED',
    })
  })

  it('streams a large body up in parts, and leaves no object when it fails part-way', async () => {
    const pub = buildStorages({ driver: 's3', s3: s3.settings }).get('public')
    const size = 20 * 1024 * 1024 + 123
    async function* pattern() {
      for (let sent = 0; sent < size; ) {
        const chunk = Buffer.alloc(Math.min(1024 * 1024, size - sent), sent % 251)
        sent += chunk.length
        yield chunk
      }
    }
    const stored = await pub.put('big/file.bin', Readable.from(pattern()))
    expect(stored.size).toBe(size)
    const { body } = await pub.get(stored.key)
    let received = 0
    for await (const chunk of body) received += (chunk as Buffer).length
    expect(received).toBe(size)

    async function* failing() {
      yield* pattern()
      throw new Error('the client went away')
    }
    async function* failingEarly() {
      yield Buffer.alloc(12 * 1024 * 1024)
      throw new Error('the client went away')
    }
    await expect(pub.put('broken/late.bin', Readable.from(failing()))).rejects.toThrow(/went away/)
    await expect(pub.put('broken/early.bin', Readable.from(failingEarly()))).rejects.toThrow(/went away/)
    const left: string[] = []
    for await (const file of pub.list('broken/')) left.push(file.key)
    expect(left).toEqual([])
  })
})

describe('storage configuration', () => {
  it('reports every problem at once, before anything starts', () => {
    let error: Error | undefined
    try {
      buildStorages({
        root,
        urlPrefix: 'media',
        signingKeys: ['short'],
        storages: {
          'Bad Name': { visibility: 'public' },
          secret: { visibility: 'private', publicReadAcl: true },
          files: { visibility: 'hidden' as 'private' },
          cloud: { visibility: 'public', driver: 's3' },
          disk: { visibility: 'public', publicUrl: 'https://cdn.example.com' },
        },
      })
    } catch (caught) {
      error = caught as Error
    }
    expect(error).toMatchObject({ code: 'SHIPSHAPE_E_STORAGE_CONFIG' })
    for (const problem of [
      /urlPrefix/,
      /"Bad Name"/,
      /public ACL/,
      /"files": visibility/,
      /needs s3.bucket/,
      /S3 driver only/,
      /at least 32/,
    ]) {
      expect(error?.message).toMatch(problem)
    }
  })

  it('names the storages there are when asked for one there is not', () => {
    const storages = buildStorages({ root, signingKeys: ['k'.repeat(32)] })
    expect(storages.names).toEqual(['public', 'private'])
    expect(() => storages.get('avatars')).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_UNKNOWN' }),
    )
  })

  it('without a configured key, generates one once, keeps it private, and reuses it', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'shipshape-media-'))
    try {
      const first = buildStorages({ root: fresh }).get('private')
      const link = await first.signedUrl('a.txt')
      const again = buildStorages({ root: fresh })
      const path = new URL(link, 'http://x').pathname
      const query = new URL(link, 'http://x').search.slice(1)
      expect(path).toBe('/media/private/a.txt')
      expect(again.local('private')?.signer.verify('private', 'a.txt', query)).toBe(true)
      const { stat } = await import('node:fs/promises')
      const info = await stat(join(fresh, '.signing-key'))
      expect(info.mode & 0o777).toBe(0o600)
      expect(info.size).toBe(43)
      const other = buildStorages({ root, signingKeys: ['k'.repeat(32)] })
      expect(other.local('private')?.signer.verify('private', 'a.txt', query)).toBe(false)
    } finally {
      await rm(fresh, { recursive: true, force: true })
    }
  })
})
