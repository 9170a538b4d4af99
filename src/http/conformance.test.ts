/**
 * The same assertions against every kind of app shipshape wraps, through real sockets. Each
 * fixture in _test/ implements the same routes idiomatically for its framework.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { metricsRegistry } from '../observe/index.js'
import type { AppKind } from '../types.js'
import { detectKind } from './_adapters.js'
import { aborted, hello, release, thrown } from './_test/_shared.js'
import { eventually, serve } from './_test/harness.js'

const fixtures: { name: string; kind: AppKind }[] = [
  { name: 'node', kind: 'node' },
  { name: 'express', kind: 'express' },
  { name: 'connect', kind: 'connect' },
  { name: 'koa', kind: 'koa' },
  { name: 'fastify', kind: 'fastify' },
  { name: 'hono', kind: 'fetch' },
  { name: 'fetch', kind: 'fetch' },
]

const entry = (name: string) => fileURLToPath(new URL(`./_test/${name}.ts`, import.meta.url))

async function timeoutsCounted(): Promise<number> {
  const metric = (await metricsRegistry()).getSingleMetric('shipshape_request_timeouts_total')
  return (await metric?.get())?.values[0]?.value ?? 0
}

describe.each(fixtures)('$name app', ({ name, kind }) => {
  let server: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    server = await serve(entry(name), { timeoutMs: 600, maxBodyBytes: 64 * 1024 })
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
    const id = `stream-${name}`
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
    const response = await fetch(`${server.url}/throw`, { headers: { 'x-request-id': `throw-${name}` } })
    expect(response.status).toBe(500)
    const body = await response.text()
    expect(body).not.toMatch(/\bat .*[/\\]|\.ts:\d+/)
    if (kind !== 'fastify') expect(body).not.toContain(thrown) // Fastify's own 500 names the message, never the stack
    const logged = await eventually(
      () => server.logs.find((line) => line.level === 50 && line.requestId === `throw-${name}`),
      'the error log line',
    )
    expect((logged.err as { stack: string }).stack).toContain(thrown)
  })

  it('answers an error that names its 4xx status (http-errors) with it and its headers, and logs no failure', async () => {
    const id = `refuse-${name}`
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
    const before = await timeoutsCounted()
    const id = `hang-${name}`
    const response = await fetch(`${server.url}/hang`, { headers: { 'x-request-id': id } })
    expect(response.status).toBe(503)
    expect(response.headers.get('x-request-id')).toBe(id)
    expect(await response.text()).toContain('timed out')
    await eventually(() => aborted.has(id), 'the handler’s signal to fire')
    const lines = server.logs.filter((line) => line.msg === 'request timed out' && line.requestId === id)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ method: 'GET', path: '/hang', requestId: id })
    expect(lines[0]?.elapsedMs).toBeGreaterThanOrEqual(600)
    expect(await timeoutsCounted()).toBeGreaterThan(before)
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
    const id = `access-${name}`
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
})
