/**
 * The request pipeline's own cost, without the process model: one process serving
 * bench/apps/page.ts bare, against one process serving it through the full default pipeline
 * (access log on). Rounds alternate so drift on a loaded machine hits both alike.
 * Usage: npm run bench -- pipeline [--seconds 8] [--rounds 5]
 */
import { parseArgs } from 'node:util'
import { ensureWrk, freePort, median, printTable, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '8' }, rounds: { type: 'string', default: '5' } },
  allowPositionals: true,
})
ensureWrk()
const modes = ['bare', 'pipeline'] as const
const results: Record<(typeof modes)[number], { rps: number[]; p50: number[]; p99: number[] }> = {
  bare: { rps: [], p50: [], p99: [] },
  pipeline: { rps: [], p50: [], p99: [] },
}
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of modes) {
    const port = await freePort()
    const child = start(process.execPath, ['bench/apps/single.ts', mode], { PORT: String(port) })
    const url = `http://127.0.0.1:${port}/`
    await waitForOk(url)
    await wrk(url, { seconds: 2, connections: 50, threads: 1 })
    const load = await wrk(url, { seconds: Number(values.seconds), connections: 50, threads: 1 })
    await stop(child)
    if (load.failures > 0) throw new Error(`${mode}: ${load.failures} failed requests`)
    results[mode].rps.push(load.rps)
    results[mode].p50.push(load.p50Ms)
    results[mode].p99.push(load.p99Ms)
  }
}
const base = median(results.bare.rps)
printTable(
  modes.map((mode) => ({
    contender: mode === 'bare' ? 'bare node:http, 1 process' : 'shipshape pipeline, 1 process',
    'req/s (median)': Math.round(median(results[mode].rps)),
    'vs bare': `${Math.round((median(results[mode].rps) / base) * 100)}%`,
    'p50 ms': median(results[mode].p50),
    'p99 ms': median(results[mode].p99),
  })),
)
