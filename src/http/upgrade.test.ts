/**
 * The upgrade path in one process: a pipeline with `ws` behind it, read through the worker's
 * metrics, and an upgrade to an app whose upgrade server has no listener. The checks before the
 * app (Host, HTTPS, Origin) and the drain are tested under `shipshape serve` (src/server).
 */
import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, serve } from '../_test/pipeline.js'
import { raw } from '../_test/socket.js'
import { openWebSocket } from '../server/_test/websocket.js'
import type { AppHandler } from '../types.js'
import { httpMetrics } from './index.js'

const wsApp = new URL('../server/_test/ws-node.ts', import.meta.url).pathname
let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

/** This process's WebSocket counts, as a worker sends them to the primary with its heartbeat. */
const webSockets = () => httpMetrics(true).webSockets

describe('WebSocket upgrades through the pipeline', () => {
  it('counts WebSockets in the metrics: open now, closed, and bytes each way', async () => {
    const server = await serve(wsApp)
    close = server.close
    const before = webSockets()
    const client = await openWebSocket(`${server.url}/chat`)
    await client.next()
    expect(webSockets().open).toBe(before.open + 1)
    client.socket.send('y'.repeat(1000))
    expect(await client.next()).toBe(`echo: ${'y'.repeat(1000)}`)
    client.socket.close()
    await client.closed
    await eventually(() => server.logs.some((line) => line.msg === 'websocket closed'), 'the access line')
    const after = webSockets()
    expect(after.open).toBe(before.open)
    expect(after.closed).toBe(before.closed + 1)
    expect(after.bytesIn).toBeGreaterThan(before.bytesIn + 1000)
    expect(after.bytesOut).toBeGreaterThan(before.bytesOut + 1000)
  })

  it('answers 404 to an upgrade when nothing listens for upgrades on the app’s upgrade server', async () => {
    const app: AppHandler = Object.assign(async () => {}, { upgrades: createServer() })
    const server = await serve(app)
    close = server.close
    const answer = await raw(
      server.port,
      'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/)
    expect(answer).toContain('nothing here accepts a WebSocket')
  })

  it('treats an upgrade as a plain request when the app has no upgrade server', async () => {
    const app: AppHandler = async ({ res }) => void res.end('plain answer')
    const server = await serve(app)
    close = server.close
    const answer = await raw(
      server.port,
      'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*plain answer$/)
  })
})
