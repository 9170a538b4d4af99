/** The static files middleware and sendEntity, through a real pipeline, server and sockets. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { raw } from '../_test/socket.js'
import { isShipshapeError } from '../errors/index.js'
import { serve } from './_test/server.js'
import { fileEntity, type Manifest, manifestName, sendEntity, staticFiles } from './index.js'

const script = `export function greet(name) {\n  return 'hello ' + name\n}\n`.repeat(40)
const hashedName = 'js/app.3f2a9c1b7d4e.js'
const large = Buffer.alloc(200 * 1024, 'large file ')
let base: string
let root: string
let server: Awaited<ReturnType<typeof serve>>
let port: number

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'shipshape-static-'))
  root = join(base, 'static')
  const files: Record<string, string | Buffer> = {
    [hashedName]: script,
    [`${hashedName}.br`]: brotliCompressSync(script),
    [`${hashedName}.gz`]: gzipSync(script),
    'robots.txt': 'User-agent: *\n',
    'img/logo.png': Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
    'docs/index.html': '<!doctype html><title>docs</title>',
    'archive.tar.gz': gzipSync('a tarball'),
    'big.bin': large,
    '.env': 'SECRET=do-not-serve',
    '.git/config': 'SECRET=do-not-serve',
    'js/.hidden.js': 'SECRET=do-not-serve',
    '.well-known/security.txt': 'Contact: mailto:security@example.com\n',
    'font.woff2': 'wOF2',
    [manifestName]: JSON.stringify({
      version: 1,
      paths: { 'js/app.js': hashedName },
      hashed: { [hashedName]: '3f2a9c1b7d4e' },
    } satisfies Manifest),
  }
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true })
    writeFileSync(join(root, name), content)
  }
  // A directory whose name starts with the root's: a prefix check on strings would let it through.
  mkdirSync(join(base, 'static-secret'))
  writeFileSync(join(base, 'static-secret', 'key.txt'), 'SECRET=do-not-serve')
  writeFileSync(join(base, 'outside.txt'), 'SECRET=do-not-serve')
  // Symbolic links inside the root, to a directory and a file outside it: never followed.
  mkdirSync(join(base, 'elsewhere'))
  writeFileSync(join(base, 'elsewhere', 'secret.txt'), 'SECRET=do-not-serve')
  symlinkSync(join(base, 'elsewhere'), join(root, 'linkdir'))
  symlinkSync(join(base, 'elsewhere'), join(root, 'img', 'nested-link'))
  symlinkSync(join(base, 'outside.txt'), join(root, 'linkfile.txt'))
  server = await serve([
    staticFiles({
      root,
      allowOrigin: 'https://app.example.com',
      headers: (file) => (file.name.endsWith('.woff2') ? { 'X-Font': 'yes' } : undefined),
    }),
  ])
  port = server.port
})

afterAll(async () => {
  await server.close()
  rmSync(base, { recursive: true, force: true })
})

const url = `/static/${hashedName}`

describe('content-encoding negotiation', () => {
  it('sends brotli, gzip or the original as the q-values say, always with Vary and the right length', async () => {
    const cases: [string | undefined, string | undefined][] = [
      ['gzip, br', 'br'],
      ['br;q=0, gzip', 'gzip'],
      ['gzip;q=0', undefined],
      ['gzip;q=0.5, br;q=0.4', 'gzip'],
      ['*', undefined],
      [undefined, undefined],
      ['identity', undefined],
      ['br;q=0, gzip;q=0', undefined],
    ]
    for (const [accept, expected] of cases) {
      const answer = await get(port, url, accept === undefined ? {} : { 'Accept-Encoding': accept })
      expect(answer.status, String(accept)).toBe(200)
      expect(answer.headers['content-encoding'], String(accept)).toBe(expected)
      expect(answer.headers.vary).toBe('Accept-Encoding')
      expect(Number(answer.headers['content-length'])).toBe(answer.body.length)
      const decoded =
        expected === 'br'
          ? brotliDecompressSync(answer.body)
          : expected === 'gzip'
            ? gunzipSync(answer.body)
            : answer.body
      expect(decoded.toString()).toBe(script)
    }
  })

  it('gives every encoding its own strong ETag', async () => {
    const tags = new Set<string>()
    for (const accept of ['br', 'gzip', 'identity']) {
      const tag = (await get(port, url, { 'Accept-Encoding': accept })).headers.etag as string
      expect(tag).toMatch(/^"[^"]+"$/)
      tags.add(tag)
    }
    expect(tags.size).toBe(3)
  })
})

describe('caching and conditional requests', () => {
  it('marks only manifest-hashed files immutable; others get the short max-age', async () => {
    expect((await get(port, url)).headers['cache-control']).toBe('public, max-age=31536000, immutable')
    expect((await get(port, '/static/robots.txt')).headers['cache-control']).toBe('public, max-age=60')
    expect((await get(port, '/static/img/logo.png')).headers['cache-control']).not.toMatch(/immutable/)
  })

  it('answers If-None-Match (exact, list, W/) with 304: no body, no Content-Type, with Vary', async () => {
    const tag = (await get(port, url, { 'Accept-Encoding': 'br' })).headers.etag as string
    for (const ifNoneMatch of [tag, `"other", ${tag}`, `W/${tag}`, '*']) {
      const answer = await get(port, url, { 'Accept-Encoding': 'br', 'If-None-Match': ifNoneMatch })
      expect(answer.status, ifNoneMatch).toBe(304)
      expect(answer.body.length).toBe(0)
      expect(answer.headers['content-type']).toBeUndefined()
      expect(answer.headers.vary).toBe('Accept-Encoding')
      expect(answer.headers.etag).toBe(tag)
    }
    // The br tag does not validate the gzip representation.
    expect((await get(port, url, { 'Accept-Encoding': 'gzip', 'If-None-Match': tag })).status).toBe(200)
  })

  it('answers If-Modified-Since with 304 when the file is not newer, and ignores a mangled date', async () => {
    const lastModified = (await get(port, '/static/robots.txt')).headers['last-modified'] as string
    expect((await get(port, '/static/robots.txt', { 'If-Modified-Since': lastModified })).status).toBe(304)
    const later = new Date(Date.parse(lastModified) + 60_000).toUTCString()
    expect((await get(port, '/static/robots.txt', { 'If-Modified-Since': later })).status).toBe(304)
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString()
    expect((await get(port, '/static/robots.txt', { 'If-Modified-Since': earlier })).status).toBe(200)
    const mangled = await get(port, '/static/robots.txt', { 'If-Modified-Since': 'yesterday-ish' })
    expect(mangled.status).toBe(200)
    expect(mangled.body.toString()).toBe('User-agent: *\n')
    // If-None-Match wins over If-Modified-Since.
    const both = await get(port, '/static/robots.txt', {
      'If-None-Match': '"nope"',
      'If-Modified-Since': later,
    })
    expect(both.status).toBe(200)
  })
})

describe('range requests', () => {
  const full = Buffer.from(script)
  const size = full.length

  it('serves single, suffix and truncated ranges from the original bytes', async () => {
    const first = await get(port, url, { Range: 'bytes=0-0', 'Accept-Encoding': 'br, gzip' })
    expect(first.status).toBe(206)
    expect(first.body.toString()).toBe(script[0])
    expect(first.headers['content-range']).toBe(`bytes 0-0/${size}`)
    expect(first.headers['content-length']).toBe('1')
    expect(first.headers['content-encoding']).toBeUndefined()
    const suffix = await get(port, url, { Range: 'bytes=-3' })
    expect(suffix.status).toBe(206)
    expect(suffix.body).toEqual(full.subarray(size - 3))
    const truncated = await get(port, url, { Range: `bytes=10-${size * 10}` })
    expect(truncated.status).toBe(206)
    expect(truncated.headers['content-range']).toBe(`bytes 10-${size - 1}/${size}`)
    expect(truncated.body).toEqual(full.subarray(10))
    expect(truncated.headers['accept-ranges']).toBe('bytes')
  })

  it('sends the whole file for several ranges, a mismatched If-Range or a malformed header', async () => {
    const cases: Record<string, string>[] = [
      { Range: 'bytes=0-1,5-6' },
      { Range: 'bytes=0-1', 'If-Range': '"not-this-one"' },
      { Range: 'bytes=0-1', 'If-Range': 'Mon, 01 Jan 2001 00:00:00 GMT' },
      { Range: 'lines=0-1' },
      { Range: 'bytes=5-2' },
    ]
    for (const headers of cases) {
      const answer = await get(port, url, headers)
      expect(answer.status, JSON.stringify(headers)).toBe(200)
      expect(answer.body).toEqual(full)
    }
    const tag = (await get(port, url)).headers.etag as string
    expect((await get(port, url, { Range: 'bytes=0-1', 'If-Range': tag })).status).toBe(206)
  })

  it('answers an unsatisfiable range with 416 and bytes */N', async () => {
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 10}`, 'bytes=-0']) {
      const answer = await get(port, url, { Range: range })
      expect(answer.status, range).toBe(416)
      expect(answer.headers['content-range']).toBe(`bytes */${size}`)
    }
  })

  it('streams ranges of a large file from disk', async () => {
    const answer = await get(port, '/static/big.bin', { Range: 'bytes=100000-100009' })
    expect(answer.status).toBe(206)
    expect(answer.body).toEqual(large.subarray(100000, 100010))
    expect((await get(port, '/static/big.bin')).body).toEqual(large)
  })
})

describe('methods', () => {
  it('answers HEAD with the GET headers and no body', async () => {
    const getAnswer = await get(port, url, { 'Accept-Encoding': 'gzip' })
    const head = await get(port, url, { 'Accept-Encoding': 'gzip' }, 'HEAD')
    expect(head.status).toBe(200)
    expect(head.body.length).toBe(0)
    for (const name of [
      'content-length',
      'content-type',
      'etag',
      'content-encoding',
      'cache-control',
      'vary',
    ])
      expect(head.headers[name], name).toBe(getAnswer.headers[name])
  })

  it('answers other methods with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const answer = await get(port, url, {}, method)
      expect(answer.status, method).toBe(405)
      expect(answer.headers.allow).toBe('GET, HEAD')
    }
  })
})

describe('files that are never served', () => {
  const hostile = [
    '/static/.env',
    '/static/.git/config',
    '/static/js/.hidden.js',
    '/static/%2eenv',
    `/static/${hashedName}.br`,
    `/static/${hashedName}.gz`,
    `/static/${manifestName}`,
    '/static/../outside.txt',
    '/static/%2e%2e/outside.txt',
    '/static/%2E%2E%2Foutside.txt',
    '/static/..%2foutside.txt',
    '/static/..%5coutside.txt',
    '/static/..%255coutside.txt',
    '/static/%252e%252e/outside.txt',
    '/static/js/../../outside.txt',
    '/static/../static-secret/key.txt',
    '/static/..%2fstatic-secret%2fkey.txt',
    '/static-secret/key.txt',
    '/static/robots.txt%00.png',
    '/static/%ff%fe.txt',
    '/static/%c0%ae%c0%ae/outside.txt',
    '/static/%',
    `/static/${'a/'.repeat(1000)}x`,
    '/static/img//logo.png',
    '/static/linkdir/secret.txt',
    '/static/img/nested-link/secret.txt',
    '/static/linkfile.txt',
    '/static/linkdir/',
  ]

  it.each(hostile)('%s gets a 4xx and never file contents', async (path) => {
    const answer = await get(port, path)
    if (path === '/static-secret/key.txt') {
      // Outside the prefix: the app answers, not the static files.
      expect(answer.body.toString()).toBe(`app: ${path}`)
      return
    }
    expect([400, 404]).toContain(answer.status)
    expect(answer.body.toString()).not.toMatch(/SECRET|User-agent|greet/)
  })

  it('refuses raw NUL, raw non-UTF-8 bytes and raw backslashes in the request line', async () => {
    for (const line of [
      Buffer.from('GET /static/robots.txt\u0000.png HTTP/1.1\r\n', 'latin1'),
      Buffer.concat([Buffer.from('GET /static/'), Buffer.from([0xff, 0xfe]), Buffer.from(' HTTP/1.1\r\n')]),
      Buffer.from('GET /static/..\\outside.txt HTTP/1.1\r\n'),
    ]) {
      const answer = await raw(
        port,
        Buffer.concat([line, Buffer.from('Host: x\r\nConnection: close\r\n\r\n')]),
      )
      expect(answer).toMatch(/^HTTP\/1\.1 40[04]/)
      expect(answer).not.toMatch(/SECRET/)
    }
  })

  it('serves /.well-known/ and a .gz file that has no original beside it', async () => {
    const wellKnown = await get(port, '/static/.well-known/security.txt')
    expect(wellKnown.status).toBe(200)
    expect(wellKnown.headers['content-type']).toBe('text/plain; charset=utf-8')
    const archive = await get(port, '/static/archive.tar.gz')
    expect(archive.status).toBe(200)
    expect(gunzipSync(archive.body).toString()).toBe('a tarball')
  })

  it('answers 404, not 500, for a file removed after start-up', async () => {
    const victim = join(root, 'gone.bin')
    writeFileSync(victim, large)
    const late = await serve([staticFiles({ root })])
    try {
      unlinkSync(victim)
      expect((await get(late.port, '/static/gone.bin')).status).toBe(404)
    } finally {
      await late.close()
    }
  })
})

describe('headers, index files and the app behind', () => {
  it('sends types with a charset for text', async () => {
    const types: Record<string, string> = {
      [url]: 'text/javascript; charset=utf-8',
      '/static/robots.txt': 'text/plain; charset=utf-8',
      '/static/docs/': 'text/html; charset=utf-8',
      '/static/img/logo.png': 'image/png',
      '/static/font.woff2': 'font/woff2',
      '/static/big.bin': 'application/octet-stream',
    }
    for (const [path, type] of Object.entries(types))
      expect((await get(port, path)).headers['content-type'], path).toBe(type)
  })

  it('sends the CORS origin and the per-file hook headers', async () => {
    const font = await get(port, '/static/font.woff2')
    expect(font.headers['access-control-allow-origin']).toBe('https://app.example.com')
    expect(font.headers['x-font']).toBe('yes')
    expect((await get(port, '/static/robots.txt')).headers['x-font']).toBeUndefined()
  })

  it('serves index.html for a directory URL and redirects the name without a slash', async () => {
    const page = await get(port, '/static/docs/')
    expect(page.status).toBe(200)
    expect(page.body.toString()).toContain('<title>docs</title>')
    const redirect = await get(port, '/static/docs')
    expect(redirect.status).toBe(301)
    expect(redirect.headers.location).toBe('/static/docs/')
  })

  it('passes requests outside the prefix to the app, and decodes percent-encoded names', async () => {
    expect((await get(port, '/api/x')).body.toString()).toBe('app: /api/x')
    expect((await get(port, '/static/r%6fbots.txt')).body.toString()).toBe('User-agent: *\n')
    expect((await get(port, '/static/robots.txt?v=1')).status).toBe(200)
  })

  it('stops at start-up when the directory does not exist', () => {
    try {
      staticFiles({ root: join(base, 'missing') })
      expect.unreachable()
    } catch (error) {
      expect(isShipshapeError(error) && error.code).toBe('SHIPSHAPE_E_STATIC_ROOT')
    }
  })
})

describe('sendEntity on its own', () => {
  it('answers ranges and conditional requests for a file described by fileEntity', async () => {
    const path = join(base, 'outside.txt')
    const http = createServer(async (req, res) => sendEntity(req, res, await fileEntity(path)))
    await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready))
    const own = (http.address() as AddressInfo).port
    try {
      const whole = await get(own, '/')
      expect(whole.body.toString()).toBe('SECRET=do-not-serve')
      expect(whole.headers['cache-control']).toBe('public, max-age=60')
      expect((await get(own, '/', { 'If-None-Match': whole.headers.etag as string })).status).toBe(304)
      const part = await get(own, '/', { Range: 'bytes=-5' })
      expect(part.status).toBe(206)
      expect(part.body.toString()).toBe('serve')
      expect((await get(own, '/', {}, 'DELETE')).status).toBe(405)
    } finally {
      http.closeAllConnections()
      await new Promise((done) => http.close(done))
    }
  })
})
