/**
 * The server benchmarks, in one run on loopback:
 *   throughput and p99 of (a) a bare node:http cluster, (h) the same cluster sending shipshape's
 *   headers as constants, (b) `shipshape serve` with its default pipeline, (d) Fastify 5 +
 *   @fastify/helmet + its pino request log, (c) PM2 cluster + Express 5 + helmet + pino-http +
 *   prom-client, all serving bench/apps/page.ts with 2 workers, at each `--connections` count;
 *   new connections (`Connection: close`) for (a), (b) and gunicorn (g, sync workers);
 *   then hung requests, CPU-bound requests, reload under load, cold start and demo memory.
 * Usage: npm run bench -- server [--seconds 10] [--rounds 3] [--connections 32,1000]
 *   [--contenders a,h,b,d,c] [--scenarios throughput,close,hung,…]
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import {
  descendants,
  ensureDebian,
  ensureWrk,
  freePort,
  type LoadResult,
  median,
  memoryMb,
  peakRssMb,
  printTable,
  root,
  start,
  stop,
  waitForOk,
  wrk,
} from './_lib.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    contenders: { type: 'string', default: 'a,h,b,m,d,c' },
    connections: { type: 'string', default: '32,1000' },
    scenarios: { type: 'string', default: 'throughput,close,hung,cpu,reload,coldstart,memory' },
  },
  allowPositionals: true,
})
const seconds = Number(values.seconds)
const rounds = Number(values.rounds)
const workers = 2
const node = process.execPath
const cli = join(root, 'dist/cli/bin.js')
/** For the scenarios after throughput and close, which measure behaviour rather than speed. */
const connections = 50

interface Contender {
  name: string
  launch(
    port: number,
  ): Promise<{ child: ChildProcess; workerPids: () => number[]; close: () => Promise<void> }>
}

/** A node:cluster app of bench/apps with `workers` workers. */
function clusterApp(script: string): Contender['launch'] {
  return async (port) => {
    const child = start(node, [script], { PORT: String(port), WORKERS: String(workers) })
    return { child, workerPids: () => descendants(child.pid as number), close: () => stop(child) }
  }
}

/** The primary's worker processes, without the embedded database process it also supervises. */
function shipshapeWorkers(primary: number): number[] {
  return descendants(primary).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('_worker.js')
    } catch {
      return false
    }
  })
}

function shipshape(app: string, extra: string[] = [], stdout: number | 'ignore' = 'ignore') {
  return (port: number) =>
    start(node, [cli, 'serve', app, '--bind', `127.0.0.1:${port}`, ...extra], {}, stdout)
}

const allContenders: Contender[] = [
  { name: '(a) bare node:http cluster', launch: clusterApp('bench/apps/bare-cluster.ts') },
  {
    name: "(h) bare cluster sending shipshape's headers",
    launch: clusterApp('bench/apps/bare-headers-cluster.ts'),
  },
  {
    name: '(b) shipshape serve',
    async launch(port) {
      const child = shipshape('bench/apps/page.ts', ['--workers', String(workers)])(port)
      return { child, workerPids: () => shipshapeWorkers(child.pid as number), close: () => stop(child) }
    },
  },
  // (m): another build of shipshape (BENCH_BASELINE_CLI=/path/to/dist/cli/bin.js, e.g. main's
  // built in a scratch directory), for a before/after in the same run.
  ...(process.env.BENCH_BASELINE_CLI
    ? [
        {
          name: '(m) shipshape serve, baseline build',
          async launch(port: number) {
            const args = [process.env.BENCH_BASELINE_CLI as string, 'serve', 'bench/apps/page.ts']
            const child = start(node, [...args, '--workers', String(workers), '--bind', `127.0.0.1:${port}`])
            return {
              child,
              workerPids: () => shipshapeWorkers(child.pid as number),
              close: () => stop(child),
            }
          },
        },
      ]
    : []),
  {
    name: '(d) Fastify + @fastify/helmet + pino request log',
    launch: clusterApp('bench/apps/fastify-cluster.ts'),
  },
  {
    name: '(c) PM2 + Express + helmet + pino-http + prom-client',
    async launch(port) {
      const home = mkdtempSync(join(tmpdir(), 'pm2-'))
      const env = { PM2_HOME: home, PORT: String(port) }
      const pm2 = join(root, 'node_modules/.bin/pm2')
      await new Promise((resolve) =>
        start(
          pm2,
          [
            'start',
            'bench/apps/express-stack.cjs',
            '-i',
            String(workers),
            '--output',
            '/dev/null',
            '--error',
            '/dev/null',
          ],
          env,
        ).once('exit', resolve),
      )
      const daemonPid = () => Number(readFileSync(join(home, 'pm2.pid'), 'utf8'))
      return {
        child: undefined as unknown as ChildProcess,
        workerPids: () => descendants(daemonPid()),
        close: async () => {
          await new Promise((resolve) => start(pm2, ['kill'], env).once('exit', resolve))
          rmSync(home, { recursive: true, force: true })
        },
      }
    },
  },
]

