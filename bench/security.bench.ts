/**
 * The cost of the default security middleware (headers with a fresh CSP nonce, Host check,
 * HTTPS-redirect check, cross-site check, X-Powered-By/Server scrubbing): one process serving
 * bench/apps/page.ts through the full pipeline without it (the anchor), against one with it.
 * Both run for the whole benchmark and are loaded in turn, in short alternating slices (the
 * order flips every pair), so a change in the machine's load hits both sides of a pair alike;
 * the figure is the median of the per-pair ratios. Target: at least 95% of the anchor's
 * throughput. The server CPU time per request (utime+stime from /proc) is reported as well.
 *
 * Then, in this process, the middleware alone: the CPU time of building one response head
 * (a real ServerResponse, the pipeline's X-Request-Id, writeHead with the app's headers) with and
 * without the middleware in front, alternating rounds. It has no sockets and no load generator,
 * so it resolves a microsecond where the req/s figures on a shared machine cannot.
 * Usage: npm run bench -- security [--seconds 3] [--pairs 12]
 */
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { securityMiddleware } from '../dist/security/index.js'
import { cpuSeconds, ensureWrk, freePort, median, printTable, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, pairs: { type: 'string', default: '12' } },
  allowPositionals: true,
})
ensureWrk()

const modes = ['pipeline', 'security'] as const
type Mode = (typeof modes)[number]
const servers = await Promise.all(
  modes.map(async (mode) => {
    const port = await freePort()
    const child = start(process.execPath, ['bench/apps/single.ts', mode], { PORT: String(port) })
    const url = `http://127.0.0.1:${port}/`
    await waitForOk(url)
    await wrk(url, { seconds: 2, connections: 50, threads: 1 })
    return { mode, child, url }
  }),
)
const results: Record<Mode, { rps: number[]; p50: number[]; p99: number[]; cpuUs: number[] }> = {
  pipeline: { rps: [], p50: [], p99: [], cpuUs: [] },
  security: { rps: [], p50: [], p99: [], cpuUs: [] },
}
const ratios: number[] = []
const cpuRatios: number[] = []
try {
  for (let pair = 0; pair < Number(values.pairs); pair++) {
    const order = pair % 2 === 0 ? servers : [...servers].reverse()
    const slice: Partial<Record<Mode, { rps: number; cpuUs: number }>> = {}
    for (const { mode, child, url } of order) {
      const before = cpuSeconds(child.pid as number)
      const load = await wrk(url, { seconds: Number(values.seconds), connections: 50, threads: 1 })
      const cpuUs = ((cpuSeconds(child.pid as number) - before) / load.requests) * 1e6
      if (load.failures > 0) throw new Error(`${mode}: ${load.failures} failed requests`)
      results[mode].rps.push(load.rps)
      results[mode].p50.push(load.p50Ms)
      results[mode].p99.push(load.p99Ms)
      results[mode].cpuUs.push(cpuUs)
      slice[mode] = { rps: load.rps, cpuUs }
    }
    ratios.push((slice.security?.rps ?? 0) / (slice.pipeline?.rps ?? 1))
    cpuRatios.push((slice.pipeline?.cpuUs ?? 0) / (slice.security?.cpuUs ?? 1))
  }
} finally {
  await Promise.all(servers.map(({ child }) => stop(child)))
}
const ratio = median(ratios)
printTable(
  modes.map((mode) => ({
    contender:
      mode === 'pipeline' ? 'pipeline, no security middleware' : 'pipeline + default security middleware',
    'req/s (median)': Math.round(median(results[mode].rps)),
    'vs pipeline (median of pair ratios)': mode === 'pipeline' ? '100%' : `${(ratio * 100).toFixed(1)}%`,
    'p50 ms': median(results[mode].p50).toFixed(2),
    'p99 ms': median(results[mode].p99).toFixed(2),
    'server CPU µs/req': median(results[mode].cpuUs).toFixed(1),
    'CPU-bound vs pipeline': mode === 'pipeline' ? '100%' : `${(median(cpuRatios) * 100).toFixed(1)}%`,
  })),
)
console.log(`\npair ratios (security / pipeline req/s): ${ratios.map((r) => r.toFixed(3)).join(', ')}`)
console.log(
  ratio >= 0.95 ? 'within the 5% budget' : `over the 5% budget: ${((1 - ratio) * 100).toFixed(1)}% slower`,
)

// The middleware alone, in process.
const security = securityMiddleware()
const socket = new Socket()
function responseHead(how: 'pipeline' | 'security' | 'setHeader'): void {
  const req = new IncomingMessage(socket)
  req.method = 'GET'
  req.url = '/'
  req.headers = { host: '127.0.0.1:8000', 'user-agent': 'wrk', accept: '*/*' }
  const res = new ServerResponse(req)
  res.setHeader('X-Request-Id', '0b0e3f8e-4c61-4a8f-9d0c-6a3b5e1f2a77')
  const ctx = {
    req,
    res,
    method: 'GET',
    path: '/',
    id: 'x',
    protocol: 'http',
    state: {},
    clientIp: '127.0.0.1',
  }
  const app = async () => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': 1024 })
  }
  if (how === 'security') void security(ctx as never, app)
  else if (how === 'setHeader') {
    for (const [name, value] of presets) res.setHeader(name, value)
    void app()
  } else void app()
}
// The anchor for how the middleware stores its preset headers (a pair of each response's own in
// node's header store): the same headers written with plain setHeader, nothing else.
const presets = security.provides?.answerHeaders?.(false) ?? []
const microModes = ['pipeline', 'security', 'setHeader'] as const
type MicroMode = (typeof microModes)[number]
const micro: Record<MicroMode, number[]> = { pipeline: [], security: [], setHeader: [] }
for (let round = 0; round < 10; round++) {
  for (const mode of round % 2 === 0 ? microModes : [...microModes].reverse()) {
    for (let i = 0; i < 20_000; i++) responseHead(mode)
    const started = process.cpuUsage()
    for (let i = 0; i < 100_000; i++) responseHead(mode)
    const used = process.cpuUsage(started)
    micro[mode].push((used.user + used.system) / 100_000)
  }
}
console.log('')
printTable([
  {
    'in process, one response head': 'without the middleware',
    'CPU µs (median of 10)': median(micro.pipeline).toFixed(2),
  },
  {
    'in process, one response head': 'with the default security middleware',
    'CPU µs (median of 10)': median(micro.security).toFixed(2),
  },
  {
    'in process, one response head': 'its preset headers by setHeader alone (no checks)',
    'CPU µs (median of 10)': median(micro.setHeader).toFixed(2),
  },
])
const own = median(micro.security) - median(micro.pipeline)
const bySetHeader = median(micro.setHeader) - median(micro.pipeline)
console.log(
  `\nthe whole middleware / its headers by setHeader alone: ${(own / bySetHeader).toFixed(2)} (${own.toFixed(2)} µs against ${bySetHeader.toFixed(2)} µs)`,
)
console.log(
  `\nthe middleware's own cost: ${(median(micro.security) - median(micro.pipeline)).toFixed(2)} µs per request; compare with the pipeline's server CPU per request above`,
)
