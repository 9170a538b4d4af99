/**
 * Serving local media through a real pipeline and sockets: public files to anyone, private
 * files only with a valid signature, and ranges, conditional requests and HEAD as for static.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { serveMiddleware as serveWith } from '../_test/pipeline.js'
import type { AppHandler, Middleware } from '../types.js'
import { buildStorages, type Storages } from './_registry.js'
import { png } from './_test/fixtures.js'

/** Behind the media middleware, an app that answers whatever media did not. */
const app: AppHandler = async (ctx) => {
  ctx.res.writeHead(404, { 'Content-Type': 'text/plain' })
  ctx.res.end('answered by the app\n')
}
const serve = (middleware: Middleware[]) => serveWith(middleware, app)

import { mediaFiles } from './index.js'

const oldKey = 'o'.repeat(32)
const newKey = 'n'.repeat(32)
let root: string
let storages: Storages
let server: Awaited<ReturnType<typeof serve>>
const big = Buffer.alloc(100_000)
for (let i = 0; i < big.length; i++) big[i] = i % 251

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shipshape-media-'))
  storages = buildStorages({
    root,
    signingKeys: [newKey, oldKey],
    storages: {
      public: { visibility: 'public' },
      private: { visibility: 'private' },
      art: { visibility: 'public', inlineTypes: ['image/svg+xml'] },
    },
  })
  server = await serve([mediaFiles({ storages })])
})
afterAll(async () => {
  await server?.close()
  await rm(root, { recursive: true, force: true })
})

const path = (url: string) => url.replace(/^https?:\/\/[^/]+/, '')

