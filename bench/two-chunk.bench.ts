/**
 * The delayed-ACK stall: the time between the first and second chunk of a response whose second
 * chunk follows the first by 1 ms, as a client on loopback sees it, one request at a time on a
 * keep-alive connection. With Nagle's algorithm on, the second chunk waits for the client's delayed
 * ACK of the first (about 40 ms on Linux). Anchors in the same run: a plain node:http listener
 * (TCP_NODELAY, node:http's default) and the same listener with Nagle on.
 * Usage: npm run bench -- two-chunk [--runs 50]
 */
import { connect } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, median, printTable, root, start, stop, waitForOk } from './_lib.ts'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } }, allowPositionals: true })
const runs = Number(values.runs)

/**
 * ms from the first chunk's arrival to the second's, and from the request to the whole response,
 * for `runs` requests in turn on one keep-alive connection (after a first one left out: a fresh
 * connection starts in quick-ACK mode, the stall comes after).
 */
async function measure(port: number): Promise<{ gaps: number[]; totals: number[] }> {
  const socket = connect(port, '127.0.0.1')
  await new Promise((connected, failed) => socket.once('connect', connected).once('error', failed))
  socket.setEncoding('latin1')
  const gaps: number[] = []
  const totals: number[] = []
  for (let i = 0; i <= runs; i++) {
    const { gap, total } = await new Promise<{ gap: number; total: number }>((resolve) => {
      let received = ''
      let firstAt = 0
      const sentAt = performance.now()
      const onData = (chunk: string) => {
        received += chunk
        const now = performance.now()
        if (firstAt === 0 && received.includes('first')) firstAt = now
        if (!received.includes('second')) return
        socket.off('data', onData)
        resolve({ gap: now - firstAt, total: now - sentAt })
      }
      socket.on('data', onData)
      socket.write('GET /two-chunks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    })
    if (i > 0) {
      gaps.push(gap)
      totals.push(total)
    }
  }
  socket.destroy()
  return { gaps, totals }
}

const app = 'bench/apps/two-chunks.ts'
const targets: { name: string; args: (port: number) => string[] }[] = [
  { name: 'node:http (anchor, TCP_NODELAY)', args: (port) => [app, String(port)] },
  { name: 'node:http with Nagle on', args: (port) => [app, String(port), 'nagle'] },
  {
    name: 'shipshape serve, 2 workers',
    args: (port) => [
      join(root, 'dist/cli/bin.js'),
      'serve',
      app,
      '--workers',
      '2',
      '--bind',
      `127.0.0.1:${port}`,
    ],
  },
]

const rows: Record<string, string | number>[] = []
let anchor = 0
for (const target of targets) {
  const port = await freePort()
  const server = start(process.execPath, target.args(port), { LOG_LEVEL: 'warn' })
  try {
    await waitForOk(`http://127.0.0.1:${port}/`)
    await measure(port) // warm up
    const { gaps, totals } = await measure(port)
    const gap = median(gaps)
    anchor ||= gap
    rows.push({
      server: target.name,
      runs,
      'gap ms (median)': gap.toFixed(2),
      'gap ms (p90)': gaps.sort((a, b) => a - b)[Math.floor(runs * 0.9)]?.toFixed(2) ?? '',
      'response ms (median)': median(totals).toFixed(2),
      'gap vs anchor': `${(gap / anchor).toFixed(1)}×`,
    })
  } finally {
    await stop(server)
  }
}
printTable(rows)
