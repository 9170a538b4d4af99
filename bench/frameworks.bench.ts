/**
 * Frameworks under `shipshape serve` against each framework's own production server, one
 * process each, rounds alternating: Next.js (`next start`) and SvelteKit (adapter-node's
 * `node build/index.js`), a page and an API route each, wrk with keep-alive connections.
 * shipshape runs its whole default stack (security headers with the CSP, request ids, timeouts,
 * metrics, access log). The fixtures are the frameworks suite's (frameworks/fixtures/), built once.
 * Beside req/s, the CPU time each server's processes spent per request (from /proc): on a shared
 * machine the other load moves req/s far more than it moves the work done per request.
 * Usage: npm run bench -- frameworks [--seconds 5] [--rounds 2]
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { fixture } from '../frameworks/_fixtures.ts'
import {
  ensureWrk,
  freePort,
  type LoadResult,
  median,
  printTable,
  root,
  stop,
  treeCpuSeconds,
  waitForOk,
  wrk,
} from './_lib.ts'

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '2' } },
  allowPositionals: true,
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const cli = join(root, 'dist/cli/bin.js')

interface Contender {
  name: string
  command: (port: number) => { args: string[]; env?: Record<string, string> }
}

interface Framework {
  name: string
  dir: string
  paths: string[]
  contenders: Contender[]
}

const shipshape = (app: string): Contender => ({
  name: 'shipshape serve, 1 worker',
  command: (port) => ({
    args: [
      cli,
      'serve',
      app,
      '--workers',
      '1',
      '--bind',
      `127.0.0.1:${port}`,
      '--pidfile',
      join(mkdtempSync(join(tmpdir(), 'bench-')), 'pid'),
    ],
    env: { LOG_LEVEL: 'warn' },
  }),
})

const frameworks: Framework[] = [
  {
    name: 'Next.js',
    dir: fixture('next'),
    paths: ['/', '/api/hello'],
    contenders: [
      {
        name: 'next start',
        command: (port) => ({
          args: ['node_modules/next/dist/bin/next', 'start', '-p', String(port), '-H', '127.0.0.1'],
        }),
      },
      shipshape('.'),
    ],
  },
  {
    name: 'SvelteKit',
    dir: fixture('sveltekit'),
    paths: ['/', '/api/hello'],
    contenders: [
      {
        name: 'node build/index.js (adapter-node)',
        command: (port) => ({ args: ['build/index.js'], env: { PORT: String(port), HOST: '127.0.0.1' } }),
      },
      shipshape('build/handler.js'),
    ],
  },
]

function launch(dir: string, contender: Contender, port: number): ChildProcess {
  const { args, env } = contender.command(port)
  return spawn(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', ...env },
    detached: true,
    stdio: 'ignore',
  })
}

ensureWrk()
const rows: Record<string, string | number>[] = []
for (const framework of frameworks) {
  const results = new Map<string, (LoadResult & { cpuUs: number })[]>()
  for (let round = 0; round < rounds; round++) {
    // Alternating: each round runs every contender, in turn, on the same machine state.
    for (const contender of round % 2 === 0 ? framework.contenders : [...framework.contenders].reverse()) {
      const port = await freePort()
      const child = launch(framework.dir, contender, port)
      try {
        for (const path of framework.paths) {
          await waitForOk(`http://127.0.0.1:${port}${path}`, 60_000)
          // A warm-up, not counted: JIT and the framework's caches.
          await wrk(`http://127.0.0.1:${port}${path}`, { seconds: 1, connections: 20, threads: 1 })
          const cpuBefore = treeCpuSeconds(child.pid as number)
          const load = await wrk(`http://127.0.0.1:${port}${path}`, {
            seconds,
            connections: 20,
            threads: 1,
          })
          const cpuUs = ((treeCpuSeconds(child.pid as number) - cpuBefore) * 1e6) / load.requests
          const key = `${path}\u0000${contender.name}`
          results.set(key, [...(results.get(key) ?? []), { ...load, cpuUs }])
        }
      } finally {
        await stop(child)
      }
    }
  }
  for (const path of framework.paths) {
    const anchorRuns = results.get(`${path}\u0000${framework.contenders[0]?.name}`) ?? []
    const anchor = median(anchorRuns.map((r) => r.rps))
    const anchorCpu = median(anchorRuns.map((r) => r.cpuUs))
    for (const contender of framework.contenders) {
      const list = results.get(`${path}\u0000${contender.name}`) ?? []
      const rps = median(list.map((r) => r.rps))
      rows.push({
        framework: framework.name,
        path,
        contender: contender.name,
        'req/s (median)': Math.round(rps),
        'vs own server': (rps / anchor).toFixed(2),
        'CPU µs/request': Math.round(median(list.map((r) => r.cpuUs))),
        'CPU vs own server': (median(list.map((r) => r.cpuUs)) / anchorCpu).toFixed(2),
        'p50 ms': median(list.map((r) => r.p50Ms)).toFixed(2),
        'p99 ms': median(list.map((r) => r.p99Ms)).toFixed(2),
        failures: list.reduce((sum, r) => sum + r.failures, 0),
      })
    }
  }
}
printTable(rows)
