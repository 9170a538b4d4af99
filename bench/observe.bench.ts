/**
 * What observability costs. (1) The primary rendering 10,000 series (625 method/route/status label
 * sets × 16 lines each, over 2 workers), against prom-client rendering the same series from its
 * own registry (the anchor). (2) The same series scraped from the primary's real metrics listener
 * (PrimaryMetrics, as `serve --metrics-bind` runs it) by a scraper in a child process (fetch), and
 * the longest the scrapes held this process's event loop, against the longest over as long a
 * wait with nothing to do (the anchor: what the machine's load alone adds). (3) Capturing an error on the request path (the snapshot and queue push), against
 * creating the Error itself (the anchor). (4) The per-request CPU cost of error capture with no
 * error thrown (the tracker in the worker state, a breadcrumb kept for every line logged during a
 * request), against the per-request CPU of the same pipeline without either (the anchor), served
 * in this process over an in-memory connection (bench/_inprocess.ts), alternating in batches.
 * Usage: npm run bench -- observe [--rounds 7] [--requests 20000]
 */
import { spawn, spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { Counter, Histogram, Registry } from 'prom-client'
import { createHttpServer, createPipeline, durationBuckets, loadApp } from '../dist/http/index.js'
import {
  createLogger,
  createTracker,
  MetricsAggregator,
  sampleProcess,
  startErrorTracking,
} from '../dist/observe/index.js'
import { PrimaryMetrics } from '../dist/server/_metrics-primary.js'
import { loadServeOptions } from '../dist/server/index.js'
import { connect, cpuPerRequest } from './_inprocess.ts'
import { freePort, httpServerOptions, median, pipelineOptions, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, requests: { type: 'string', default: '20000' } },
  allowPositionals: true,
})
// The pipeline's access log writes to stdout: the measuring process runs with stdout on /dev/null
// and prints its table on stderr.
if (process.env.OBSERVE_BENCH !== 'measure') {
  const { status } = spawnSync(
    process.execPath,
    ['--expose-gc', new URL(import.meta.url).pathname, ...process.argv.slice(2)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, OBSERVE_BENCH: 'measure', LOG_LEVEL: 'info' },
    },
  )
  process.exit(status ?? 1)
}
const rounds = Number(values.rounds)
const requests = Number(values.requests)
const labelSets = 625

// (4), first, while the heap is small (each batch starts with a collection). As a serve worker builds it (the default settings; no database: nothing is thrown), and the
// same pipeline without the tracker and without breadcrumbs.
const entry = `${root}bench/apps/page.ts`
const app = await loadApp(entry, 'auto')
const served = (tracked: boolean) => {
  const logger = createLogger({ pretty: false, breadcrumbs: tracked })
  const worker = tracked
    ? { errors: startErrorTracking(loadServeOptions(entry, {}, {}).observe, logger) }
    : undefined
  const pipeline = createPipeline(app, { ...pipelineOptions, accessLog: true, worker }, logger, [])
  const server = createHttpServer(pipeline, httpServerOptions)
  return connect(server, 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n')
}
const drivers = { untracked: served(false), tracked: served(true) }
await drivers.untracked.run(requests) // warm-up: JIT, caches
await drivers.tracked.run(requests)
// Each round alternates the two in batches, so the other processes' load falls on both alike, and
// collects the garbage before each batch, so neither pays for collecting the other's; the cost is
// the round's ratio of their CPU per request.
const batches = 10
const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc
// The young generation is where each batch's garbage is (a full collection takes far longer).
const collect = () => gc?.({ type: 'minor' })
const cpu = { untracked: [] as number[], tracked: [] as number[] }
const costs: number[] = []
for (let round = 0; round < rounds; round++) {
  const used = { untracked: 0, tracked: 0 }
  for (let batch = 0; batch < batches; batch++) {
    const order =
      (round + batch) % 2 ? (['tracked', 'untracked'] as const) : (['untracked', 'tracked'] as const)
    for (const mode of order) {
      collect()
      used[mode] += await cpuPerRequest(drivers[mode], requests / batches)
    }
  }
  cpu.untracked.push(used.untracked / batches)
  cpu.tracked.push(used.tracked / batches)
  costs.push(used.tracked / used.untracked - 1)
}

const heartbeat = (pid: number) => ({
  http: {
    series: Array.from({ length: labelSets }, (_, i) => ({
      method: i % 2 ? 'GET' : 'POST',
      route: `/route/${i}/:id`,
      status: 200,
      count: 1000 + pid + i,
      sum: 12.5,
      buckets: durationBuckets.map(() => 10).concat(5),
    })),
    timeouts: 0,
    inflight: 0,
    webSockets: { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 },
  },
  process: sampleProcess(),
})
const aggregator = new MetricsAggregator()
for (const pid of [1, 2]) aggregator.receive(pid, heartbeat(pid))
const registry = new Registry()
const counter = new Counter({
  name: 'http_requests_total',
  help: 'h',
  labelNames: ['method', 'route', 'status_code'],
  registers: [registry],
})
const histogram = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'h',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [...durationBuckets],
  registers: [registry],
})
for (let i = 0; i < labelSets; i++) {
  const labels = { method: i % 2 ? 'GET' : 'POST', route: `/route/${i}/:id`, status_code: '200' }
  counter.inc(labels, 2000)
  histogram.observe(labels, 0.02)
}
const primary = sampleProcess()
const lines = (await aggregator.render(false, primary))
  .split('\n')
  .filter((line) => line && !line.startsWith('#')).length

