/**
 * How `shipshape serve` and its workers stop: on a signal to the primary, to the whole process
 * group, through npm, and when a worker hits an uncaught exception. Real processes, real sockets.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cli, get, type Running, ready, sleep, startServe } from '../_test/cli.js'
import { openRaw } from '../_test/socket.js'
import { fixture } from './_test/fixtures.js'

const app = fixture('app.ts')
let server: Running | undefined

afterEach(async () => {
  await server?.stop()
  server = undefined
})

const pidOf = (body: string) => Number(/pid (\d+)/.exec(body)?.[1])
const admitted = (running: Running, count: number) =>
  running.waitForLog(
    () => running.logs.filter((line) => line.msg === 'fixture: slow request admitted').length >= count,
    `${count} slow requests admitted`,
  )

describe('shipshape serve stops', () => {
  it('drains in-flight requests on SIGTERM, refuses new connections, and exits 0', async () => {
    server = await startServe([app, '--workers', '2'])
    await ready(server, 2)
    const slow = get(`${server.url}/slow?ms=1500`)
    await admitted(server, 1)
    server.child.kill('SIGTERM')
    const reply = await slow
    expect(reply.status).toBe(200)
    expect(reply.headers.connection).toBe('close')
    await expect(get(`${server.url}/`)).rejects.toThrow(/ECONNREFUSED/)
    expect(await server.exited).toBe(0)
    expect(existsSync(server.pidfile)).toBe(false)
  })

  it('drains when Ctrl-C reaches the whole process group of `npm start`, under load: nothing reset, exit 0', async () => {
    // npm relays the signal it gets to the server, which so gets it twice within milliseconds,
    // and the workers get it too: the primary must take it as one stop, the workers must wait
    // for their primary. The start script uses `exec`, as docs/server.md says.
    const dir = mkdtempSync(join(tmpdir(), 'serve-npm-'))
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        name: 'npm-start-fixture',
        private: true,
        scripts: { start: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} serve` },
      }),
    )
    const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm']
    server = await startServe(
      [app, '--workers', '2'],
      {},
      [...npm, '--prefix', dir, 'start', '--ignore-scripts', '--silent', '--'],
      { detached: true },
    )
    await ready(server, 2)
    const inflight = Array.from({ length: 32 }, () =>
      get(`${server?.url}/slow?ms=1500`).catch((error: Error) => error),
    )
    await admitted(server, 32)
    process.kill(-(server.child.pid as number), 'SIGINT')
    const replies = await Promise.all(inflight)
    expect(replies.map((reply) => (reply instanceof Error ? reply.message : reply.status))).toEqual(
      Array(32).fill(200),
    )
    expect(await server.exited).toBe(0)
    expect(server.logs.some((line) => line.msg === 'second signal: stopping now')).toBe(false)
    const exits = server.logs.filter((line) => line.msg === 'worker exited')
    expect(exits.map((line) => line.code)).toEqual([0, 0]) // drained, not killed
  })

  it('exits at once on a second signal that comes a second or more after the first', async () => {
    server = await startServe([app, '--workers', '1', '--graceful-timeout', '60s'])
    await ready(server, 1)
    const slow = get(`${server.url}/slow?ms=30000`).catch((error: Error) => error)
    await admitted(server, 1)
    server.child.kill('SIGTERM')
    await server.waitForLog((l) => l.msg.startsWith('shutting down'), 'shutting down')
    server.child.kill('SIGTERM') // within the second: the same stop, relayed
    await server.waitForLog((l) => l.msg.startsWith('SIGTERM again within'), 'relayed signal ignored')
    await sleep(1100)
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(1)
    expect(await slow).toBeInstanceOf(Error)
  })

  it('closes idle keep-alive connections at once on SIGTERM, and answers a request caught mid-way with Connection: close', async () => {
    server = await startServe([app, '--workers', '1'])
    await ready(server, 1)
    const request = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`
    const idle = await openRaw(server.url)
    idle.socket.write(`${request('/')}\r\n`)
    await idle.responses(1)
    const busy = await openRaw(server.url)
    busy.socket.write(`${request('/slow?ms=1500')}\r\n`)
    await admitted(server, 1)
    // A request whose head is on its way when the stop comes: the connection is not idle.
    const midway = await openRaw(server.url)
    midway.socket.write(`${request('/')}\r\n`)
    await midway.responses(1)
    midway.socket.write(request('/slow?ms=300'))
    await sleep(200)
    const signalled = performance.now()
    server.child.kill('SIGTERM')
    await server.waitForLog((l) => l.msg.startsWith('shutting down'), 'shutting down')
    midway.socket.write('\r\n')
    // The old worker waited 2 s before closing idle connections; now it closes them on the drain.
    expect((await idle.closedAt) - signalled).toBeLessThan(1000)
    expect(await busy.responses(1)).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\nconnection: close\r\n/i)
    expect(await midway.responses(2)).toMatch(
      /HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 200 [\s\S]*\r\nconnection: close\r\n/i,
    )
    await busy.closedAt
    await midway.closedAt
    expect(await server.exited).toBe(0)
  })

  it('closes idle keep-alive connections when it stops, well before the keep-alive timeout', async () => {
    server = await startServe([app, '--workers', '1'])
    await ready(server, 1)
    const agent = new Agent({ keepAlive: true })
    expect((await get(`${server.url}/`, agent)).status).toBe(200)
    const started = performance.now()
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(performance.now() - started).toBeLessThan(10_000)
    agent.destroy()
  })
})

describe('a worker with an uncaught exception', () => {
  it('is replaced', async () => {
    server = await startServe([app, '--workers', '1'])
    await ready(server, 1)
    await get(`${server.url}/crash`).catch(() => undefined)
    const exit = await server.waitForLog((l) => l.msg === 'worker exited', 'crashed worker')
    expect(exit.code).toBe(1)
    expect(server.logs.some((l) => l.msg.startsWith('uncaught exception'))).toBe(true)
    await ready(server, 2)
    expect((await get(`${server.url}/`)).status).toBe(200)
  })

  it('lets the other requests it holds finish, takes no new ones, exits 1 and is replaced', async () => {
    server = await startServe([app, '--workers', '1'])
    await ready(server, 1)
    const slow = Array.from({ length: 3 }, () => get(`${server?.url}/slow?ms=800`))
    await admitted(server, 3)
    const crashed = get(`${server.url}/crash?ms=50`).catch((error: Error) => error)
    await server.waitForLog((l) => l.msg.startsWith('uncaught exception'), 'uncaught exception')
    const replies = await Promise.all(slow)
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200])
    const failing = pidOf(replies[0]?.body ?? '')
    expect(replies.every((reply) => reply.headers.connection === 'close')).toBe(true)
    expect(await crashed).toBeInstanceOf(Error) // the request that threw had no answer to give
    const exit = await server.waitForLog((l) => l.msg === 'worker exited', 'failing worker exits')
    expect(exit).toMatchObject({ worker: failing, code: 1 })
    const after = await get(`${server.url}/`)
    expect(after.status).toBe(200)
    expect(pidOf(after.body)).not.toBe(failing)
  })
})