/** Anchor (g) for new connections only: Debian's gunicorn, sync workers, the page as WSGI. */
const gunicorn: Contender = {
  name: '(g) gunicorn, sync workers',
  async launch(port) {
    ensureDebian({ '/usr/bin/gunicorn': 'gunicorn' })
    const args = ['-w', String(workers), '-b', `127.0.0.1:${port}`, '--chdir', 'bench/apps', 'page_wsgi:app']
    const child = start('/usr/bin/gunicorn', args)
    return { child, workerPids: () => descendants(child.pid as number), close: () => stop(child) }
  },
}

const letters = values.contenders.split(',')
const contenders = allContenders.filter((c) => letters.includes(c.name[1] as string))

/**
 * Each contender in turn, rounds alternating, a fresh server per round: the medians, and each
 * contender's req/s and p99 against the first contender's (the anchor) and against (h).
 */
async function compare(
  list: Contender[],
  load: { connections: number; headers?: string[]; threads?: number },
): Promise<void> {
  const results = new Map<string, { load: LoadResult[]; rss: number[] }>()
  const options = { ...load, timeoutSeconds: 10 }
  for (let round = 0; round < rounds; round++) {
    for (const contender of list) {
      const port = await freePort()
      const server = await contender.launch(port)
      const url = `http://127.0.0.1:${port}/`
      await waitForOk(url)
      await wrk(url, { ...options, seconds: 2 }) // warm-up: JIT and connection set-up
      const result = await wrk(url, { ...options, seconds })
      const rss = Math.max(...server.workerPids().map(peakRssMb))
      await server.close()
      const entry = results.get(contender.name) ?? { load: [], rss: [] }
      entry.load.push(result)
      entry.rss.push(rss)
      results.set(contender.name, entry)
      console.error(
        `round ${round + 1}/${rounds} ${contender.name}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99Ms} ms`,
      )
    }
  }
  const rpsOf = (name: string | undefined) =>
    median(results.get(name as string)?.load.map((r) => r.rps) ?? [])
  const p99Of = (name: string | undefined) =>
    median(results.get(name as string)?.load.map((r) => r.p99Ms) ?? [])
  const anchor = list[0]?.name
  const withHeaders = list.find((c) => c.name.startsWith('(h)'))?.name
  printTable(
    [...results].map(([name, { load: runs, rss }]) => {
      const rps = median(runs.map((r) => r.rps))
      return {
        contender: name,
        'req/s (median)': rps.toFixed(0),
        'vs (a)': (rps / rpsOf(anchor)).toFixed(2),
        ...(withHeaders ? { 'vs (h)': (rps / rpsOf(withHeaders)).toFixed(2) } : {}),
        'p50 ms': median(runs.map((r) => r.p50Ms)).toFixed(2),
        'p99 ms': p99Of(name).toFixed(2),
        'p99 vs (a)': (p99Of(name) / p99Of(anchor)).toFixed(2),
        'peak RSS/worker MB': median(rss).toFixed(1),
        failures: runs.reduce((sum, r) => sum + r.failures, 0),
      }
    }),
  )
}

async function throughput(): Promise<void> {
  for (const count of values.connections.split(',').map(Number)) {
    console.log(`\nkeep-alive, ${count} connections\n`)
    await compare(contenders, { connections: count })
  }
}

/** A new connection per request, as behind some proxies: each one is handed through the primary. */
async function newConnections(): Promise<void> {
  const list = [...contenders.filter((c) => 'abm'.includes(c.name[1] as string)), gunicorn]
  await compare(list, { connections: 32, headers: ['Connection: close'] })
}

