/**
 * shipshape/lambda's cold start: from process start to the first event answered (import of the
 * handler and the app, pipeline and server start, one request), against the same app behind a
 * bare node:http server, and a bare Node start. Rounds alternate.
 * Usage: npm run bench -- lambda [--rounds 15]
 */
import { spawnSync } from 'node:child_process'
import { parseArgs } from 'node:util'
import { median, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '15' } },
  allowPositionals: true,
})
const modes = ['bare', 'shipshape'] as const
const times: Record<(typeof modes)[number], number[]> = { bare: [], shipshape: [] }
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of round % 2 ? [...modes].reverse() : modes) {
    const run = spawnSync(process.execPath, ['bench/apps/lambda-cold.ts', mode], {
      cwd: root,
      encoding: 'utf8',
    })
    if (run.status !== 0) throw new Error(`${mode}: ${run.stderr}`)
    // The last line: the access log of the request comes before it.
    times[mode].push(Number(run.stdout.trim().split('\n').at(-1)))
  }
}
const bare = median(times.bare)
printTable(
  modes.map((mode) => ({
    contender: mode === 'bare' ? 'the app behind a bare node:http server (anchor)' : 'shipshape/lambda',
    [`process start to first answer (median of ${values.rounds})`]: `${median(times[mode]).toFixed(1)} ms`,
    'over the anchor': mode === 'bare' ? '—' : `+${(median(times[mode]) - bare).toFixed(1)} ms`,
  })),
)
