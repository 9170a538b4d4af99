/**
 * What local media refuses to hand a browser, through a real pipeline and sockets: a type it
 * would run or apply, from the site's own origin; and any file reached through a symbolic link
 * below a storage's directory.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { serveMiddleware as serveWith } from '../_test/pipeline.js'
import { securityMiddleware } from '../security/index.js'
import type { AppHandler, Middleware } from '../types.js'
import { buildStorages, type Storages } from './_registry.js'
import { png } from './_test/fixtures.js'
import { mediaFiles } from './index.js'

const app: AppHandler = async (ctx) => {
  ctx.res.writeHead(404, { 'Content-Type': 'text/plain' })
  ctx.res.end('answered by the app\n')
}
const serve = (middleware: Middleware[]) => serveWith(middleware, app)

const newKey = 'n'.repeat(32)
let root: string
let storages: Storages
let server: Awaited<ReturnType<typeof serve>>

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'shipshape-media-'))
  storages = buildStorages({ root, signingKeys: [newKey] })
  server = await serve([mediaFiles({ storages })])
})
afterAll(async () => {
  await server?.close()
  await rm(root, { recursive: true, force: true })
})

const path = (url: string) => url.replace(/^https?:\/\/[^/]+/, '')

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
    // Behind the security headers, as under serve: their same-origin CORP must not block embedding.
    const hosts = ['media.example-usercontent.test', 'www.example.test', '.evil.test', '127.0.0.1']
    const mediaServer = await serve([
      securityMiddleware({ allowedHosts: hosts, httpsRedirect: 'off' }),
      mediaFiles({ storages: separate }),
    ])
    try {
      const script = await separate.get('public').put('app.js', 'console.log(1)')
      const logo = await separate.get('art').put('logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"/>')
      const scriptUrl = separate.get('public').url(script.key)
      expect(scriptUrl.startsWith(`${origin}/media/public/`)).toBe(true)
      expect((await separate.get('public').signedUrl(script.key)).startsWith(`${origin}/media/`)).toBe(true)
      const onMedia = await get(mediaServer.port, path(scriptUrl), { Host: 'media.example-usercontent.test' })
      expect(onMedia.headers['content-type']).toBe('text/javascript; charset=utf-8')
      expect(onMedia.headers['cross-origin-resource-policy']).toBe('cross-origin')
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
        expect(elsewhere.headers['cross-origin-resource-policy']).toBe('same-origin')
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
