/**
 * WebSockets under a real `shipshape serve` with two workers, with the libraries apps use: `ws`
 * and Socket.IO on a node:http server, @fastify/websocket. Each upgrade meets the Host
 * allow-list and an Origin check before the app, is logged when it closes, and gets a close
 * frame 1001 when its worker drains.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { io } from 'socket.io-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { raw } from '../_test/socket.js'
import { fixture } from './_test/fixtures.js'
import { openWebSocket, strictClient } from './_test/websocket.js'

const pidOf = (text: string) => Number(/pid (\d+)/.exec(text)?.[1])
const portOf = (url: string) => Number(new URL(url).port)
const upgradeRequest = (host: string, extra = '') =>
  `GET /chat HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
  `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`

describe('ws on a node:http server exported as the app', () => {
  let server: Running
  beforeAll(async () => {
    server = await startServe([
      fixture('ws-node.ts'),
      '--workers',
      '2',
      '--graceful-timeout',
      '60s',
      '--allowed-hosts',
      '127.0.0.1,app.example',
    ])
    await ready(server, 2)
  })
  afterAll(() => server.stop())

  it('reaches the app’s upgrade listener and echoes; plain requests still reach its request listener', async () => {
    const client = await openWebSocket(`${server.url}/chat`, { origin: server.url })
    expect(await client.next()).toMatch(/^hello from pid \d+$/)
    client.socket.send('hi')
    expect(await client.next()).toBe('echo: hi')
    client.socket.close()
    expect((await get(`${server.url}/`)).body).toMatch(/^http pid \d+\n$/)
  })

  it('refuses a handshake from a page on another site with 403, before the app sees it', async () => {
    await expect(openWebSocket(`${server.url}/chat`, { origin: 'https://evil.example' })).rejects.toThrow(
      'refused with 403',
    )
    await expect(openWebSocket(`${server.url}/chat`, { origin: 'null' })).rejects.toThrow('refused with 403')
    const answer = await raw(
      portOf(server.url),
      upgradeRequest('127.0.0.1', 'Origin: https://evil.example\r\nX-Request-Id: ws-evil\r\n'),
    )
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
    expect(answer).toContain('SHIPSHAPE_E_WEBSOCKET_ORIGIN')
    expect(answer).toMatch(/\r\ncontent-security-policy: /i) // shipshape's headers, as on every refusal
    const refused = await server.waitForLog((l) => l.requestId === 'ws-evil', 'the refusal')
    expect(refused).toMatchObject({ msg: 'WebSocket refused: opened from a page on another site', level: 40 })
    // The app never had the socket: shipshape would have logged its close.
    expect(server.logs.filter((l) => l.requestId === 'ws-evil')).toHaveLength(1)
  })

  it('refuses a handshake naming a host not allowed with 400, as any request', async () => {
    const answer = await raw(portOf(server.url), upgradeRequest('evil.example'))
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).not.toContain('101 Switching')
  })

  it('redirects a plain-HTTP handshake for a real domain to https, as any request', async () => {
    const answer = await raw(portOf(server.url), upgradeRequest('app.example'))
    expect(answer).toMatch(/^HTTP\/1\.1 301 /)
    expect(answer).toMatch(/\r\nlocation: https:\/\/app\.example\/chat\r\n/i)
  })

  it('accepts a handshake from a page on another allowed host', async () => {
    const client = await openWebSocket(`${server.url}/chat`, { origin: 'https://app.example' })
    expect(await client.next()).toMatch(/^hello from pid/)
    client.socket.close()
  })

  it('writes one access line when a WebSocket closes: its duration and bytes each way', async () => {
    const client = await openWebSocket(`${server.url}/chat?room=1`, {
      headers: { 'x-request-id': 'ws-access-line' },
    })
    await client.next()
    client.socket.send('x'.repeat(100))
    await client.next()
    client.socket.close(1000)
    const line = await server.waitForLog(
      (l) => l.msg === 'websocket closed' && l.requestId === 'ws-access-line',
      'the access line',
    )
    expect(line).toMatchObject({ method: 'GET', path: '/chat', status: 101 })
    expect(line.bytesIn).toBeGreaterThan(100) // the frame of 100 bytes, masked, and the close frame
    expect(line.bytesOut).toBeGreaterThan(100 + 'echo: '.length) // the 101, the hello and the echo
    expect(line.ms).toBeGreaterThan(0)
  })

  it('sends nothing after its close frame 1001, as RFC 6455 asks and browsers check', async () => {
    // `ws` answers the client's echo of a close frame it did not send with a close frame of its
    // own; Chromium takes a frame after the close as a broken connection and reports 1006.
    const client = strictClient(portOf(server.url), '/chat')
    await client.ready
    server.child.kill('SIGHUP')
    const frames = await client.frames
    expect(frames.map((frame) => frame.opcode)).toEqual([1, 8])
    expect(frames[1]).toMatchObject({ code: 1001 })
  })

  it('sends open WebSockets a close frame 1001 on reload, and the old workers leave at once', async () => {
    const client = await openWebSocket(`${server.url}/chat`)
    const oldPid = pidOf(await client.next())
    server.child.kill('SIGHUP')
    expect(await client.closed).toMatchObject({ code: 1001 })
    await server.waitForLog(
      (l) => l.msg === 'fixture: websocket closed' && l.pid === oldPid && l.code === 1001,
      'the app saw the client close with 1001',
    )
    // The graceful timeout is 60 s: an old worker that waited for it would not exit within the wait.
    const exit = await server.waitForLog(
      (l) => l.msg === 'worker exited' && l.worker === oldPid,
      'old worker exit',
    )
    expect(exit.code).toBe(0)
    const again = await openWebSocket(`${server.url}/chat`)
    expect(pidOf(await again.next())).not.toBe(oldPid)
    again.socket.close()
  })
})

describe('Socket.IO on a node:http server exported as the app', () => {
  let server: Running
  beforeAll(async () => {
    server = await startServe([fixture('socketio.ts'), '--workers', '2'])
    await ready(server, 2)
  })
  afterAll(() => server.stop())

  it('connects over WebSocket, echoes, and reconnects to a new worker after a reload', async () => {
    const client = io(server.url, {
      transports: ['websocket'],
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    })
    try {
      const first = await client.emitWithAck('echo', 'one')
      expect(first).toMatch(/^echo: one from pid \d+$/)
      const reconnected = new Promise((resolve) => client.io.once('reconnect', resolve))
      server.child.kill('SIGHUP')
      await server.waitForLog((l) => l.msg.startsWith('reload complete'), 'reload complete')
      await reconnected
      const second = await client.emitWithAck('echo', 'two')
      expect(pidOf(second)).not.toBe(pidOf(first))
    } finally {
      client.close()
    }
  })

  it('serves its long-polling transport through the pipeline, with shipshape’s headers', async () => {
    const handshake = await get(`${server.url}/socket.io/?EIO=4&transport=polling`)
    expect(handshake.status).toBe(200)
    expect(handshake.body).toMatch(/^0\{"sid":/)
    expect(handshake.headers['x-content-type-options']).toBe('nosniff')
    expect(handshake.headers['x-request-id']).toBeDefined()
  })
})

describe('Fastify with @fastify/websocket', () => {
  let server: Running | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  it('echoes, then on SIGTERM gets 1001 and runs the app’s onClose hook', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'fastify-ws-')), 'marker')
    server = await startServe([fixture('fastify-ws.ts'), '--workers', '2'], { FIXTURE_MARKER: marker })
    await ready(server, 2)
    const client = await openWebSocket(`${server.url}/ws`, { origin: server.url })
    client.socket.send('hi')
    expect(await client.next()).toBe('echo: hi')
    expect((await get(`${server.url}/`)).body).toMatch(/^fastify pid/)
    server.child.kill('SIGTERM')
    expect(await client.closed).toMatchObject({ code: 1001 })
    expect(await server.exited).toBe(0)
    expect(readFileSync(marker, 'utf8').match(/^fastify onClose \d+$/gm)).toHaveLength(2)
  })
})
