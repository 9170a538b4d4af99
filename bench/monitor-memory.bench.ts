/**
 * What monitoring costs the primary's memory: `shipshape serve` (1 worker, the embedded database)
 * with nothing monitored (the anchor: the monitor is never loaded) and with seven checks of its
 * own pages and a TCP port probed every second, a heartbeat and the burn-rate sampling. The
 * primary's RSS and PSS (/proc/<pid>/smaps_rollup) after it has monitored for --settle seconds;
 * rounds alternate off and on, and the median of each is reported.
 * Usage: npm run bench -- monitor-memory [--rounds 1] [--settle 10] (about a minute a round)
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { freePort, median, memoryMb, printTable, root, start, stop, waitForOk } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '1' }, settle: { type: 'string', default: '10' } },
  allowPositionals: true,
})
const rounds = Number(values.rounds)
const settleMs = Number(values.settle) * 1000
const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-monitor-memory-'))
const every = { interval: '1s', timeout: '500ms' }
const configs = {
  off: {},
  on: {
    monitor: {
      checks: [
        ...['/', '/a', '/b', '/c', '/d', '/e', '/f'].map((url, index) => ({
          name: `page-${index}`,
          url,
          ...every,
        })),
        { name: 'port', tcp: '127.0.0.1:1', ...every },
      ],
      heartbeats: [{ name: 'job', period: '1h' }],
      auditInterval: 0,
    },
  },
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const measured: Record<string, { rss: number; pss: number }[]> = { off: [], on: [] }
for (let round = 0; round < rounds; round++) {
  for (const [name, config] of Object.entries(configs)) {
    const file = join(dir, `${name}.json`)
    writeFileSync(file, JSON.stringify(config))
    const port = await freePort()
    const server = start(
      process.execPath,
      [
        ...[join(root, 'dist/cli/bin.js'), 'serve', join(root, 'bench/apps/page.ts'), '--config', file],
        ...['--workers', '1', '--bind', `127.0.0.1:${port}`, '--db-data-dir', join(dir, 'db')],
        ...['--pidfile', join(dir, 'serve.pid')],
      ],
      { SHIPSHAPE_DB_EMBEDDED: 'true', NODE_ENV: 'production' },
    )
    try {
      await waitForOk(`http://127.0.0.1:${port}/readyz`, 90_000)
      await sleep(settleMs)
      measured[name]?.push(memoryMb(server.pid as number))
    } finally {
      await stop(server)
    }
  }
}
const off = measured.off as { rss: number; pss: number }[]
const on = measured.on as { rss: number; pss: number }[]
const rss = { off: median(off.map((m) => m.rss)), on: median(on.map((m) => m.rss)) }
const pss = { off: median(off.map((m) => m.pss)), on: median(on.map((m) => m.pss)) }
printTable([
  {
    primary: 'nothing monitored (anchor)',
    'RSS MB': rss.off.toFixed(1),
    'PSS MB': pss.off.toFixed(1),
    ratio: '1.00',
  },
  {
    primary: '8 checks every second, a heartbeat',
    'RSS MB': rss.on.toFixed(1),
    'PSS MB': pss.on.toFixed(1),
    ratio: (rss.on / rss.off).toFixed(2),
  },
])
console.log(
  `monitoring adds ${(rss.on - rss.off).toFixed(1)} MB RSS (${(pss.on - pss.off).toFixed(1)} MB PSS) to the primary; rounds: off ${off.map((m) => m.rss.toFixed(1)).join(', ')}, on ${on.map((m) => m.rss.toFixed(1)).join(', ')}`,
)
