/**
 * How close to --headers-timeout a slowloris client is cut off: clients send their request head
 * one byte a second from the moment they connect, and never finish it; each one's time from connect to its 408 is compared with
 * the setting. The clients start over 3 s, so they sample the whole cycle of
 * the server's periodic connection check instead of one point of it.
 * Usage: npm run bench -- slowloris [--timeouts 2s,10s] [--clients 8]
 */
import { connect } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, median, printTable, root, start, stop, waitForOk } from './_lib.ts'

const { values } = parseArgs({
  options: {
    timeouts: { type: 'string', default: '2s,10s' },
    clients: { type: 'string', default: '8' },
  },
  allowPositionals: true,
})
const clients = Number(values.clients)

/** Connects, trickles a request head that never ends, and resolves with ms until the server's 408 and close. */
function slowClient(port: number): Promise<{ ms: number; status: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const started = performance.now()
    const head = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: '
    let sent = 0
    let answer = ''
    const send = () => {
      if (socket.writable) socket.write(head[sent++ % head.length] ?? 'x')
    }
    socket.once('connect', send)
    const trickle = setInterval(send, 1000)
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(trickle)
      resolve({ ms: performance.now() - started, status: answer.slice(9, 12) || 'closed' })
    })
  })
}

const rows: Record<string, string | number>[] = []
for (const timeout of values.timeouts.split(',')) {
  const port = await freePort()
  const server = start(process.execPath, [
    join(root, 'dist/cli/bin.js'),
    'serve',
    'bench/apps/page.ts',
    '--workers',
    '1',
    '--bind',
    `127.0.0.1:${port}`,
    '--headers-timeout',
    timeout,
  ])
  try {
    await waitForOk(`http://127.0.0.1:${port}/readyz`)
    const settingMs = Number.parseFloat(timeout) * 1000
    const results = await Promise.all(
      Array.from(
        { length: clients },
        (_, i) =>
          new Promise<{ ms: number; status: string }>((resolve) =>
            setTimeout(() => resolve(slowClient(port)), (i * 3000) / clients),
          ),
      ),
    )
    const late = results.map((r) => r.ms - settingMs)
    rows.push({
      'headers timeout': timeout,
      clients,
      '408s': results.filter((r) => r.status === '408').length,
      'late ms (median)': median(late).toFixed(0),
      'late ms (min)': Math.min(...late).toFixed(0),
      'late ms (max)': Math.max(...late).toFixed(0),
    })
  } finally {
    await stop(server)
  }
}
printTable(rows)
