/**
 * `npm run bench -- idle-memory [--rounds N] [--requests N]`: what a `shipshape serve` worker
 * costs in memory over a bare node:http worker serving the same page (bench/apps/page.ts, one
 * worker of bench/apps/bare-cluster.ts, the server bench's anchor (a)), once
 * both have served a few requests and gone quiet (issue 18: ≤ 8 MB RSS more). Rounds alternate
 * between the two; medians. RSS, PSS and anonymous memory from /proc/<pid>/smaps_rollup.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { descendants, freePort, median, memoryMb, printTable, root, start, stop, waitForOk } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, requests: { type: 'string', default: '50' } },
})
const rounds = Number(values.rounds)
const requests = Number(values.requests)
const node = process.execPath
/** Long enough for the worker's start-up to settle and a timer or two to run. */
const settleMs = 3000

type Memory = ReturnType<typeof memoryMb>

/** Serves the page, sends it `requests` requests one by one, waits, and reads the serving process. */
async function measure(launch: (port: number) => ReturnType<typeof start>, serving: (pid: number) => number) {
  const port = await freePort()
  const child = launch(port)
  try {
    const url = `http://127.0.0.1:${port}/`
    await waitForOk(url)
    for (let i = 0; i < requests; i++) await (await fetch(url)).arrayBuffer()
    await new Promise((settle) => setTimeout(settle, settleMs))
    return memoryMb(serving(child.pid as number))
  } finally {
    await stop(child)
  }
}

const bare = (port: number) =>
  start(node, ['bench/apps/bare-cluster.ts'], { PORT: String(port), WORKERS: '1' })
const serve = (port: number) =>
  start(node, [
    join(root, 'dist/cli/bin.js'),
    'serve',
    'bench/apps/page.ts',
    '--bind',
    `127.0.0.1:${port}`,
    '--workers',
    '1',
  ])
/** The worker, not the primary nor the embedded database's process. */
const worker = (primary: number) =>
  descendants(primary).find((pid) =>
    readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('_worker.js'),
  ) as number

const results: { bare: Memory; serve: Memory }[] = []
for (let round = 1; round <= rounds; round++) {
  const pair = {
    bare: await measure(bare, (primary) => descendants(primary)[0] as number),
    serve: await measure(serve, worker),
  }
  console.log(
    `round ${round}/${rounds}: bare ${pair.bare.rss.toFixed(1)} MB RSS, worker ${pair.serve.rss.toFixed(1)} MB RSS`,
  )
  results.push(pair)
}
const row = (name: string, pick: (pair: { bare: Memory; serve: Memory }) => Memory) => {
  const of = (field: keyof Memory) => median(results.map((r) => pick(r)[field]))
  return { process: name, 'RSS MB': of('rss'), 'PSS MB': of('pss'), 'anonymous MB': of('anonymous') }
}
const rows = [row('bare node:http worker', (r) => r.bare), row('shipshape serve worker', (r) => r.serve)]
const [b, s] = rows as [ReturnType<typeof row>, ReturnType<typeof row>]
printTable([
  ...rows.map((r) => ({
    process: r.process,
    'RSS MB': r['RSS MB'].toFixed(1),
    'PSS MB': r['PSS MB'].toFixed(1),
    'anonymous MB': r['anonymous MB'].toFixed(1),
  })),
  {
    process: 'worker over bare',
    'RSS MB': `+${(s['RSS MB'] - b['RSS MB']).toFixed(1)}`,
    'PSS MB': `+${(s['PSS MB'] - b['PSS MB']).toFixed(1)}`,
    'anonymous MB': `+${(s['anonymous MB'] - b['anonymous MB']).toFixed(1)}`,
  },
])
