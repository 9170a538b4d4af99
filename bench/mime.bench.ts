/**
 * What the extension → type table costs each worker: `mime/lite` (its standard types; shipshape
 * adds 15 entries of its own) against `mime` with its full database, which workers loaded
 * before (issue 9), and a bare node process as the anchor. Each process loads, collects
 * garbage, and idles while its memory is read; the rounds alternate the contenders.
 * Usage: npm run bench -- mime [--rounds 7]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { median, memoryMb, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '7' } },
  allowPositionals: true,
})
const rounds = Number(values.rounds)

const contenders = {
  'node, nothing loaded (anchor)': 'void 0',
  'mime/lite with the standard types (now)': "globalThis.keep = (await import('mime/lite')).default",
  'mime with its full database (before)': "globalThis.keep = (await import('mime')).default",
}

async function measure(code: string): Promise<{ rss: number; pss: number }> {
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '--input-type=module',
      '-e',
      `${code}; gc(); gc(); console.log('ready'); setInterval(() => {}, 1000)`,
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  await once(child.stdout, 'data')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const memory = memoryMb(child.pid as number)
  child.kill('SIGKILL')
  await once(child, 'exit')
  return memory
}

const results: Record<string, { rss: number; pss: number }[]> = {}
for (let round = 0; round < rounds; round++) {
  for (const [name, code] of Object.entries(contenders)) {
    results[name] ??= []
    results[name].push(await measure(code))
  }
}
const medians = Object.values(results).map((runs) => ({
  rss: median(runs.map((run) => run.rss)),
  pss: median(runs.map((run) => run.pss)),
}))
const [, lite, full] = medians as [unknown, { rss: number; pss: number }, { rss: number; pss: number }]
printTable(
  Object.entries(results).map(([name, runs]) => ({
    contender: name,
    [`RSS MB (median of ${rounds})`]: median(runs.map((run) => run.rss)).toFixed(1),
    'PSS MB': median(runs.map((run) => run.pss)).toFixed(1),
  })),
)
console.log(
  `mime/lite saves ${(full.rss - lite.rss).toFixed(1)} MB RSS, ${(full.pss - lite.pss).toFixed(1)} MB PSS per process`,
)
