/**
 * How fast the monitor pages for a hard outage, and how often. A real `shipshape serve` (embedded
 * database) probes a target this process takes down and brings back, and sends its pages to a
 * webhook receiver here (the Alertmanager payload). Each round: the target up, then down until
 * the page comes and as long again, then up until the resolve. Reported against the anchor, the
 * bound the issue sets: interval × failures + group_wait (probes are 1 s apart at most in
 * phase, so a page can come up to one interval earlier than the bound, never later by design).
 * Usage: npm run bench -- monitor [--rounds 3] [--interval 2s] [--failures 3] [--group-wait 3s]
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseDuration } from '../dist/config/index.js'
import { freePort, median, printTable, root, start, stop, waitForOk } from './_lib.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    interval: { type: 'string', default: '2s' },
    failures: { type: 'string', default: '3' },
    'group-wait': { type: 'string', default: '3s' },
  },
  allowPositionals: true,
})
const rounds = Number(values.rounds)
const intervalMs = parseDuration(values.interval) as number
const failures = Number(values.failures)
const groupWaitMs = parseDuration(values['group-wait']) as number
const boundMs = intervalMs * failures + groupWaitMs

const state = { up: true }
const target = createServer((_req, res) => {
  res.writeHead(state.up ? 200 : 503, { connection: 'close' }).end(state.up ? 'ok' : 'down')
})
const received: { at: number; status: string }[] = []
const receiver = createServer(async (req, res) => {
  let text = ''
  for await (const chunk of req) text += chunk
  received.push({ at: performance.now(), status: (JSON.parse(text) as { status: string }).status })
  res.end()
})
for (const server of [target, receiver])
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
const portOf = (server: typeof target) => (server.address() as AddressInfo).port

const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-monitor-'))
const config = join(dir, 'shipshape.json')
writeFileSync(
  config,
  JSON.stringify({
    monitor: {
      checks: [
        {
          name: 'site',
          url: `http://127.0.0.1:${portOf(target)}/`,
          interval: intervalMs,
          timeout: Math.min(1000, intervalMs / 2),
          failures,
          successes: 2,
        },
      ],
      groupWait: groupWaitMs,
      groupInterval: groupWaitMs,
      repeatInterval: '4h',
      webhook: `http://127.0.0.1:${portOf(receiver)}/hook`,
      diskFree: 0,
      // Rounds follow each other within minutes: flap suppression would rightly hold the check down.
      flapChanges: 1000,
    },
  }),
)
const port = await freePort()
const server = start(
  process.execPath,
  [
    join(root, 'dist/cli/bin.js'),
    'serve',
    join(root, 'bench/apps/page.ts'),
    '--config',
    config,
    '--workers',
    '1',
    '--bind',
    `127.0.0.1:${port}`,
    '--db-data-dir',
    join(dir, 'db'),
    '--pidfile',
    join(dir, 'serve.pid'),
  ],
  { SHIPSHAPE_DB_EMBEDDED: 'true', NODE_ENV: 'production' },
)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = performance.now() + ms
  while (!done()) {
    if (performance.now() > deadline) return false
    await sleep(20)
  }
  return true
}

const rows: Record<string, string | number>[] = []
const toPage: number[] = []
try {
  await waitForOk(`http://127.0.0.1:${port}/readyz`, 90_000)
  for (let round = 1; round <= rounds; round++) {
    state.up = true
    await sleep(intervalMs * 3)
    const before = received.length
    const downAt = performance.now()
    state.up = false
    const paged = await until(() => received.length > before, boundMs * 3)
    const pageMs = paged ? (received[before] as { at: number }).at - downAt : Number.NaN
    // As long again down: a second page for the same incident would show here.
    await sleep(Math.max(pageMs || 0, boundMs))
    const pages = received.slice(before).filter((body) => body.status === 'firing').length
    const upAt = performance.now()
    state.up = true
    await until(() => received.slice(before).some((body) => body.status === 'resolved'), boundMs * 3)
    const resolved = received.slice(before).find((body) => body.status === 'resolved')
    toPage.push(pageMs)
    rows.push({
      round,
      'first page (ms)': Math.round(pageMs),
      'bound (ms)': boundMs,
      'page / bound': (pageMs / boundMs).toFixed(2),
      'pages in the incident': pages,
      'resolve after recovery (ms)': resolved ? Math.round(resolved.at - upAt) : 'none',
    })
  }
} finally {
  await stop(server)
  target.close()
  receiver.close()
}
printTable(rows)
console.log(
  `\nmedian first page ${Math.round(median(toPage))} ms = ${(median(toPage) / boundMs).toFixed(2)} × the bound (interval ${intervalMs} ms × ${failures} failures + group_wait ${groupWaitMs} ms)`,
)
