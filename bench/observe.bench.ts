/**
 * What observability costs. (1) The primary rendering 10,000 series (625 method/route/status label
 * sets × 16 lines each, over 2 workers), against prom-client rendering the same series from its
 * own registry (the anchor); the render is synchronous, so its time is also how long it blocks
 * the primary's event loop. (2) Capturing an error on the request path (the snapshot and queue
 * push), against creating the Error itself (the anchor). (3) Throughput with no error thrown:
 * one process serving bench/apps/page.ts through the pipeline with error capture as a serve
 * worker has it, against the same pipeline without it (the anchor), in alternating rounds.
 * Usage: npm run bench -- observe [--rounds 7] [--seconds 8]
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import pino from 'pino'
import { Counter, Histogram, Registry } from 'prom-client'
import { durationBuckets } from '../dist/http/index.js'
import { createTracker, MetricsAggregator, sampleProcess } from '../dist/observe/index.js'
import { ensureWrk, freePort, median, printTable, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' }, seconds: { type: 'string', default: '8' } },
  allowPositionals: true,
})
const rounds = Number(values.rounds)
const labelSets = 625

const aggregator = new MetricsAggregator()
for (const pid of [1, 2]) {
  const series = Array.from({ length: labelSets }, (_, i) => ({
    method: i % 2 ? 'GET' : 'POST',
    route: `/route/${i}/:id`,
    status: 200,
    count: 1000 + i,
    sum: 12.5,
    buckets: durationBuckets.map(() => 10).concat(5),
  }))
  aggregator.receive(pid, {
    http: { series, timeouts: 0, inflight: 0, webSockets: { open: 0, closed: 0, bytesIn: 0, bytesOut: 0 } },
    process: sampleProcess(),
  })
}
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

const timeMs = (run: () => unknown, times: number) => {
  const started = performance.now()
  for (let i = 0; i < times; i++) run()
  return (performance.now() - started) / times
}
const ours: number[] = []
const anchor: number[] = []
const blocked: number[] = []
for (let round = 0; round < rounds; round++) {
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const started = performance.now()
  for (let i = 0; i < 20; i++) await aggregator.render(false, primary)
  ours.push((performance.now() - started) / 20)
  loop.disable()
  // The longest the loop waited, less the monitor's own 1 ms tick: the longest slice of the render.
  blocked.push(Math.max(0, loop.max / 1e6 - 1))
  const startedAnchor = performance.now()
  for (let i = 0; i < 20; i++) await registry.metrics()
  anchor.push((performance.now() - startedAnchor) / 20)
}

const tracker = createTracker({ logger: pino({ level: 'silent' }), notifiers: [], identity: {} })
const errors = Array.from({ length: 10_000 }, (_, i) => new Error(`failure ${i}`))
const captureUs: number[] = []
const createUs: number[] = []
for (let round = 0; round < rounds; round++) {
  let i = 0
  createUs.push(timeMs(() => new Error(`failure ${i++}`), 10_000) * 1000)
  i = 0
  captureUs.push(timeMs(() => tracker.capture(errors[i++ % errors.length]), 4000) * 1000)
  await tracker.flush()
}

ensureWrk()
const throughput = { untracked: [] as number[], tracked: [] as number[] }
const failures = { untracked: 0, tracked: 0 }
for (let round = 0; round < rounds; round++) {
  // Alternating, and each round in the other order: drift on a shared machine hits both alike.
  const order = round % 2 ? (['tracked', 'untracked'] as const) : (['untracked', 'tracked'] as const)
  for (const mode of order) {
    const port = await freePort()
    const child = start(process.execPath, ['bench/apps/single.ts', mode], { PORT: String(port) })
    const url = `http://127.0.0.1:${port}/`
    await waitForOk(url)
    await wrk(url, { seconds: 2, connections: 50, threads: 1 })
    const load = await wrk(url, { seconds: Number(values.seconds), connections: 50, threads: 1 })
    await stop(child)
    // On a loaded machine wrk may time a few requests out: counted, shown, not fatal.
    failures[mode] += load.failures
    throughput[mode].push(load.rps)
  }
}
const ratios = throughput.tracked.map((rps, i) => rps / (throughput.untracked[i] as number))

printTable([
  {
    measure: `render ${lines} series (ms)`,
    shipshape: median(ours).toFixed(2),
    anchor: `${median(anchor).toFixed(2)} (prom-client)`,
    ratio: (median(ours) / median(anchor)).toFixed(2),
  },
  {
    measure: 'longest event-loop block while rendering (ms)',
    shipshape: median(blocked).toFixed(2),
    anchor: '(monitorEventLoopDelay, 1 ms resolution)',
    ratio: '',
  },
  {
    measure: 'capture an error on the request path (µs)',
    shipshape: median(captureUs).toFixed(2),
    anchor: `${median(createUs).toFixed(2)} (new Error())`,
    ratio: (median(captureUs) / median(createUs)).toFixed(2),
  },
  {
    measure: 'req/s with error capture, none thrown (median)',
    shipshape: Math.round(median(throughput.tracked)),
    anchor: `${Math.round(median(throughput.untracked))} (same pipeline, capture off; failed requests ${failures.tracked} / ${failures.untracked})`,
    ratio: `${median(ratios).toFixed(3)} (median of the rounds' ratios: ${ratios.map((r) => r.toFixed(3)).join(', ')})`,
  },
])
