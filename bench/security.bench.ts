/**
 * The cost of the default security middleware (headers with a fresh CSP nonce, Host check,
 * HTTPS-redirect check, cross-site check, X-Powered-By/Server scrubbing): one process serving
 * bench/apps/page.ts through the full pipeline without it (the anchor), against one with it.
 * Both run for the whole benchmark and are loaded in turn, in short alternating slices (the
 * order flips every pair), so a change in the machine's load hits both sides of a pair alike;
 * the figure is the median of the per-pair ratios. Target: at least 95% of the anchor's
 * throughput. The server CPU time per request (utime+stime from /proc) is reported as well.
 * Usage: npm run bench -- security [--seconds 3] [--pairs 12]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { ensureWrk, freePort, median, printTable, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, pairs: { type: 'string', default: '12' } },
  allowPositionals: true,
})
ensureWrk()

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  return (Number(fields[11]) + Number(fields[12])) / 100 // clock ticks, 100 per second on Linux
}

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
    'p50 ms': median(results[mode].p50),
    'p99 ms': median(results[mode].p99),
    'server CPU µs/req': median(results[mode].cpuUs).toFixed(1),
    'CPU-bound vs pipeline': mode === 'pipeline' ? '100%' : `${(median(cpuRatios) * 100).toFixed(1)}%`,
  })),
)
console.log(`\npair ratios (security / pipeline req/s): ${ratios.map((r) => r.toFixed(3)).join(', ')}`)
console.log(
  ratio >= 0.95 ? 'within the 5% budget' : `over the 5% budget: ${((1 - ratio) * 100).toFixed(1)}% slower`,
)
