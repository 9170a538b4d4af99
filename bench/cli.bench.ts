/**
 * What a `shipshape` call costs before it does anything: `--version` and `--help` against a
 * bare `node -e 0`, and `serve --help` (which imports the server's settings) for scale. Each
 * process is timed from spawn to exit; its CPU time (user + system, in 10 ms steps) and peak
 * memory are the kernel's own account of the finished child (GNU time's %U, %S and %M): on a
 * loaded machine wall time mostly measures the wait for a core, CPU time does not. Rounds alternate so drift on a loaded machine hits every
 * contender alike. The target: `--version` and `--help` within 60 ms and 10 MB of bare Node.
 * Usage: npm run bench -- cli [--rounds 21]
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { median, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '21' } },
  allowPositionals: true,
})
const time = '/usr/bin/time'
if (!existsSync(time)) {
  console.error('This benchmark reads peak memory through GNU time: apt-get install -y time')
  process.exit(2)
}

const contenders = {
  bare: { label: 'node -e 0', args: ['-e', '0'] },
  version: { label: 'shipshape --version', args: ['dist/cli/bin.js', '--version'] },
  help: { label: 'shipshape --help', args: ['dist/cli/bin.js', '--help'] },
  serveHelp: { label: 'shipshape serve --help', args: ['dist/cli/bin.js', 'serve', '--help'] },
} as const
type Name = keyof typeof contenders
const names = Object.keys(contenders) as Name[]
const wallMs = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Name, number[]>
const peakMb = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Name, number[]>
const cpuMs = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Name, number[]>

function run(name: Name): void {
  const started = performance.now()
  const result = spawnSync(time, ['-f', '%M %U %S', process.execPath, ...contenders[name].args], {
    cwd: root,
    encoding: 'utf8',
  })
  const elapsed = performance.now() - started
  if (result.status !== 0) throw new Error(`${contenders[name].label} failed: ${result.stderr}`)
  const [kb, user, system] = (result.stderr.trim().split('\n').at(-1) as string).split(' ').map(Number)
  wallMs[name].push(elapsed)
  peakMb[name].push((kb as number) / 1024)
  cpuMs[name].push(((user as number) + (system as number)) * 1000)
}

for (const name of names) run(name) // warm the file cache
for (const name of names) {
  wallMs[name].length = 0
  peakMb[name].length = 0
  cpuMs[name].length = 0
}
for (let round = 0; round < Number(values.rounds); round++) {
  for (const name of round % 2 ? [...names].reverse() : names) run(name)
}

const bareMs = median(wallMs.bare)
const bareMb = median(peakMb.bare)
const bareCpu = median(cpuMs.bare)
printTable(
  names.map((name) => ({
    contender: contenders[name].label,
    'ms, spawn to exit (median)': median(wallMs[name]).toFixed(1),
    'ms over bare': (median(wallMs[name]) - bareMs).toFixed(1),
    'CPU ms (median)': median(cpuMs[name]).toFixed(0),
    'CPU ms over bare': (median(cpuMs[name]) - bareCpu).toFixed(0),
    'peak MB (median)': median(peakMb[name]).toFixed(1),
    'MB over bare': (median(peakMb[name]) - bareMb).toFixed(1),
  })),
)
const verdicts = (['version', 'help'] as const).map((name) => {
  const ms = median(wallMs[name]) - bareMs
  const mb = median(peakMb[name]) - bareMb
  const cpu = median(cpuMs[name]) - bareCpu
  return `${contenders[name].label}: ${ms.toFixed(1)} ms wall, ${cpu.toFixed(0)} ms CPU, ${mb.toFixed(1)} MB over bare (target ≤ 60 ms and ≤ 10 MB: ${ms <= 60 && mb <= 10 ? 'met' : 'NOT met'})`
})
console.log(`\n${verdicts.join('\n')}\n(median of ${values.rounds} rounds; Node ${process.versions.node})`)
