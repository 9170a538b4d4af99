/**
 * A draining worker tells the app, under a real `shipshape serve` with two workers: drainSignal
 * fires so streams can end with a reconnection hint, and the app's own shutdown hooks run (an
 * exported close(), NestJS's lifecycle hooks) on reload and on SIGTERM.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { fixture } from './_test/fixtures.js'
import { openWebSocket } from './_test/websocket.js'

let server: Running | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

const markerFile = () => join(mkdtempSync(join(tmpdir(), 'serve-drain-')), 'marker')
const exitsOf = (running: Running) => running.logs.filter((line) => line.msg === 'worker exited')

describe('drainSignal', () => {
  it('fires on reload, so an SSE stream ends with a retry hint instead of being cut at the graceful timeout', async () => {
    server = await startServe([fixture('streams.ts'), '--workers', '2', '--graceful-timeout', '60s'])
    await ready(server, 2)
    const stream = get(`${server.url}/sse-drain`)
    const open = await server.waitForLog((l) => l.msg === 'fixture: stream open', 'the stream open')
    expect(open.drainSignalIsShared).toBe(true) // getContext().drainSignal is drainSignal()
    server.child.kill('SIGHUP')
    const reply = await stream
    expect(reply.status).toBe(200)
    expect(reply.body).toBe(`data: pid ${open.pid}\n\nretry: 500\ndata: draining\n\n`)
    // Within the wait, not the 60 s graceful timeout: the stream ended, the worker left.
    await server.waitForLog(() => exitsOf(server as Running).length >= 2, 'the old workers exit')
    expect(exitsOf(server).map((line) => line.code)).toEqual([0, 0])
  })
})

describe('the app’s shutdown hooks', () => {
  it('runs an exported close() in each old worker on reload, and in each worker on SIGTERM (Hono, with @hono/node-ws)', async () => {
    const marker = markerFile()
    server = await startServe([fixture('hono-ws.ts'), '--workers', '2'], { FIXTURE_MARKER: marker })
    await ready(server, 2)
    const client = await openWebSocket(`${server.url}/ws`, { origin: server.url })
    client.socket.send('hi')
    const echo = await client.next()
    expect(echo).toMatch(/^echo: hi from pid \d+$/)
    const oldPids = server.logs.filter((l) => l.msg === 'worker ready').map((l) => l.worker)
    server.child.kill('SIGHUP')
    expect(await client.closed).toMatchObject({ code: 1001 })
    await server.waitForLog(() => exitsOf(server as Running).length >= 2, 'the old workers exit')
    expect(readFileSync(marker, 'utf8').trim().split('\n').sort()).toEqual(
      oldPids.map((pid) => `close() ${pid}`).sort(),
    )
    await server.waitForLog((l) => l.msg === "the app's shutdown hooks ran", 'the hooks line')
    expect((await get(`${server.url}/`)).body).toMatch(/^hono pid \d+\n$/)
    await ready(server, 4)
    const newPids = server.logs
      .filter((l) => l.msg === 'worker ready')
      .map((l) => l.worker)
      .slice(2)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(readFileSync(marker, 'utf8').trim().split('\n').sort()).toEqual(
      [...oldPids, ...newPids].map((pid) => `close() ${pid}`).sort(),
    )
  })

  it.each(['express', 'fastify'])(
    'runs a NestJS app’s OnModuleDestroy and OnApplicationShutdown hooks on SIGTERM (%s platform)',
    async (platform) => {
      const marker = markerFile()
      server = await startServe([fixture('nest.mjs'), '--workers', '2'], {
        FIXTURE_MARKER: marker,
        FIXTURE_NEST_PLATFORM: platform,
      })
      await ready(server, 2)
      const reply = await get(`${server.url}/`)
      expect(reply.status).toBe(200)
      expect(reply.body).toMatch(/^nest pid \d+\n$/)
      expect(reply.headers['content-security-policy']).toBeDefined() // served through the pipeline
      expect(reply.headers['x-powered-by']).toBeUndefined()
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
      const lines = readFileSync(marker, 'utf8').trim().split('\n')
      expect(lines.filter((line) => line.startsWith('nest onModuleDestroy '))).toHaveLength(2)
      expect(lines.filter((line) => line.startsWith('nest onApplicationShutdown '))).toHaveLength(2)
    },
  )
})
