/**
 * Serving local media through a real pipeline and sockets: public files to anyone, private
 * files only with a valid signature, and ranges, conditional requests and HEAD as for static.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, serve as serveWith } from '../static/_test/server.js'
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

describe('types a browser runs or applies', () => {
  // Each name with what it holds: none has magic numbers, so the extension decides the type.
  const active: [string, string][] = [
    ['app.js', 'fetch("/account", { method: "DELETE" })'],
    ['module.mjs', 'export const x = 1'],
    ['server.cjs', 'module.exports = 1'],
    ['site.css', 'body { display: none }'],
    ['page.html', '<script>alert(1)</script>'],
    ['page.xhtml', '<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>'],
    ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
    ['feed.xml', '<?xml version="1.0"?><a/>'],
    ['transform.xsl', '<xsl:stylesheet version="1.0"/>'],
    ['transform.xslt', '<xsl:stylesheet version="1.0"/>'],
    ['data.json', '{"a":1}'],
    ['app.webmanifest', '{"start_url":"/"}'],
    ['data.jsonld', '{"@context":"https://schema.org"}'],
    ['captions.vtt', 'WEBVTT\n\nSTYLE\n::cue { color: red }\n'],
    ['notes.md', '# notes'],
  ]

  it('serves each as application/octet-stream from the site, under nosniff', async () => {
    const wasm = await storages.get('public').put('code.wasm', Buffer.from('0061736d01000000', 'hex'))
    const stored = [
      wasm,
      ...(await Promise.all(active.map(([name, body]) => storages.get('public').put(name, body)))),
    ]
    for (const file of stored) {
      const answer = await get(server.port, storages.get('public').url(file.key))
      expect(answer.status, file.key).toBe(200)
      expect(answer.headers['content-type'], file.key).toBe('application/octet-stream')
      expect(answer.headers['x-content-type-options']).toBe('nosniff')
    }
    // The stored type is still what the file is; only how it is served changes.
    expect(stored.find((file) => /^app-[a-z0-9]{8}\.js$/.test(file.key))?.contentType).toBe('text/javascript')
  })

  it('keeps the type of what a browser only shows or plays', async () => {
    for (const [name, body, type] of [
      ['photo.png', png, 'image/png'],
      ['notes.txt', 'plain', 'text/plain; charset=utf-8'],
      ['table.csv', 'a,b\n', 'text/csv; charset=utf-8'],
    ] as const) {
      const file = await storages.get('public').put(name, body)
      const answer = await get(server.port, storages.get('public').url(file.key))
      expect(answer.headers['content-type'], name).toBe(type)
    }
  })

  it('serves the real type only on requests for a separate media origin', async () => {
    const origin = 'https://media.example-usercontent.test'
    const separate = buildStorages({
      root,
      signingKeys: [newKey],
      origin,
      storages: {
        public: { visibility: 'public' },
        art: { visibility: 'public', inlineTypes: ['image/svg+xml'] },
      },
    })
    const mediaServer = await serve([mediaFiles({ storages: separate })])
    try {
      const script = await separate.get('public').put('app.js', 'console.log(1)')
      const logo = await separate.get('art').put('logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
      const scriptUrl = separate.get('public').url(script.key)
      expect(scriptUrl.startsWith(`${origin}/media/public/`)).toBe(true)
      expect((await separate.get('public').signedUrl(script.key)).startsWith(`${origin}/media/`)).toBe(true)
      const onMedia = await get(mediaServer.port, path(scriptUrl), { Host: 'media.example-usercontent.test' })
      expect(onMedia.headers['content-type']).toBe('text/javascript; charset=utf-8')
      expect(onMedia.headers['content-disposition']).toMatch(/^attachment; /)
      const svg = await get(mediaServer.port, path(separate.get('art').url(logo.key)), {
        Host: 'MEDIA.example-usercontent.test',
      })
      expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/)
      expect(svg.headers['content-disposition']).toMatch(/^inline; /)
      // The same file asked for on any other host (the site's own) is not a script.
      for (const host of ['www.example.test', 'media.example-usercontent.test.evil.test', '127.0.0.1']) {
        const elsewhere = await get(mediaServer.port, path(scriptUrl), { Host: host })
        expect(elsewhere.headers['content-type'], host).toBe('application/octet-stream')
      }
    } finally {
      await mediaServer.close()
    }
    expect(() => buildStorages({ root, origin: 'https://media.example.test/path' })).toThrow(
      /origin must be an origin/,
    )
  })
})

describe('symbolic links below a storage', () => {
  it('never reads, lists, removes or writes through a link to a directory or file outside', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'shipshape-outside-'))
    try {
      await writeFile(join(outside, 'secret.txt'), 'SECRET')
      await storages.get('public').put('real/file.txt', 'x', { overwrite: true })
      await symlink(outside, join(root, 'public', 'linkdir'))
      await symlink(outside, join(root, 'public', 'real', 'nested-link'))
      await symlink(join(outside, 'secret.txt'), join(root, 'public', 'linkfile.txt'))
      await symlink('/etc', join(root, 'public', 'etc'))
      for (const url of [
        '/media/public/linkdir/secret.txt',
        '/media/public/real/nested-link/secret.txt',
        '/media/public/linkfile.txt',
        '/media/public/etc/passwd',
        '/media/public/etc/hostname',
      ]) {
        const answer = await get(server.port, url)
        expect(answer.status, url).toBe(404)
        expect(answer.body.toString()).not.toContain('SECRET')
      }
      const publicStorage = storages.get('public')
      for (const key of ['linkdir/secret.txt', 'real/nested-link/secret.txt', 'linkfile.txt', 'etc/passwd']) {
        expect(await publicStorage.exists(key), key).toBe(false)
        await expect(publicStorage.get(key)).rejects.toMatchObject({ code: 'SHIPSHAPE_E_STORAGE_NOT_FOUND' })
        await publicStorage.delete(key)
      }
      const listed: string[] = []
      for await (const file of publicStorage.list()) listed.push(file.key)
      expect(listed.filter((key) => /linkdir|nested-link|linkfile|^etc\//.test(key))).toEqual([])
      for await (const file of publicStorage.list('linkdir/')) listed.push(file.key)
      expect(listed.some((key) => key.startsWith('linkdir/'))).toBe(false)
      await expect(publicStorage.put('linkdir/planted.txt', 'x')).rejects.toMatchObject({
        code: 'SHIPSHAPE_E_STORAGE_LINK',
      })
      await expect(publicStorage.put('real/nested-link/deep/planted.txt', 'x')).rejects.toMatchObject({
        code: 'SHIPSHAPE_E_STORAGE_LINK',
      })
      await expect(
        publicStorage.put('linkfile.txt', 'overwritten', { overwrite: true }),
      ).resolves.toBeDefined()
      // Nothing outside changed: the secret is still there, nothing was planted or created.
      expect(await readdir(outside)).toEqual(['secret.txt'])
      expect(await readFile(join(outside, 'secret.txt'), 'utf8')).toBe('SECRET')
    } finally {
      for (const name of ['linkdir', 'real/nested-link', 'linkfile.txt', 'etc'])
        await rm(join(root, 'public', name), { force: true })
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('follows a link that is the storage directory itself, as a deploy links shared media', async () => {
    const shared = await mkdtemp(join(tmpdir(), 'shipshape-shared-'))
    const linkedRoot = await mkdtemp(join(tmpdir(), 'shipshape-linked-'))
    try {
      await mkdir(join(shared, 'public'))
      await symlink(join(shared, 'public'), join(linkedRoot, 'public'))
      const linked = buildStorages({ root: linkedRoot, signingKeys: [newKey] })
      const other = await serve([mediaFiles({ storages: linked })])
      try {
        const file = await linked.get('public').put('a/b.txt', 'through the link')
        expect(await readFile(join(shared, 'public', ...file.key.split('/')), 'utf8')).toBe(
          'through the link',
        )
        const answer = await get(other.port, linked.get('public').url(file.key))
        expect(answer.body.toString()).toBe('through the link')
      } finally {
        await other.close()
      }
    } finally {
      await rm(shared, { recursive: true, force: true })
      await rm(linkedRoot, { recursive: true, force: true })
    }
  })
})