describe('public media', () => {
  it('serves a public file with its type, inline when safe, nosniff and a sandbox', async () => {
    const avatar = await storages.get('public').put('avatars/me.png', png)
    const answer = await get(server.port, storages.get('public').url(avatar.key))
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual(png)
    expect(answer.headers['content-type']).toBe('image/png')
    expect(answer.headers['content-disposition']).toMatch(/^inline; filename=me-[a-z0-9]{8}\.png$/)
    expect(answer.headers['x-content-type-options']).toBe('nosniff')
    expect(answer.headers['content-security-policy']).toContain('sandbox')
    expect(answer.headers['cache-control']).toBe('public, max-age=3600')
  })

  it('serves HTML and SVG as attachments, unless the storage allows the type inline', async () => {
    const page = await storages.get('public').put('page.html', '<script>alert(document.cookie)</script>')
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    const logo = await storages.get('public').put('logo.svg', svg)
    const allowed = await storages.get('art').put('logo.svg', svg)
    for (const [key, storage] of [
      [page.key, 'public'],
      [logo.key, 'public'],
    ] as const) {
      const answer = await get(server.port, storages.get(storage).url(key))
      expect(answer.status).toBe(200)
      expect(answer.headers['content-disposition']).toMatch(/^attachment; /)
      expect(answer.headers['x-content-type-options']).toBe('nosniff')
    }
    // Inline as the storage allows, but from the site's own origin never as SVG (see below).
    const inline = await get(server.port, storages.get('art').url(allowed.key))
    expect(inline.headers['content-type']).toBe('application/octet-stream')
    expect(inline.headers['content-disposition']).toMatch(/^inline; /)
    expect(inline.headers['content-security-policy']).toContain('sandbox')
  })

  it('answers ranges, conditional requests and HEAD as static files do', async () => {
    const file = await storages.get('public').put('big.bin', big)
    const url = storages.get('public').url(file.key)
    const whole = await get(server.port, url)
    expect(whole.headers['accept-ranges']).toBe('bytes')
    const etag = whole.headers.etag as string
    expect(etag).toBeTruthy()
    const range = await get(server.port, url, { Range: 'bytes=1000-1999' })
    expect(range.status).toBe(206)
    expect(range.headers['content-range']).toBe(`bytes 1000-1999/${big.length}`)
    expect(range.body).toEqual(big.subarray(1000, 2000))
    expect((await get(server.port, url, { Range: 'bytes=200000-' })).status).toBe(416)
    expect((await get(server.port, url, { 'If-None-Match': etag })).status).toBe(304)
    const since = await get(server.port, url, {
      'If-Modified-Since': whole.headers['last-modified'] as string,
    })
    expect(since.status).toBe(304)
    const head = await get(server.port, url, {}, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe(String(big.length))
    expect(head.body.length).toBe(0)
    const post = await get(server.port, url, {}, 'POST')
    expect(post.status).toBe(405)
  })

  it('serves non-ASCII keys, naming the file for the browser in both forms', async () => {
    const file = await storages.get('public').put('cafe\u0301 menu.txt', 'menu', { overwrite: true })
    const answer = await get(server.port, storages.get('public').url(file.key))
    expect(answer.status).toBe(200)
    expect(answer.body.toString()).toBe('menu')
    expect(answer.headers['content-disposition']).toBe(
      `inline; filename="caf? menu.txt"; filename*=UTF-8''caf%C3%A9%20menu.txt`,
    )
  })

  it('never serves what is not a stored file: traversal, hidden files, directories, unknown storages', async () => {
    await storages.get('public').put('dir/inside.txt', 'x', { overwrite: true })
    await storages.get('private').put('secret.txt', 'SECRET', { overwrite: true })
    await storages.get('private').signedUrl('secret.txt') // a key file would exist now if one were generated
    await writeFile(join(root, 'public', '.hidden.txt'), 'SECRET')
    for (const bad of [
      '/media/public/..%2Fprivate%2Fsecret.txt',
      '/media/public/%2e%2e/private/secret.txt',
      '/media/public/../private/secret.txt',
      '/media/public/.hidden.txt',
      '/media/public/%2ehidden.txt',
      '/media/public/dir',
      '/media/public/dir/',
      '/media/public/',
      '/media/public/nothing-here.txt',
      '/media/public/a%00b',
      '/media/public/%E0%A4%A',
      '/media/public//dir/inside.txt',
    ]) {
      const answer = await get(server.port, bad)
      expect(answer.status, bad).toBe(404)
      expect(answer.body.toString()).not.toContain('SECRET')
    }
    for (const elsewhere of [
      '/media/',
      '/media/unknown/file.txt',
      '/media',
      '/mediax/public/a.txt',
      '/other',
    ]) {
      const answer = await get(server.port, elsewhere)
      expect(answer.body.toString(), elsewhere).toBe('answered by the app\n')
    }
  })
})

describe('private media', () => {
  it('serves a private file only through a valid signed link', async () => {
    const report = await storages.get('private').put('reports/q3.csv', 'a,b\n1,2\n')
    const link = path(await storages.get('private').signedUrl(report.key, { expiresIn: 300 }))
    const answer = await get(server.port, link)
    expect(answer.status).toBe(200)
    expect(answer.body.toString()).toBe('a,b\n1,2\n')
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(answer.headers['content-disposition']).toMatch(/^attachment; /)
    expect(answer.headers['cache-control']).toBe('private, no-cache')
    expect(answer.headers['x-content-type-options']).toBe('nosniff')
  })

  it('answers 403, revealing nothing, to unsigned, tampered and expired requests', async () => {
    const report = await storages.get('private').put('reports/q4.csv', 'SECRET,DATA\n')
    const link = path(await storages.get('private').signedUrl(report.key, { expiresIn: 300 }))
    const [base, query] = link.split('?') as [string, string]
    const expires = /expires=(\d+)/.exec(query)?.[1] as string
    const signature = /signature=([\w-]+)/.exec(query)?.[1] as string
    const signer = storages.local('private')?.signer
    const expired = `${base}?${signer?.sign('private', report.key, 60, Date.now() - 120_000)}`
    const otherFile = await storages.get('private').put('reports/other.csv', 'x')
    const cases = [
      base,
      `${base}?`,
      `${base}?expires=${expires}`,
      `${base}?signature=${signature}`,
      `${base}?expires=${Number(expires) + 3600}&signature=${signature}`,
      `${base}?expires=${expires}&signature=${signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`,
      `${base}?${query}&download=1`,
      `${base}?signature=${signature}&expires=${expires}`,
      `/media/private/reports/other.csv?${query}`,
      `/media/private/${otherFile.key}?${query}`,
      `/media/private/reports/missing.csv?${query}`,
      '/media/private/reports/missing.csv',
      `/media/private/..%2F..%2Fetc%2Fpasswd?${query}`,
      `/media/private/.signing-key`,
      expired,
    ]
    const answers = await Promise.all(cases.map((url) => get(server.port, url)))
    for (const [i, answer] of answers.entries()) {
      expect(answer.status, cases[i]).toBe(403)
      expect(answer.body.toString()).toBe('Forbidden\n')
      expect(answer.headers['content-length']).toBe('10')
      expect(answer.headers.etag).toBeUndefined()
      expect(answer.headers['last-modified']).toBeUndefined()
    }
    // A link signed for the public storage's path does not open the private one.
    const publicSigned = path(await storages.get('public').signedUrl('reports/q4.csv'))
    expect((await get(server.port, publicSigned.replace('/public/', '/private/'))).status).toBe(403)
  })

  it('answers 404 to a valid link whose file is gone, ranges and conditionals to valid links', async () => {
    const file = await storages.get('private').put('data.bin', big)
    const link = path(await storages.get('private').signedUrl(file.key))
    const range = await get(server.port, link, { Range: 'bytes=0-9' })
    expect(range.status).toBe(206)
    expect(range.body).toEqual(big.subarray(0, 10))
    const etag = range.headers.etag as string
    expect((await get(server.port, link, { 'If-None-Match': etag })).status).toBe(304)
    expect((await get(server.port, link, {}, 'HEAD')).status).toBe(200)
    await storages.get('private').delete(file.key)
    expect((await get(server.port, link)).status).toBe(404)
  })

  it('accepts links signed with an older key while it is still listed, and not after', async () => {
    const file = await storages.get('private').put('rotated.txt', 'rotated')
    const before = buildStorages({ root, signingKeys: [oldKey] })
    const oldLink = path(await before.get('private').signedUrl(file.key))
    expect((await get(server.port, oldLink)).status).toBe(200)
    const after = buildStorages({ root, signingKeys: [newKey] })
    const rotated = await serve([mediaFiles({ storages: after })])
    try {
      expect((await get(rotated.port, oldLink)).status).toBe(403)
      const newLink = path(await after.get('private').signedUrl(file.key))
      expect((await get(rotated.port, newLink)).status).toBe(200)
    } finally {
      await rotated.close()
    }
  })

  it('refuses every link when no key was ever generated, without creating one', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'shipshape-media-'))
    try {
      const keyless = buildStorages({ root: fresh })
      const other = await serve([mediaFiles({ storages: keyless })])
      try {
        const forged = path(await storages.get('private').signedUrl('x.txt'))
        expect((await get(other.port, forged)).status).toBe(403)
        expect(await readdir(fresh)).toEqual([])
      } finally {
        await other.close()
      }
    } finally {
      await rm(fresh, { recursive: true, force: true })
    }
  })
})
