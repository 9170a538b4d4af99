/**
 * The conformance cases: the same assertions against every kind of app shipshape wraps, through
 * real sockets, run by each layer (a bare pipeline, the default middleware, `shipshape serve`).
 * Each fixture in this folder implements the same routes idiomatically for its framework.
 */
import { get } from 'node:http'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually, type LogLine } from '../../_test/pipeline.js'
import type { AppKind } from '../../types.js'
import { detectKind } from '../_adapters.js'
import { aborted, bigBytes, detail, hello, noted, release, thrown } from './_shared.js'
import type { Layer, Target } from './layers.js'

const fixtures: { name: string; kind: AppKind }[] = [
  { name: 'node', kind: 'node' },
  { name: 'express', kind: 'express' },
  { name: 'connect', kind: 'connect' },
  { name: 'koa', kind: 'koa' },
  { name: 'fastify', kind: 'fastify' },
  { name: 'hono', kind: 'fetch' },
  { name: 'fetch', kind: 'fetch' },
]

const entry = (name: string) => fileURLToPath(new URL(`./${name}.ts`, import.meta.url))

/**
 * GETs `path` and reads one chunk at a time with a millisecond's pause between, so the server
 * meets backpressure at every step; resolves with the body's length.
 */
function readSlowly(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let length = 0
      res.on('data', (chunk: Buffer) => {
        length += chunk.length
        res.pause()
        setTimeout(() => res.resume(), 1)
      })
      res.on('end', () => resolve(length))
      res.on('error', reject)
    }).on('error', reject)
  })
}

