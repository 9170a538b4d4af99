/**
 * What configuration costs at start-up: a process that imports shipshape/config (and zod), then
 * loads 200 settings from a YAML file (all 200 keys) and the environment (100 of them), against a
 * bare Node process and one that only imports zod. Each process is timed from spawn to exit;
 * rounds alternate so drift on a loaded machine hits every contender alike. The target: loading,
 * import included, adds at most 20 ms to a bare start.
 * Usage: npm run bench -- config [--rounds 21]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { median, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '21' } },
  allowPositionals: true,
})
const dir = mkdtempSync(join(tmpdir(), 'shipshape-config-bench-'))
const file = join(dir, 'config.yaml')
const samples = ['text', '42', 'yes', '2m', '10MiB', 'a,b,c', 'b', 'https://example.org/x']
const yamlValues = ['"from yaml"', '7', 'true', '30s', '512KB', '[x, y]', 'c', 'https://example.net/']
let yaml = ''
const env: Record<string, string> = {}
for (let section = 0; section < 10; section++) {
  yaml += `section${section}:\n`
  for (let key = 0; key < 20; key++) {
    yaml += `  key${key}: ${yamlValues[key % yamlValues.length]}\n`
    if (key % 2 === 0) env[`BENCH_SECTION${section}__KEY${key}`] = samples[key % samples.length] as string
  }
}
writeFileSync(file, yaml)

const modes = ['bare', 'zod', 'load'] as const
const times: Record<(typeof modes)[number], number[]> = { bare: [], zod: [], load: [] }
const cpu: Record<(typeof modes)[number], number[]> = { bare: [], zod: [], load: [] }
const run = (mode: (typeof modes)[number]) => {
  const started = performance.now()
  const result = spawnSync(process.execPath, ['bench/apps/config-load.ts', mode, file], {
    cwd: root,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  })
  const elapsed = performance.now() - started
  if (result.status !== 0) throw new Error(`${mode} failed: ${result.stderr}`)
  cpu[mode].push(Number(result.stdout))
  return elapsed
}
for (const mode of modes) run(mode) // warm the file cache
for (const mode of modes) cpu[mode].length = 0
for (let round = 0; round < Number(values.rounds); round++) {
  for (const mode of round % 2 ? [...modes].reverse() : modes) times[mode].push(run(mode))
}
rmSync(dir, { recursive: true, force: true })

const bare = median(times.bare)
const bareCpu = median(cpu.bare)
printTable(
  modes.map((mode) => ({
    contender: {
      bare: 'bare node (no imports)',
      zod: 'node importing zod only',
      load: 'import shipshape/config + load 200 keys (YAML + env)',
    }[mode],
    'ms, spawn to exit (median)': median(times[mode]).toFixed(1),
    'ms over bare': (median(times[mode]) - bare).toFixed(1),
    'CPU ms (median)': median(cpu[mode]).toFixed(1),
    'CPU ms over bare': (median(cpu[mode]) - bareCpu).toFixed(1),
  })),
)
const over = (mode: (typeof modes)[number]) => ({
  wall: median(times[mode]) - bare,
  cpu: median(cpu[mode]) - bareCpu,
})
const load = over('load')
const zod = over('zod')
console.log(
  `\nimport shipshape/config + load 200 keys, over a bare start: ${load.wall.toFixed(1)} ms wall, ${load.cpu.toFixed(1)} ms CPU ` +
    `(target ≤ 20 ms: ${load.wall <= 20 ? 'met' : 'NOT met'}). Of that, importing zod alone: ${zod.wall.toFixed(1)} ms wall, ${zod.cpu.toFixed(1)} ms CPU. ` +
    `Anchors: a bare start takes ${bare.toFixed(1)} ms wall, ${bareCpu.toFixed(1)} ms CPU; the load costs ${(load.cpu / bareCpu).toFixed(2)}× a bare start's CPU.`,
)
