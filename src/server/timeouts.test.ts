/**
 * The request clock under a real `shipshape serve` with two workers: the request timeout bounds
 * the time to the first byte, the idle timeout a started stream, routes and the app can take the
 * limit off, and the watchdog is a setting of its own that stays on with `--timeout 0`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { loadServeOptions } from './_composed.js'
import { fixture } from './_test/fixtures.js'

const app = fixture('streams.ts')

describe('the request clock', () => {
  let server: Running
  beforeAll(async () => {
    server = await startServe([
      app,
      '--workers',
      '2',
      '--timeout',
      '1s',
      '--idle-timeout',
      '1s',
      '--route-timeouts',
      '/events/*=0',
    ])
    await ready(server, 2)
  })
  afterAll(() => server.stop())

  const timedOut = (path: string) =>
    server.logs.filter((line) => line.msg === 'request timed out' && line.path === path)

  it('lets a Server-Sent Events stream run past the request timeout while it sends', async () => {
    // 15 events 200 ms apart: three times the request timeout, never quiet for the idle one.
    const reply = await get(`${server.url}/sse?ms=200&count=15`)
    expect(reply.status).toBe(200)
    expect(reply.body.match(/^data: /gm)).toHaveLength(16)
    expect(reply.body.endsWith('data: end\n\n')).toBe(true)
    expect(timedOut('/sse')).toEqual([])
  })

  it('still answers 503 to a request whose response has not started by the request timeout', async () => {
    const reply = await get(`${server.url}/slow?ms=4000`)
    expect(reply.status).toBe(503)
    await server.waitForLog((line) => timedOut('/slow').includes(line), 'the timeout line')
  })

  it('cuts off a stream that goes quiet for the idle timeout, and fires its signal', async () => {
    await expect(get(`${server.url}/quiet`)).rejects.toThrow(/aborted|ECONNRESET|socket hang up/)
    const line = await server.waitForLog(
      (l) => l.msg === 'response idle past the idle timeout' && l.path === '/quiet',
      'the idle line',
    )
    expect(line).toMatchObject({ idleTimeoutMs: 1000 })
    expect(line.idleMs).toBeGreaterThanOrEqual(1000)
    await server.waitForLog((l) => l.msg === 'fixture: quiet stream aborted', 'the app saw its signal')
  })

  it('gives a route exempted by --route-timeouts all the time it takes', async () => {
    const reply = await get(`${server.url}/events/poll?ms=2500`)
    expect(reply).toMatchObject({ status: 200, body: 'late but allowed\n' })
    expect(timedOut('/events/poll')).toEqual([])
  })

  it('gives a request whose app calls getContext().setTimeout(0) all the time it takes', async () => {
    const reply = await get(`${server.url}/own?ms=2500`)
    expect(reply).toMatchObject({ status: 200, body: 'own time\n' })
    expect(timedOut('/own')).toEqual([])
  })
})

describe('the watchdog', () => {
  it('still kills a worker whose event loop is blocked when request timeouts are off', async () => {
    const server = await startServe([app, '--workers', '2', '--timeout', '0', '--watchdog-timeout', '1s'])
    try {
      await ready(server, 2)
      const blocked = get(`${server.url}/block?ms=15000`).catch((error: Error) => error)
      const killed = await server.waitForLog((l) => l.msg.startsWith('worker killed'), 'the watchdog')
      expect(killed.reason).toBe('event loop blocked past the timeout')
      expect(await blocked).toBeInstanceOf(Error)
      await ready(server, 3) // its replacement
      expect((await get(`${server.url}/`)).status).toBe(200)
    } finally {
      await server.stop()
    }
  })
})

describe('timeout settings', () => {
  it('read --route-timeouts as PATH=DURATION entries, a bare number in seconds', () => {
    const options = loadServeOptions('app.js', { routeTimeouts: '/events/*=0, /export=5m,/poll=90' }, {})
    expect(options.routeTimeouts).toEqual([
      { pattern: '/events/*', ms: 0 },
      { pattern: '/export', ms: 300_000 },
      { pattern: '/poll', ms: 90_000 },
    ])
    expect(options).toMatchObject({ idleTimeoutMs: 60_000, watchdogTimeoutMs: 30_000 })
  })

  it('refuse an entry that is not PATH=DURATION before serving', () => {
    expect(() => loadServeOptions('app.js', { routeTimeouts: 'events=0' }, {})).toThrow(/PATH=DURATION/)
    expect(() => loadServeOptions('app.js', { routeTimeouts: '/events=soon' }, {})).toThrow(/PATH=DURATION/)
  })
})