// The primary's own listener, fed as its workers' heartbeats feed it.
const port = await freePort()
const metrics = new PrimaryMetrics(
  {
    observe: { metrics: { host: '127.0.0.1', port } },
    database: { embedded: false },
    media: { driver: 's3' },
  } as unknown as ConstructorParameters<typeof PrimaryMetrics>[0],
  pino({ level: 'silent' }),
  () => undefined,
)
for (const pid of [1, 2]) metrics.beat(pid, heartbeat(pid))
const scrapeUrl = `http://127.0.0.1:${port}/metrics`
const scrapes = 10
/**
 * The longest stretch (ms, wall clock) between two turns of the event loop while `work` runs: a
 * turn is scheduled again and again with setImmediate, so nothing else can hold the loop longer
 * without showing. (The thread's CPU time would leave out waiting for a core on a loaded machine,
 * but Linux reports it to the scheduler's 4 ms tick: too coarse for a 5 ms target.)
 */
async function longestBlock(work: () => Promise<unknown>): Promise<number> {
  let longest = 0
  let running = true
  let last = performance.now()
  const turn = () => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
    if (running) setImmediate(turn)
  }
  setImmediate(turn)
  await work()
  running = false
  return longest
}
// The scraper is a process of its own, started once: starting a process blocks the one that
// starts it for several milliseconds, which would be measured as the render's.
const scraper = spawn(
  process.execPath,
  [
    '-e',
    `process.on('message', async (times) => {
      let bytes = 0
      for (let i = 0; i < times; i++) bytes = (await (await fetch(${JSON.stringify(scrapeUrl)})).arrayBuffer()).byteLength
      process.send(bytes)
    })`,
  ],
  { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
)
const scrapeTimes = (times: number) =>
  new Promise<number>((resolve) => {
    scraper.once('message', (bytes) => resolve(bytes as number))
    scraper.send(times)
  })
let scrapedBytes = await scrapeTimes(3)

const ours: number[] = []
const anchor: number[] = []
const blocked: number[] = []
const idle: number[] = []
for (let round = 0; round < rounds; round++) {
  const started = performance.now()
  for (let i = 0; i < 20; i++) await aggregator.render(false, primary)
  ours.push((performance.now() - started) / 20)
  const startedAnchor = performance.now()
  for (let i = 0; i < 20; i++) await registry.metrics()
  anchor.push((performance.now() - startedAnchor) / 20)
  let scraping = 0
  blocked.push(
    await longestBlock(async () => {
      const startedScrapes = performance.now()
      scrapedBytes = await scrapeTimes(scrapes)
      scraping = performance.now() - startedScrapes
    }),
  )
  idle.push(await longestBlock(() => new Promise((resolve) => setTimeout(resolve, scraping))))
}
metrics.close()
scraper.kill()

const tracker = createTracker({ logger: pino({ level: 'silent' }), notifiers: [], identity: {} })
const errors = Array.from({ length: 10_000 }, (_, i) => new Error(`failure ${i}`))
const timeMs = (run: () => unknown, times: number) => {
  const started = performance.now()
  for (let i = 0; i < times; i++) run()
  return (performance.now() - started) / times
}
const captureUs: number[] = []
const createUs: number[] = []
for (let round = 0; round < rounds; round++) {
  let i = 0
  createUs.push(timeMs(() => new Error(`failure ${i++}`), 10_000) * 1000)
  i = 0
  captureUs.push(timeMs(() => tracker.capture(errors[i++ % errors.length]), 4000) * 1000)
  await tracker.flush()
}

const log = console.log
console.log = console.error
printTable([
  {
    measure: `render ${lines} series (ms)`,
    shipshape: median(ours).toFixed(2),
    anchor: `${median(anchor).toFixed(2)} (prom-client)`,
    ratio: (median(ours) / median(anchor)).toFixed(2),
  },
  {
    measure: `longest event-loop block, ${scrapes} scrapes of ${scrapedBytes} bytes from the primary's listener (ms)`,
    shipshape: median(blocked).toFixed(2),
    anchor: `${median(idle).toFixed(2)} (as long idle; the rounds' longest ${Math.max(...blocked).toFixed(2)} / ${Math.max(...idle).toFixed(2)})`,
    ratio: '',
  },
  {
    measure: 'capture an error on the request path (µs)',
    shipshape: median(captureUs).toFixed(2),
    anchor: `${median(createUs).toFixed(2)} (new Error())`,
    ratio: (median(captureUs) / median(createUs)).toFixed(2),
  },
  {
    measure: 'CPU µs per request, error capture on, none thrown (median)',
    shipshape: median(cpu.tracked).toFixed(2),
    anchor: `${median(cpu.untracked).toFixed(2)} (same pipeline, capture off)`,
    ratio: `cost ${(median(costs) * 100).toFixed(1)} % (median of the rounds': ${costs.map((c) => (c * 100).toFixed(1)).join(', ')})`,
  },
])
console.log = log
process.exit(0)
