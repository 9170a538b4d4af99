/**
 * The upgrade path in one process: a pipeline with `ws` behind it, read through the worker's
 * metrics, and an upgrade to an app whose upgrade server has no listener. The checks before the
 * app (Host, HTTPS, Origin) and the drain are tested under `shipshape serve` (src/server).
 */
import { createServer } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, serve } from '../_test/pipeline.js'
import { raw } from '../_test/socket.js'
import { metricsRegistry } from '../observe/index.js'
import { openWebSocket } from '../server/_test/websocket.js'
import type { AppHandler } from '../types.js'

const wsApp = new URL('../server/_test/ws-node.ts', import.meta.url).pathname
let close: (() => Promise<void>) | undefined
afterEach(async () => {
  await close?.()
  close = undefined
})

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = (await (await metricsRegistry()).getSingleMetric(name)?.get())?.values ?? []
  const found = values.find((value) => Object.entries(labels).every(([k, v]) => value.labels[k] === v))
  return found?.value ?? 0
}

describe('WebSocket upgrades through the pipeline', () => {
  it('counts WebSockets in the metrics: open now, closed, and bytes each way', async () => {
    const server = await serve(wsApp)
    close = server.close
    const closedBefore = await metric('shipshape_websockets_closed_total')
    const inBefore = await metric('shipshape_websocket_bytes_total', { direction: 'in' })
    const outBefore = await metric('shipshape_websocket_bytes_total', { direction: 'out' })
    const client = await openWebSocket(`${server.url}/chat`)
    await client.next()
    expect(await metric('shipshape_websockets_open')).toBe(1)
    client.socket.send('y'.repeat(1000))
    expect(await client.next()).toBe(`echo: ${'y'.repeat(1000)}`)
    client.socket.close()
    await client.closed
    await eventually(() => server.logs.some((line) => line.msg === 'websocket closed'), 'the access line')
    expect(await metric('shipshape_websockets_open')).toBe(0)
    expect(await metric('shipshape_websockets_closed_total')).toBe(closedBefore + 1)
    expect(await metric('shipshape_websocket_bytes_total', { direction: 'in' })).toBeGreaterThan(
      inBefore + 1000,
    )
    expect(await metric('shipshape_websocket_bytes_total', { direction: 'out' })).toBeGreaterThan(
      outBefore + 1000,
    )
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