/** Sends GET requests back to back until `until`, recording each one's status (0: connection lost) and duration. */
async function loop(url: string, until: number): Promise<{ status: number; ms: number }[]> {
  const outcomes: { status: number; ms: number }[] = []
  while (performance.now() < until) {
    const started = performance.now()
    const status = await new Promise<number>((resolve) => {
      get(url, { agent: false }, (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode ?? 0))
        response.on('error', () => resolve(0))
      }).on('error', () => resolve(0))
    })
    outcomes.push({ status, ms: performance.now() - started })
  }
  return outcomes
}

function successRate(load: LoadResult): string {
  return `${((100 * (load.requests - load.failures)) / load.requests).toFixed(2)}%`
}

async function serveFor<T>(
  app: string,
  extra: string[],
  body: (url: string, primary: ChildProcess) => Promise<T>,
  stdout: number | 'ignore' = 'ignore',
): Promise<T> {
  const port = await freePort()
  const primary = shipshape(app, extra, stdout)(port)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitForOk(`${url}/readyz`)
    return await body(url, primary)
  } finally {
    await stop(primary)
  }
}

/** 10 requests that never resolve, kept in flight, while load runs on a healthy route. */
async function hungRequests(): Promise<void> {
  await serveFor('bench/apps/page.ts', ['--workers', String(workers), '--timeout', '5s'], async (url) => {
    const baseline = await wrk(`${url}/`, { seconds, connections })
    const until = performance.now() + (seconds + 6) * 1000
    const hung = Promise.all(Array.from({ length: 10 }, () => loop(`${url}/hang`, until)))
    const during = await wrk(`${url}/`, { seconds, connections })
    const outcomes = (await hung).flat()
    printTable([
      {
        scenario: 'hung requests',
        'healthy success': successRate(during),
        'p99 baseline ms': baseline.p99Ms.toFixed(2),
        'p99 during ms': during.p99Ms.toFixed(2),
        'p99 ratio': (during.p99Ms / baseline.p99Ms).toFixed(2),
        'hung answered 503': `${outcomes.filter((o) => o.status === 503).length}/${outcomes.length}`,
        'hung answered after s (median)': (median(outcomes.map((o) => o.ms)) / 1000).toFixed(2),
      },
    ])
  })
}

/**
 * 2 clients calling a route that blocks the CPU for 30 s, on 4 workers with a 5 s timeout. How
 * fast each blocked worker is killed is read from the primary's log (time since its last
 * heartbeat): a client's own wait can span two workers, as a connection queued for a worker
 * that is then killed is handed to another.
 */
async function cpuBound(): Promise<void> {
  const window = 30
  const logPath = join(mkdtempSync(join(tmpdir(), 'cpu-bench-')), 'serve.log')
  const log = openSync(logPath, 'w')
  await serveFor(
    'bench/apps/page.ts',
    ['--workers', '4', '--timeout', '5s', '--watchdog-timeout', '5s'],
    async (url) => {
      const until = performance.now() + window * 1000
      const blocked = Promise.all(Array.from({ length: 2 }, () => loop(`${url}/block?ms=30000`, until)))
      const healthy = await wrk(`${url}/`, { seconds: window, connections })
      const outcomes = (await blocked).flat()
      const kills = readFileSync(logPath, 'utf8')
        .split('\n')
        .filter((line) => line.includes('"worker killed'))
        .map((line) => (JSON.parse(line) as { ms: number }).ms / 1000)
      printTable([
        {
          scenario: 'CPU-bound requests',
          'healthy success': successRate(healthy),
          'healthy req/s': healthy.rps.toFixed(0),
          'healthy failed': healthy.failures,
          'healthy failed per kill': (healthy.failures / Math.max(1, kills.length)).toFixed(1),
          'blocking requests': outcomes.length,
          'blocking answered 503': outcomes.filter((o) => o.status === 503).length,
          'workers killed': kills.length,
          'killed after s (median)': median(kills).toFixed(2),
          'killed after s (max)': Math.max(...kills).toFixed(2),
        },
      ])
    },
    log,
  )
  closeSync(log)
}

/** SIGHUP three times while load runs: no request may fail. */
async function reloadUnderLoad(): Promise<void> {
  await serveFor('bench/apps/page.ts', ['--workers', String(workers)], async (url, primary) => {
    const window = Math.max(seconds, 12)
    const load = wrk(`${url}/`, { seconds: window, connections })
    for (const at of [0.25, 0.5, 0.75]) {
      setTimeout(() => primary.kill('SIGHUP'), at * window * 1000)
    }
    const result = await load
    printTable([
      { scenario: 'reload under load (3 reloads)', requests: result.requests, failures: result.failures },
    ])
  })
}