/** GETs `path` on a raw socket and hangs up as soon as the first body bytes arrive. */
function cutOff(port: number, path: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
      if (received.includes('\r\n\r\n') && received.length > received.indexOf('\r\n\r\n') + 4) {
        socket.destroy()
        resolve()
      }
    })
    socket.on('error', reject)
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Request-Id: ${id}\r\n\r\n`)
  })
}

export function conformance(layer: Layer): void {
  describe.each(fixtures)('$name app', ({ name, kind }) => {
    let server: Target
    // Ids are unique per layer and app: the records of what happened to them are files.
    const tag = (what: string) => `${what}-${layer.name.replace(/\W+/g, '-')}-${name}`
    beforeAll(async () => {
      server = await layer.start(entry(name), { timeoutMs: 600, maxBodyBytes: 64 * 1024 })
    })
    afterAll(() => server.close())

    it(`is detected as ${kind}`, async () => {
      const module = await import(entry(name))
      expect(detectKind(module.default)).toBe(kind)
    })

    it('answers GET with the app’s status, headers and body, a request id, and nothing revealing', async () => {
      const response = await fetch(`${server.url}/`)
      expect(response.status).toBe(200)
      expect(response.headers.get('x-app')).toBe(name === 'hono' ? 'hono' : name)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
      expect(response.headers.get('x-powered-by')).toBeNull()
      expect(response.headers.get('server')).toBeNull()
      expect(await response.text()).toBe(hello)
    })

    it('answers HEAD with the headers and no body', async () => {
      const response = await fetch(`${server.url}/`, { method: 'HEAD' })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-app')).toBeTruthy()
      expect(await response.text()).toBe('')
    })

    it('passes a POST body through, with a length or chunked', async () => {
      const body = 'ping '.repeat(2000)
      const sized = await fetch(`${server.url}/echo`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'text/plain' },
      })
      expect(sized.status).toBe(200)
      expect(await sized.text()).toBe(body)
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('chunk one,'))
          controller.enqueue(new TextEncoder().encode('chunk two'))
          controller.close()
        },
      })
      const chunked = await fetch(`${server.url}/echo`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
        headers: { 'content-type': 'text/plain' },
      } as RequestInit)
      expect(chunked.status).toBe(200)
      expect(await chunked.text()).toBe('chunk one,chunk two')
    })

    it('passes other statuses and repeated headers through', async () => {
      const response = await fetch(`${server.url}/created`)
      expect(response.status).toBe(201)
      expect(response.headers.get('x-custom')).toBe('yes')
      expect(response.headers.getSetCookie().map((cookie) => cookie.split(';')[0])).toEqual(['a=1', 'b=2'])
      expect(await response.text()).toBe('made\n')
    })

    it('streams: the first chunk arrives while the app still holds the response open', async () => {
      const id = tag('stream')
      const response = await fetch(`${server.url}/stream`, { headers: { 'x-request-id': id } })
      expect(response.status).toBe(200)
      const reader = (response.body as ReadableStream<Uint8Array>)
        .pipeThrough(new TextDecoderStream())
        .getReader()
      let received = ''
      while (!received.includes('one\n')) received += (await reader.read()).value ?? ''
      expect(received).toBe('one\n')
      release(id)
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        received += value
      }
      expect(received).toBe('one\ntwo\n')
    })

    it('echoes a valid inbound request id and replaces an unusable one', async () => {
      const reused = await fetch(`${server.url}/`, { headers: { 'x-request-id': 'edge-7f3a.1:2' } })
      expect(reused.headers.get('x-request-id')).toBe('edge-7f3a.1:2')
      for (const bad of ['has space', 'x'.repeat(129), '<script>', '']) {
        const replaced = await fetch(`${server.url}/`, { headers: { 'x-request-id': bad } })
        expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
      }
    })

    it('makes the request context reachable from the app through getContext()', async () => {
      const response = await fetch(`${server.url}/context`)
      const { id } = (await response.json()) as { id: string }
      expect(id).toBe(response.headers.get('x-request-id'))
    })

    it('answers 404 for a path the app does not know', async () => {
      const response = await fetch(`${server.url}/no/such/page`)
      expect(response.status).toBe(404)
      await response.arrayBuffer()
    })

    it('answers the app’s error with a 500 that leaks no stack, and logs the stack with the request id', async () => {
      const response = await fetch(`${server.url}/throw`, { headers: { 'x-request-id': tag('throw') } })
      expect(response.status).toBe(500)
      const body = await response.text()
      expect(body).not.toMatch(/\bat .*[/\\]|\.ts:\d+/)
      if (kind !== 'fastify') expect(body).not.toContain(thrown) // Fastify's own 500 names the message, never the stack
      const logged = await eventually(
        () => server.logs.find((line) => line.level === 50 && line.requestId === tag('throw')),
        'the error log line',
      )
      expect((logged.err as { stack: string }).stack).toContain(thrown)
    })

    it('answers an error that names its 4xx status (http-errors) with it and its headers, and logs no failure', async () => {
      const id = tag('refuse')
      const response = await fetch(`${server.url}/refuse`, { headers: { 'x-request-id': id } })
      expect(response.status).toBe(429)
      expect(response.headers.get('retry-after')).toBe('60')
      await response.arrayBuffer()
      await eventually(
        () => server.logs.find((line) => line.msg === 'request' && line.requestId === id),
        'the access line',
      )
      expect(server.logs.filter((line) => line.level >= 50 && line.requestId === id)).toEqual([])
    })

    it('answers a hung handler with a 503 at the timeout, fires its signal and logs one line', async () => {
      const before = await server.timeouts?.()
      const id = tag('hang')
      const response = await fetch(`${server.url}/hang`, { headers: { 'x-request-id': id } })
      expect(response.status).toBe(503)
      expect(response.headers.get('x-request-id')).toBe(id)
      expect(await response.text()).toContain('timed out')
      await eventually(() => aborted.has(id), 'the handler’s signal to fire')
      const timedOut = (line: LogLine) => line.msg === 'request timed out' && line.requestId === id
      await eventually(() => server.logs.some(timedOut), 'the timeout’s log line') // serve's log comes through a pipe
      const lines = server.logs.filter(timedOut)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatchObject({ method: 'GET', path: '/hang', requestId: id })
      expect(lines[0]?.elapsedMs).toBeGreaterThanOrEqual(600)
      if (before !== undefined) expect(await server.timeouts?.()).toBeGreaterThan(before)
    })

    it('refuses a body over the limit with 413, by Content-Length or by counting a chunked body', async () => {
      const big = 'x'.repeat(65 * 1024)
      const sized = await fetch(`${server.url}/echo`, { method: 'POST', body: big })
      expect(sized.status).toBe(413)
      await sized.arrayBuffer()
      const chunked = await fetch(`${server.url}/echo`, {
        method: 'POST',
        body: new Blob([big]).stream(),
        duplex: 'half',
      } as RequestInit).catch((error: Error) => error)
      // The 413 is sent as soon as the limit is crossed; a client still uploading may see the reset instead.
      if (chunked instanceof Response) expect(chunked.status).toBe(413)
      await eventually(
        () => server.logs.filter((line) => line.msg === 'request' && line.status === 413).length >= 2,
        'two access lines with 413',
      )
    })

    it('writes one access line per request, and none for health checks', async () => {
      const id = tag('access')
      await (await fetch(`${server.url}/?q=1`, { headers: { 'x-request-id': id } })).text()
      await (await fetch(`${server.url}/livez`)).text()
      await (await fetch(`${server.url}/readyz`)).text()
      const line = await eventually(
        () => server.logs.find((entry) => entry.msg === 'request' && entry.requestId === id),
        'the access line',
      )
      expect(line).toMatchObject({ method: 'GET', path: '/', status: 200 })
      expect(line.bytes).toBeGreaterThan(hello.length)
      expect(typeof line.ms).toBe('number')
      expect(server.logs.some((entry) => entry.msg === 'request' && String(entry.path).endsWith('z'))).toBe(
        false,
      )
    })
    it('streams a large body to a slow reader with backpressure, and one listener per response', async () => {
      expect(await readSlowly(`${server.url}/big`)).toBe(bigBytes)
      expect(server.warnings().filter((line) => line.includes('MaxListeners'))).toEqual([])
    })

    it('answers HEAD on a streamed body with its headers and no body', async () => {
      const id = tag('head')
      const answered = fetch(`${server.url}/stream`, { method: 'HEAD', headers: { 'x-request-id': id } })
      // node:http sends a HEAD answer's headers when the app ends it, so the stream is let go.
      release(id)
      const response = await answered
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
      expect(await response.text()).toBe('')
    })

    // Registered only where it applies, so no case is reported as skipped.
    if (name === 'fetch')
      it(// Hono answers HEAD itself, by dropping the body of its GET answer (uncancelled).
      'cancels an endless body on HEAD instead of reading it to its end', async () => {
        const id = tag('head-endless')
        const response = await fetch(`${server.url}/endless`, {
          method: 'HEAD',
          headers: { 'x-request-id': id },
        })
        expect(response.status).toBe(200)
        expect(await response.text()).toBe('')
        await eventually(() => noted('cancelled', id), 'the endless stream to be cancelled')
        // Cancelled unread by the HEAD answer itself (the stream fills its one-chunk queue at
        // most), not read until the request timeout cuts it off.
        expect(Number(detail('cancelled', id))).toBeLessThanOrEqual(2)
        const line = await eventually(
          () => server.logs.find((entry) => entry.msg === 'request' && entry.requestId === id),
          'the access line',
        )
        expect(line.status).toBe(200)
        expect(
          server.logs.filter((entry) => entry.msg === 'request timed out' && entry.requestId === id),
        ).toEqual([])
      })

    it('stops an endless body when the client hangs up, and logs it as 499', async () => {
      const id = tag('cut')
      await cutOff(server.port, '/endless', id)
      const line = await eventually(
        () => server.logs.find((entry) => entry.msg === 'request' && entry.requestId === id),
        'the access line',
      )
      expect(line.status).toBe(499)
      if (kind === 'fetch')
        await eventually(() => noted('cancelled', id), 'the endless stream to be cancelled')
      expect((await fetch(`${server.url}/`)).status).toBe(200) // the worker serves on
    })

    it('lets the app add to a preset header with res.appendHeader()', async () => {
      const response = await fetch(`${server.url}/append`)
      expect(response.status).toBe(200)
      expect(await response.text()).toBe('appended\n')
      const policy = response.headers.get('permissions-policy') ?? ''
      expect(policy).toContain('fullscreen=(self)')
      if (layer.defaultStack && kind !== 'fetch') expect(policy).toContain('camera=()')
      // The addition stays on that response: the next one has the preset alone.
      const next = await fetch(`${server.url}/`)
      expect(next.headers.get('permissions-policy') ?? '').not.toContain('fullscreen')
      await next.arrayBuffer()
    })

    if (layer.defaultStack)
      it('carries the security headers on every answer of its own', async () => {
        for (const path of ['/livez', '/no/such/page', '/hang']) {
          const response = await fetch(`${server.url}${path}`)
          if (path === '/no/such/page' && !['express', 'connect'].includes(name)) {
            await response.arrayBuffer()
            continue // the app's own 404
          }
          expect(response.headers.get('x-frame-options'), path).toBe('DENY')
          expect(response.headers.get('content-security-policy'), path).toContain("default-src 'self'")
          expect(response.headers.get('x-content-type-options'), path).toBe('nosniff')
          expect(response.headers.get('cache-control'), path).toBe('no-store')
          expect(response.headers.get('x-request-id'), path).toBeTruthy()
          await response.arrayBuffer()
        }
      })
  })
}
