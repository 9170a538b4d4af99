/**
 * TCP_NODELAY on the connections a worker is handed. Node exposes no way to read a socket
 * option back, so the test shows its effect against a control in the same run: a node:http
 * server with Nagle's algorithm left on (`noDelay: false`, what a handed connection had), which
 * answers the same two-chunk response (the second chunk 1 ms after the first). With Nagle on, the
 * second chunk waits for the client's delayed ACK of the first, about 40 ms on Linux; with
 * TCP_NODELAY it follows at once. The assertion is relative (three times shorter than the
 * control's, by the median of 15 runs), never a number of milliseconds: the absolute figures
 * are in bench/README.md (two-chunk).
 */
import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../_test/cli.js'
import { fixture } from './_test/fixtures.js'

/**
 * The time between the first chunk's arrival and the second's, for `runs` requests one after
 * the other on one keep-alive connection; the median, leaving out the first request: on a fresh
 * connection the client acknowledges at once (Linux's quick-ACK start), the stall comes after.
 */
async function medianGap(port: number, runs = 15): Promise<number> {
  const socket = connect(port, '127.0.0.1')
  await new Promise((connected, failed) => socket.once('connect', connected).once('error', failed))
  socket.setEncoding('latin1')
  const gaps: number[] = []
  try {
    for (let i = 0; i <= runs; i++) {
      const gap = await new Promise<number>((resolve) => {
        let received = ''
        let firstAt = 0
        const onData = (chunk: string) => {
          received += chunk
          const now = performance.now()
          if (firstAt === 0 && received.includes('first')) firstAt = now
          if (!received.includes('second')) return
          socket.off('data', onData)
          resolve(now - firstAt)
        }
        socket.on('data', onData)
        socket.write('GET /two-chunks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
      })
      if (i > 0) gaps.push(gap)
    }
  } finally {
    socket.destroy()
  }
  gaps.sort((a, b) => a - b)
  return gaps[Math.floor(runs / 2)] as number
}

describe('connections handed to a worker', () => {
  let server: Running
  let control: Server
  beforeAll(async () => {
    server = await startServe([fixture('streams.ts'), '--workers', '2'])
    control = createServer({ noDelay: false }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first\n')
      setTimeout(() => res.end('second\n'), 1)
    })
    await new Promise<void>((listening) => control.listen(0, '127.0.0.1', listening))
    await ready(server, 2)
  })
  afterAll(async () => {
    await server.stop()
    control.closeAllConnections()
    await new Promise((closed) => control.close(closed))
  })

  it('have TCP_NODELAY: a second chunk follows the first without waiting for the delayed ACK', async () => {
    const withNagle = await medianGap((control.address() as AddressInfo).port)
    const served = await medianGap(Number(new URL(server.url).port))
    expect(served * 3).toBeLessThan(withNagle)
  })
})
