/**
 * The Storage API's behaviour, run the same on both drivers: the local directory and an
 * S3-compatible server (s3rver on loopback).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildStorages } from './_registry.js'
import { gif, png } from './_test/fixtures.js'
import { type S3Server, startS3 } from './_test/s3.js'
import type { Storage } from './index.js'

const signingKeys = ['k'.repeat(32)]
let s3: S3Server
let root: string

beforeAll(async () => {
  s3 = await startS3()
  root = await mkdtemp(join(tmpdir(), 'shipshape-media-'))
})
afterAll(async () => {
  await s3?.close()
  await rm(root, { recursive: true, force: true })
})

async function collect(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = []
  for await (const file of iterable) keys.push(file.key)
  return keys
}

async function text(body: Readable): Promise<string> {
  let out = ''
  for await (const chunk of body) out += chunk
  return out
}

const drivers = [
  ['local', () => buildStorages({ root, signingKeys })],
  ['s3', () => buildStorages({ driver: 's3', s3: s3.settings })],
] as const

describe.each(drivers)('%s driver', (driverName, make) => {
  let pub: Storage
  let priv: Storage
  beforeAll(() => {
    const storages = make()
    pub = storages.get('public')
    priv = storages.get('private')
  })

  it('puts from a buffer, a string and a stream, and gets the bytes back', async () => {
    const fromBuffer = await pub.put('notes/a.txt', Buffer.from('from a buffer'))
    const fromString = await pub.put('notes/b.txt', 'from a string')
    const fromStream = await pub.put(
      'notes/c.txt',
      Readable.from([Buffer.from('from '), Buffer.from('a stream')]),
    )
    for (const [file, expected] of [
      [fromBuffer, 'from a buffer'],
      [fromString, 'from a string'],
      [fromStream, 'from a stream'],
    ] as const) {
      expect(file.size).toBe(expected.length)
      expect(file.contentType).toBe('text/plain')
      const { body, info } = await pub.get(file.key)
      expect(await text(body)).toBe(expected)
      expect(info.size).toBe(expected.length)
    }
  })

  it('never overwrites silently: the same name twice gives two keys, unless asked', async () => {
    const first = await pub.put('avatar.png', png)
    const second = await pub.put('avatar.png', png)
    expect(first.key).toMatch(/^avatar-[a-z0-9]{8}\.png$/)
    expect(second.key).not.toBe(first.key)
    expect(await pub.exists(first.key)).toBe(true)
    expect(await pub.exists(second.key)).toBe(true)

    const exact = await pub.put('fixed/name.txt', 'one', { overwrite: true })
    expect(exact.key).toBe('fixed/name.txt')
    await pub.put('fixed/name.txt', 'two', { overwrite: true })
    expect(await text((await pub.get('fixed/name.txt')).body)).toBe('two')
  })

  it('takes the content type from the bytes, then the extension, never anything else', async () => {
    const disguised = await pub.put('photo.html', png)
    expect(disguised.contentType).toBe('image/png')
    expect(disguised.key).toMatch(/^photo-[a-z0-9]{8}\.png$/)
    const renamed = await pub.put('pic.png', gif)
    expect(renamed.contentType).toBe('image/gif')
    expect(renamed.key).toMatch(/\.gif$/)
    const page = await pub.put('page.html', '<script>alert(1)</script>')
    expect(page.contentType).toBe('text/html')
    const unknown = await pub.put('blob', Buffer.from([1, 2, 3]))
    expect(unknown.contentType).toBe('application/octet-stream')
    // An extension naming a type with magic numbers is not believed when the bytes disagree.
    const fake = await pub.put('fake.png', '<script>alert(1)</script>')
    expect(fake.contentType).toBe('application/octet-stream')
    expect(fake.key).toMatch(/^fake-[a-z0-9]{8}\.bin$/)
    const csv = await pub.put('data.csv', 'a,b\n')
    expect(csv.contentType).toBe('text/csv')
    expect((await pub.stat(disguised.key))?.contentType).toBe('image/png')
  })

  it('normalises non-ASCII names and rejects dangerous keys on every operation', async () => {
    const stored = await pub.put('re\u0301sume\u0301.txt', 'cv', { overwrite: true })
    expect(stored.key).toBe('résumé.txt')
    expect(await pub.exists('résumé.txt')).toBe(true)
    for (const bad of ['../escape.txt', '/abs.txt', 'a\nb.txt', 'a/../../b', '.hidden']) {
      const code = { code: 'SHIPSHAPE_E_STORAGE_KEY' }
      await expect(pub.put(bad, 'x')).rejects.toMatchObject(code)
      await expect(pub.get(bad)).rejects.toMatchObject(code)
      await expect(pub.exists(bad)).rejects.toMatchObject(code)
      await expect(pub.stat(bad)).rejects.toMatchObject(code)
      await expect(pub.delete(bad)).rejects.toMatchObject(code)
      expect(() => pub.url(bad)).toThrow(expect.objectContaining(code))
      await expect(priv.signedUrl(bad)).rejects.toMatchObject(code)
    }
    expect(() => pub.list('../')).toThrow(expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_KEY' }))
  })

  it('stats, deletes, and reports missing files plainly', async () => {
    const file = await pub.put('gone/soon.txt', 'bye')
    const info = await pub.stat(file.key)
    expect(info).toMatchObject({ key: file.key, size: 3, contentType: 'text/plain' })
    expect(info?.lastModified).toBeInstanceOf(Date)
    await pub.delete(file.key)
    expect(await pub.exists(file.key)).toBe(false)
    expect(await pub.stat(file.key)).toBeUndefined()
    await expect(pub.get(file.key)).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_STORAGE_NOT_FOUND',
      status: 404,
    })
    await expect(pub.delete(file.key)).resolves.toBeUndefined()
  })

  it('lists by prefix, in key order, within its own storage only', async () => {
    await priv.put('list/b.txt', 'b', { overwrite: true })
    await priv.put('list/a.txt', 'a', { overwrite: true })
    await priv.put('list/sub/c.txt', 'c', { overwrite: true })
    await priv.put('listing.txt', 'd', { overwrite: true })
    await pub.put('list/public.txt', 'p', { overwrite: true })
    expect(await collect(priv.list('list/'))).toEqual(['list/a.txt', 'list/b.txt', 'list/sub/c.txt'])
    expect(await collect(priv.list('list'))).toEqual([
      'list/a.txt',
      'list/b.txt',
      'list/sub/c.txt',
      'listing.txt',
    ])
    expect(await collect(priv.list('list/s'))).toEqual(['list/sub/c.txt'])
    expect(await collect(priv.list('nothing/'))).toEqual([])
    expect(await collect(priv.list())).toContain('listing.txt')
  })

  it('gives public files a URL and private files only signed, expiring ones', async () => {
    const avatar = await pub.put('a/b c.png', png)
    expect(pub.url(avatar.key)).toMatch(/\/public\/a\/b%20c-[a-z0-9]{8}\.png$/)
    const report = await priv.put('report.csv', 'a,b\n')
    expect(() => priv.url(report.key)).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_PRIVATE' }),
    )
    const link = new URL(await priv.signedUrl(report.key, { expiresIn: 300 }), 'http://host')
    if (driverName === 'local') {
      expect(link.pathname).toBe(`/media/private/${report.key}`)
      expect(link.searchParams.get('expires')).toMatch(/^\d+$/)
      expect(link.searchParams.get('signature')).toMatch(/^[\w-]{43}$/)
    } else {
      expect(link.searchParams.get('X-Amz-Expires')).toBe('300')
      expect(link.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
    }
    // The default expiry is an hour; nothing is ever signed forever.
    const plain = new URL(await priv.signedUrl(report.key), 'http://host')
    const expiry = plain.searchParams.get('expires') ?? plain.searchParams.get('X-Amz-Expires')
    expect(expiry).toBeTruthy()
    for (const expiresIn of [0, -1, 604_801, 1.5]) {
      await expect(priv.signedUrl(report.key, { expiresIn })).rejects.toMatchObject({
        code: 'SHIPSHAPE_E_STORAGE_EXPIRY',
      })
    }
    await expect(priv.signedUrl(report.key, { expiresIn: 604_800 })).resolves.toBeTruthy()
  })

  it('leaves nothing behind when the body fails part-way', async () => {
    async function* failing() {
      yield Buffer.alloc(64 * 1024, 1)
      throw new Error('the client went away')
    }
    await expect(pub.put('broken/upload.bin', Readable.from(failing()))).rejects.toThrow(/went away/)
    expect(await collect(pub.list('broken/'))).toEqual([])
    if (driverName === 'local') {
      const entries = await readdir(join(root, 'public'))
      expect(entries.filter((entry) => entry.startsWith('.upload-'))).toEqual([])
    }
  })

  it('stops a write when its signal fires, leaving nothing', async () => {
    const controller = new AbortController()
    const slow = new Readable({ read() {} })
    slow.push(Buffer.alloc(32 * 1024))
    const writing = pub.put('aborted/file.bin', slow, { signal: controller.signal })
    setTimeout(() => controller.abort(new Error('stop')), 50)
    await expect(writing).rejects.toThrow()
    expect(await collect(pub.list('aborted/'))).toEqual([])
    const already = new AbortController()
    already.abort()
    await expect(pub.put('aborted/never.txt', 'x', { signal: already.signal })).rejects.toThrow()
  })

  it('refuses a put of something that is not bytes', async () => {
    await expect(pub.put('x.txt', 42 as unknown as string)).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_ARGUMENT',
      message: expect.stringContaining('got number'),
    })
    await expect(pub.put('x.txt', null as unknown as string)).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_ARGUMENT',
      message: expect.stringContaining('got null'),
    })
  })
})