/** From spawning `shipshape serve` to the first 200 on /readyz. */
async function coldStart(): Promise<void> {
  const times: number[] = []
  for (let i = 0; i < 5; i++) {
    const port = await freePort()
    const started = performance.now()
    const primary = shipshape('bench/apps/page.ts', ['--workers', String(workers)])(port)
    await waitForOk(`http://127.0.0.1:${port}/readyz`)
    times.push(performance.now() - started)
    await stop(primary)
  }
  printTable([
    {
      scenario: 'cold start to first /readyz 200',
      'median ms': median(times).toFixed(0),
      'max ms': Math.max(...times).toFixed(0),
    },
  ])
}

/**
 * The demo's workers idle and after load on its pages. RSS counts the pages of the node binary
 * that every worker shares (~58 MB); PSS splits shared pages between the processes using them,
 * so it is what each extra worker really costs.
 */
async function demoMemory(): Promise<void> {
  // As `npm start` runs it: its pages need the collected assets' manifest.
  const staticRoot = 'examples/demo/staticfiles'
  if (!existsSync(join(root, staticRoot)))
    execFileSync('npm', ['run', 'demo:assets'], { cwd: root, stdio: 'inherit' })
  const args = ['--workers', String(workers), '--static-root', staticRoot]
  await serveFor('examples/demo/dist/app.js', args, async (url, primary) => {
    const pids = descendants(primary.pid as number)
    const idle = pids.map(memoryMb)
    const pages = await wrk(`${url}/`, { seconds, connections })
    const api = await wrk(`${url}/api/status`, { seconds, connections })
    const loaded = pids.map(memoryMb)
    const worst = (list: { rss: number; pss: number }[], key: 'rss' | 'pss') =>
      Math.max(...list.map((m) => m[key])).toFixed(1)
    printTable([
      {
        scenario: 'demo worker memory (worst worker)',
        'idle RSS MB': worst(idle, 'rss'),
        'idle PSS MB': worst(idle, 'pss'),
        'peak RSS under load MB': Math.max(...pids.map(peakRssMb)).toFixed(1),
        'PSS after load MB': worst(loaded, 'pss'),
        'requests (failed)': `${pages.requests + api.requests} (${pages.failures + api.failures})`,
      },
    ])
  })
  // The same load with --max-memory: workers past it are replaced; the log says how often.
  const logPath = join(mkdtempSync(join(tmpdir(), 'memory-bench-')), 'serve.log')
  const log = openSync(logPath, 'w')
  const limited = [...args, '--max-memory', '150MB']
  await serveFor(
    'examples/demo/dist/app.js',
    limited,
    async (url, primary) => {
      const pages = await wrk(`${url}/`, { seconds, connections })
      const api = await wrk(`${url}/api/status`, { seconds, connections })
      const replaced = readFileSync(logPath, 'utf8').split('passed --max-memory').length - 1
      await new Promise((settle) => setTimeout(settle, 2000)) // replaced workers finish draining
      printTable([
        {
          scenario: 'demo with --max-memory 150MB',
          'workers replaced': replaced,
          'RSS of the workers left MB': descendants(primary.pid as number)
            .map((pid) => memoryMb(pid).rss.toFixed(0))
            .join(', '),
          'req/s (pages, api)': `${pages.rps.toFixed(0)}, ${api.rps.toFixed(0)}`,
          'requests (failed)': `${pages.requests + api.requests} (${pages.failures + api.failures})`,
        },
      ])
    },
    log,
  )
  closeSync(log)
}

const scenarios: Record<string, () => Promise<void>> = {
  throughput,
  close: newConnections,
  hung: hungRequests,
  cpu: cpuBound,
  reload: reloadUnderLoad,
  coldstart: coldStart,
  memory: demoMemory,
}

export async function main(): Promise<void> {
  ensureWrk()
  for (const name of values.scenarios.split(',')) {
    const scenario = scenarios[name]
    if (!scenario)
      throw new Error(`unknown scenario ${name}; choose from ${Object.keys(scenarios).join(', ')}`)
    console.log(`\n### ${name}\n`)
    await scenario()
  }
}

await main()
