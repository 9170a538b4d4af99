/** The pipeline's own steps and the worker's http server, through real sockets. */
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, pipelineDefaults, serve } from '../_test/pipeline.js'
import { raw } from '../_test/socket.js'
import { isShipshapeError } from '../errors/index.js'
import { securityMiddleware } from '../security/index.js'
import type { Middleware } from '../types.js'
import { loadApp } from './_adapters.js'
import { httpMetrics } from './_metrics.js'
import { createPipeline } from './_pipeline.js'
import { clientAddress, proxyTrust } from './_proxy.js'
import { release } from './_test/_shared.js'

const fixture = (name: string) => fileURLToPath(new URL(`./_test/${name}.ts`, import.meta.url))
let open: Awaited<ReturnType<typeof serve>>[] = []
async function start(...args: Parameters<typeof serve> extends [unknown, ...infer Rest] ? Rest : never) {
  const server = await serve(fixture('probe'), ...args)
  open.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(open.map((server) => server.close()))
  open = []
})

describe('trusted proxies', () => {
  it('believes X-Forwarded-For only from a configured proxy, taking the right-most untrusted hop', () => {
    const trust = proxyTrust(['10.0.0.0/8', '192.168.1.5', 'fd00::/8'])
    expect(clientAddress('203.0.113.9', '1.2.3.4', trust)).toBe('203.0.113.9')
    expect(clientAddress('10.1.2.3', '1.2.3.4', trust)).toBe('1.2.3.4')
    expect(clientAddress('10.1.2.3', 'forged, 1.2.3.4, 10.9.9.9', trust)).toBe('1.2.3.4')
    expect(clientAddress('::ffff:10.1.2.3', '6.6.6.6, 5.5.5.5', trust)).toBe('5.5.5.5')
    expect(clientAddress('fd00::1', '2001:db8::7', trust)).toBe('2001:db8::7')
    expect(clientAddress('192.168.1.5', '10.0.0.1, 10.0.0.2', trust)).toBe('10.0.0.1')
    expect(clientAddress('10.1.2.3', 'garbage, 10.0.0.9', trust)).toBe('10.0.0.9')
    expect(clientAddress('::ffff:203.0.113.9', undefined, trust)).toBe('203.0.113.9')
    // A Unix socket's peer has no address: trusted only when `unix` is listed.
    expect(clientAddress('', '1.2.3.4', trust)).toBe('')
    expect(clientAddress('', '1.2.3.4', proxyTrust(['unix']))).toBe('1.2.3.4')
    expect(clientAddress('', 'forged, 1.2.3.4', proxyTrust(['unix', 'loopback']))).toBe('1.2.3.4')
  })

  it('stops at start-up on an entry that is not an address, a range or a known name', () => {
    for (const bad of ['10.0.0.0/33', 'example.com', '1.2.3.4/', '::1/129']) {
      expect(() => proxyTrust([bad])).toThrow(/trusted proxy/)
    }
    expect(() => proxyTrust(['loopback', 'private', 'linklocal', '::1'])).not.toThrow()
  })

  it('applies X-Forwarded-For and X-Forwarded-Proto from a trusted peer, and ignores them otherwise', async () => {
    const headers = { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' }
    const trusted = await start({ trustedProxies: ['loopback'] })
    expect(await (await fetch(trusted.url, { headers })).json()).toMatchObject({
      clientIp: '198.51.100.7',
      protocol: 'https',
    })
    const untrusted = await start({ trustedProxies: ['10.0.0.0/8'] })
    expect(await (await fetch(untrusted.url, { headers })).json()).toMatchObject({
      clientIp: '127.0.0.1',
      protocol: 'http',
    })
  })
})

describe('health, draining and bookkeeping', () => {
  it('serves configurable health paths; readyz turns 503 and responses close their connection once draining', async () => {
    const server = await start({ livezPath: '/_/live', readyzPath: '/_/ready' })
    expect((await fetch(`${server.url}/_/live`)).status).toBe(200)
    expect((await fetch(`${server.url}/_/ready`)).status).toBe(200)
    expect((await fetch(`${server.url}/livez`)).status).toBe(200) // the app's own route now
    const held = fetch(`${server.url}/wait/drain`)
    await eventually(() => server.pipeline.inflight().length === 1, 'the held request')
    server.pipeline.drain()
    expect((await fetch(`${server.url}/_/ready`)).status).toBe(503)
    expect((await fetch(`${server.url}/_/live`)).status).toBe(200)
    const during = await fetch(server.url)
    expect(during.status).toBe(200)
    expect(during.headers.get('connection')).toBe('close')
    release('drain')
    expect((await held).headers.get('connection')).toBe('close')
  })

  it('lists requests in flight oldest first, counts what it served and resolves idle() when empty', async () => {
    const server = await start()
    await server.pipeline.idle()
    const first = fetch(`${server.url}/wait/a`, { headers: { 'x-request-id': 'first' } })
    await eventually(() => server.pipeline.inflight().length === 1, 'first in flight')
    const second = fetch(`${server.url}/wait/b`, { headers: { 'x-request-id': 'second' } })
    await eventually(() => server.pipeline.inflight().length === 2, 'second in flight')
    const listed = server.pipeline.inflight()
    expect(listed.map((request) => request.id)).toEqual(['first', 'second'])
    expect(listed[0]).toMatchObject({ method: 'GET', path: '/wait/a' })
    expect(listed[0]?.elapsedMs).toBeGreaterThanOrEqual(listed[1]?.elapsedMs ?? 0)
    let idle = false
    const idled = server.pipeline.idle().then(() => {
      idle = true
    })
    release('a')
    await first
    expect(idle).toBe(false)
    release('b')
    await second
    await idled
    expect(server.pipeline.served()).toBe(2)
    await fetch(`${server.url}/livez`)
    expect(server.pipeline.served()).toBe(2) // health checks are not requests served
  })
})

describe('middleware', () => {
  it('runs middleware in order around the app, inside the request context', async () => {
    const order: string[] = []
    const outer: Middleware = async function outer(ctx, next) {
      order.push('outer in')
      ctx.state.user = 'ada'
      await next()
      order.push('outer out')
    }
    const inner: Middleware = async function inner(ctx, next) {
      order.push(`inner in ${ctx.state.user}`)
      ctx.res.setHeader('X-Inner', '1')
      await next()
      order.push('inner out')
    }
    const server = await start({}, [outer, inner])
    const response = await fetch(server.url)
    expect(response.headers.get('x-inner')).toBe('1')
    expect(await response.json()).toMatchObject({ state: { user: 'ada' } })
    expect(order).toEqual(['outer in', 'inner in ada', 'inner out', 'outer out'])
  })

  it('lets a middleware answer without calling next, and treats a second next() as an error', async () => {
    const gatekeeper: Middleware = function gatekeeper(ctx, next) {
      if (ctx.path === '/closed') {
        ctx.res.writeHead(403).end('no\n')
        return
      }
      return next()
    }
    const twice: Middleware = async function twice(ctx, next) {
      await next()
      if (ctx.path === '/twice') await next()
    }
    const server = await start({}, [gatekeeper, twice])
    expect((await fetch(`${server.url}/closed`)).status).toBe(403)
    expect((await fetch(`${server.url}/twice`)).status).toBe(200)
    await eventually(
      () =>
        server.logs.find(
          (line) => line.level === 50 && /twice called next\(\) more than once/.test(JSON.stringify(line)),
        ),
      'the error about next()',
    )
  })
})

describe('timeouts and limits', () => {
  it('cuts a response under way that goes idle past the idle timeout, and survives an app writing after its 503', async () => {
    const server = await start({ timeoutMs: 300, idleTimeoutMs: 300 })
    const partial = await fetch(`${server.url}/late-write`)
    expect(partial.status).toBe(200)
    await expect(partial.text()).rejects.toThrow()
    const late = await fetch(`${server.url}/write-after-timeout`)
    expect(late.status).toBe(503)
    expect((await fetch(server.url)).status).toBe(200) // the worker is still serving
  })

  it('logs a client that hangs up mid-body as a 499, not as a failure of the app reading it', async () => {
    const server = await start()
    const socket = connect(server.port, '127.0.0.1')
    await new Promise((connected) => socket.once('connect', connected))
    socket.write(
      'POST /read-body HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone\r\nContent-Length: 1000\r\n\r\npart',
    )
    await eventually(() => server.pipeline.inflight().length === 1, 'the request in flight')
    socket.destroy()
    const line = await eventually(
      () => server.logs.find((l) => l.msg === 'request' && l.requestId === 'gone'),
      'the access line',
    )
    expect(line.status).toBe(499)
    await new Promise((settle) => setTimeout(settle, 50)) // the app's failed read settles after the close
    expect(server.logs.filter((l) => l.level >= 50)).toEqual([])
  })

  it('writes the access line as its pino logger would, escaping what a path may carry', async () => {
    const server = await start()
    // Quotes and a backslash, sent as they are: node's parser lets them through.
    const path = '/q"uo\\te/{x}'
    const answer = await raw(
      server.port,
      `GET ${path}?secret=1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: line-1\r\nConnection: close\r\n\r\n`,
    )
    expect(answer).toMatch(/^HTTP\/1\.1 200/)
    const line = await eventually(
      () => server.logs.find((l) => l.msg === 'request' && l.requestId === 'line-1'),
      'the access line',
    )
    // pino's own order: level, time, the logger's bindings, the fields, the message.
    expect(Object.keys(line)).toEqual([
      'level',
      'time',
      'pid',
      'hostname',
      'requestId',
      'method',
      'path',
      'status',
      'bytes',
      'ms',
      'msg',
    ])
    expect(line).toMatchObject({ level: 30, pid: process.pid, method: 'GET', path, status: 200 })
    expect(line.time).toBeGreaterThan(Date.now() - 60_000)
    expect(line.bytes).toBe(Buffer.byteLength(answer, 'latin1'))
  })

  it('answers a malformed request, a repeated Host or a CONNECT with a plain 400 that never reaches the app', async () => {
    const server = await start()
    const answer = await raw(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request/)
    const smuggled = await raw(
      server.port,
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    )
    expect(smuggled).toMatch(/^HTTP\/1\.1 400/)
    const twoHosts = await raw(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nhost: evil.example\r\n\r\n')
    expect(twoHosts).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
    expect(twoHosts).toContain('Connection: close')
    const tunnel = await raw(server.port, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n')
    expect(tunnel).toMatch(/^HTTP\/1\.1 400 Bad Request/)
    expect(server.logs.filter((line) => line.msg === 'request')).toHaveLength(0)
  })

  it('refuses a Transfer-Encoding whose last coding is not chunked with a 400 before the app, and closes', async () => {
    const server = await start()
    for (const coding of ['gzip', 'chunked, gzip']) {
      const answer = await raw(
        server.port,
        `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ${coding}\r\n\r\nhello`,
      )
      expect(answer, coding).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/)
      expect(answer, coding).toContain('Connection: close')
      // node:http refuses `chunked, gzip` itself; `gzip` alone it would hand to the app.
      if (coding === 'gzip') expect(answer).toContain('the last Transfer-Encoding must be chunked')
    }
    // Chunked last is how a body of unknown length is framed: it reaches the app.
    const fine = await raw(
      server.port,
      'POST /read-body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n',
    )
    expect(fine).toMatch(/^HTTP\/1\.1 200/)
    expect(server.logs.filter((line) => line.msg === 'request')).toHaveLength(1)
  })

  it('gives every answer of its own the security headers, a request id, no-store and nosniff, even before any middleware ran', async () => {
    const server = await start({ maxBodyBytes: 10 }, [securityMiddleware({ httpsRedirect: 'off' })], {
      maxHeaderBytes: 2048,
    })
    const answers = {
      'two Host headers': await raw(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nhost: evil.example\r\n\r\n'),
      'a body over the limit': await raw(
        server.port,
        'POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 11\r\n\r\nhello world',
      ),
      'a gzip body': await raw(server.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'),
      'a health check': await raw(server.port, 'GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      'a malformed request': await raw(server.port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
      'oversized headers': await raw(
        server.port,
        `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`,
      ),
      'a refused Host': await raw(
        server.port,
        'GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      ),
    }
    for (const [what, answer] of Object.entries(answers)) {
      const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase()
      expect(head, what).toContain('\r\nx-frame-options: deny')
      expect(head, what).toContain("\r\ncontent-security-policy: default-src 'self'")
      expect(head, what).toContain('\r\nx-content-type-options: nosniff')
      expect(head.match(/\r\nx-content-type-options:/g), what).toHaveLength(1)
      expect(head, what).toContain('\r\ncache-control: no-store')
      expect(head, what).toMatch(/\r\nx-request-id: [0-9a-f-]{36}/)
    }
    // HEAD gets the same headers and no body.
    const head = await raw(server.port, 'HEAD / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n')
    expect(head).toMatch(/^HTTP\/1\.1 400/)
    expect(head.toLowerCase()).toContain('\r\ncontent-length: ')
    expect(head.endsWith('\r\n\r\n')).toBe(true)
  })

  it('stops the build when two middleware provide the same part of the worker state', () => {
    expect(() =>
      createPipeline(async () => {}, pipelineDefaults, pino({ level: 'silent' }), [
        securityMiddleware(),
        securityMiddleware(),
      ]),
    ).toThrow(/two parts of the pipeline provide the worker's hosts/)
  })

  it('answers oversized headers with 431', async () => {
    const server = await start({}, [], { maxHeaderBytes: 2048 })
    const answer = await raw(server.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 431/)
  })

  it('cuts off a client that sends its headers too slowly (slowloris)', async () => {
    const server = await start({}, [], { headersTimeoutMs: 500, requestTimeoutMs: 1000 })
    const parts = ['GET / HTTP/1.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: 1\r\n`)]
    const answer = await raw(server.port, parts, 100)
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
  })

  it('refuses a headers timeout longer than the request timeout before serving', async () => {
    const error = await start({}, [], { headersTimeoutMs: 5000, requestTimeoutMs: 1000 }).catch(
      (e: unknown) => e,
    )
    expect(isShipshapeError(error) && error.code).toBe('SHIPSHAPE_E_BAD_OPTION')
    expect(String(error)).toContain('headers timeout')
  })

  it('sets the keep-alive timeout', async () => {
    const server = await start({}, [], { keepAliveTimeoutMs: 65_000 })
    expect(server.http.keepAliveTimeout).toBe(65_000)
    expect((await fetch(server.url)).headers.get('keep-alive')).toBe('timeout=65')
  })
})

describe('loadApp', () => {
  it('names a missing file', async () => {
    const error = await loadApp('/nowhere/app.js', 'auto').catch((thrown: unknown) => thrown)
    expect(isShipshapeError(error) && error.code).toBe('SHIPSHAPE_E_APP_NOT_FOUND')
    expect(String(error)).toContain('/nowhere/app.js')
  })

  it('shows the app’s own error when the module fails to load', async () => {
    const error = await loadApp(fixture('broken'), 'auto').catch((thrown: unknown) => thrown)
    expect(isShipshapeError(error) && error.code).toBe('SHIPSHAPE_E_APP_NOT_FOUND')
    expect((error as Error).message).toContain('the database URL is missing')
    expect(((error as Error).cause as Error).message).toBe('the database URL is missing')
  })

  it('refuses an export it cannot serve, and a declared kind that does not match', async () => {
    const notApp = await loadApp(fixture('not-an-app'), 'auto').catch((thrown: unknown) => thrown)
    expect(isShipshapeError(notApp) && notApp.code).toBe('SHIPSHAPE_E_APP_KIND')
    const mismatch = await loadApp(fixture('node'), 'koa').catch((thrown: unknown) => thrown)
    expect(isShipshapeError(mismatch) && mismatch.code).toBe('SHIPSHAPE_E_APP_KIND')
    expect(String(mismatch)).toContain('Koa')
  })

  it('honours an explicit kind', async () => {
    expect(typeof (await loadApp(fixture('node'), 'node'))).toBe('function')
    expect(typeof (await loadApp(fixture('hono'), 'fetch'))).toBe('function')
  })
})

describe('metrics', () => {
  it('counts responses per method, collapsed route and status, with their durations', async () => {
    const server = await start()
    const find = () =>
      httpMetrics(true).series.find((series) => series.method === 'GET' && series.route === '/items/:id')
    const before = find()?.count ?? 0
    for (const id of [1, 22, 333]) await (await fetch(`${server.url}/items/${id}`)).text()
    const series = find()
    expect(series?.count).toBe(before + 3)
    expect(series?.buckets.reduce((a, b) => a + b, 0)).toBe(series?.count)
    expect(series?.sum).toBeGreaterThan(0)
  })
})
