/**
 * `npm run bench -- idle-memory [--rounds N] [--requests N]`: what a `shipshape serve` worker
 * costs in memory over a bare node:http worker serving the same page (bench/apps/page.ts, one
 * worker of bench/apps/bare-cluster.ts, the server bench's anchor (a)), once both have served a
 * few requests and gone quiet (issue 18: ≤ 8 MB RSS more). Anchor (h), the bare worker sending
 * shipshape's headers with a fresh request id, shows what making request ids costs on its own:
 * the first randomUUID pages in OpenSSL. Rounds alternate; medians. RSS, PSS and anonymous
 * memory from /proc/<pid>/smaps_rollup.
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
/** Anchor (h): its X-Request-Id comes from randomUUID, whose first call pages in OpenSSL (about 7 MB). */
const bareHeaders = (port: number) =>
  start(node, ['bench/apps/bare-headers-cluster.ts'], { PORT: String(port), WORKERS: '1' })
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

const results: { bare: Memory; headers: Memory; serve: Memory }[] = []
for (let round = 1; round <= rounds; round++) {
  const pair = {
    bare: await measure(bare, (primary) => descendants(primary)[0] as number),
    headers: await measure(bareHeaders, (primary) => descendants(primary)[0] as number),
    serve: await measure(serve, worker),
  }
  console.log(
    `round ${round}/${rounds}: bare ${pair.bare.rss.toFixed(1)} MB RSS, bare with headers ${pair.headers.rss.toFixed(1)}, worker ${pair.serve.rss.toFixed(1)}`,
  )
  results.push(pair)
}
type Sample = (typeof results)[number]
const row = (name: string, pick: (sample: Sample) => Memory) => {
  const of = (field: keyof Memory) => median(results.map((r) => pick(r)[field]))
  return { process: name, 'RSS MB': of('rss'), 'PSS MB': of('pss'), 'anonymous MB': of('anonymous') }
}
const [b, h, s] = [
  row('bare node:http worker', (r) => r.bare),
  row("bare worker sending shipshape's headers", (r) => r.headers),
  row('shipshape serve worker', (r) => r.serve),
]
const signed = (mb: number) => `${mb >= 0 ? '+' : ''}${mb.toFixed(1)}`
const over = (name: string, minus: typeof b) => ({
  process: name,
  'RSS MB': signed(s['RSS MB'] - minus['RSS MB']),
  'PSS MB': signed(s['PSS MB'] - minus['PSS MB']),
  'anonymous MB': signed(s['anonymous MB'] - minus['anonymous MB']),
})
printTable([
  ...[b, h, s].map((r) => ({
    process: r.process,
    'RSS MB': r['RSS MB'].toFixed(1),
    'PSS MB': r['PSS MB'].toFixed(1),
    'anonymous MB': r['anonymous MB'].toFixed(1),
  })),
  over('worker over bare', b),
  over('worker over bare with headers', h),
])
