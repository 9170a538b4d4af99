/**
 * What each capability costs per request, in microseconds of CPU, measured in this process: the
 * same page (bench/apps/page.ts) served through the pipeline with one capability on and off,
 * driven over an in-memory connection (bench/_inprocess.ts: no wrk, no loopback TCP). Every
 * configuration is built up front and measured in turn, the order reversed every round; the
 * figure is the median of the rounds. The access log goes to /dev/null through the real logger.
 * Usage: npm run bench -- capabilities [--requests 20000] [--rounds 7]
 */
import { spawnSync } from 'node:child_process'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { parseArgs } from 'node:util'
import pg from 'pg'
import pino from 'pino'
import { createCache } from '../dist/cache/index.js'
import { consoleArea } from '../dist/console/index.js'
import { instrumentPool } from '../dist/db/index.js'
import { countResponse } from '../dist/http/_metrics.js'
import { createHttpServer, createPipeline, loadApp } from '../dist/http/index.js'
import { batchedDestination } from '../dist/observe/_batched.js'
import { createLogger, startErrorTracking } from '../dist/observe/index.js'
import { securityMiddleware } from '../dist/security/index.js'
import { mediaFiles, storagesOver } from '../dist/storage/index.js'
import type { AppHandler, Middleware, WorkerState } from '../dist/types.js'
import { connect, cpuPerRequest, type Driver } from './_inprocess.ts'
import { median, printTable, root } from './_lib.ts'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '7' },
    // One configuration by its row number, for `valgrind --tool=callgrind` (instructions per
    // request: run it with two request counts and divide the difference).
    only: { type: 'string' },
  },
  allowPositionals: true,
})

// The access log writes to stdout: the measuring process runs with stdout on /dev/null and
// prints its table on stderr.
if (process.env.CAPABILITIES_BENCH !== 'measure') {
  const { status } = spawnSync(
    process.execPath,
    [new URL(import.meta.url).pathname, ...process.argv.slice(2)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, CAPABILITIES_BENCH: 'measure', LOG_LEVEL: 'info' },
    },
  )
  process.exit(status ?? 1)
}

const requests = Number(values.requests)
const rounds = Number(values.rounds)
const request = 'GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n'
const { default: page } = (await import('./apps/page.ts')) as {
  default: (req: IncomingMessage, res: ServerResponse) => void
}
const app = await loadApp(`${root}bench/apps/page.ts`, 'node')
const logger = createLogger({ pretty: false })
// pino with shipshape's destination, without its redaction and without its breadcrumb hook.
const plainPino = pino({ level: 'info', base: { pid: process.pid } }, batchedDestination(1))
const pool = new pg.Pool({ host: '/nonexistent', max: 1 })
const apm = instrumentPool(pool, { logger, rollupIntervalMs: 0, explainIntervalMs: 0 })
const errors = startErrorTracking(
  {
    metrics: undefined,
    release: undefined,
    environment: 'production',
    serverName: 'bench',
    retentionMs: 86_400_000,
    maxEventsPerIssue: 10,
    notifyIntervalMs: 60_000,
    email: undefined,
    webhook: undefined,
    slack: undefined,
    sentryDsn: undefined,
    ingest: undefined,
  },
  logger,
)
const cache = await createCache({ maxBytes: 1024 * 1024 })
await cache.set('page', 'cached')
const cachedApp: AppHandler = async (ctx) => {
  await cache.get('page')
  return app(ctx)
}
const loggingApp =
  (log: typeof logger): AppHandler =>
  (ctx) => {
    log.info({ userId: 42, items: 3 }, 'rendered the page')
    return app(ctx)
  }

function pipeline(
  middleware: Middleware[],
  {
    accessLog = false,
    handler = app,
    worker,
  }: { accessLog?: boolean; handler?: AppHandler; worker?: WorkerState } = {},
): Server {
  const built = createPipeline(
    handler,
    {
      timeoutMs: 30_000,
      trustedProxies: [],
      livezPath: '/livez',
      readyzPath: '/readyz',
      maxBodyBytes: 1024 * 1024,
      accessLog,
      worker,
    },
    logger,
    middleware,
  )
  return createHttpServer(built, {
    headersTimeoutMs: 60_000,
    requestTimeoutMs: 300_000,
    keepAliveTimeoutMs: 5000,
    maxHeaderBytes: 16 * 1024,
  })
}

const security = securityMiddleware()
const media = mediaFiles({ storages: storagesOver({}) })
const db = apm.middleware()
// The ops console as a worker has it, answering a request outside its prefix (what every app
// request pays); only the prefix is read until a request under it loads the pages.
const opsConsole = consoleArea(
  { console: { prefix: '/_shipshape' } } as Parameters<typeof consoleArea>[0],
  logger,
)

const configurations: { name: string; server: Server }[] = [
  { name: 'node:http alone', server: createServer(page) },
  { name: 'pipeline: request context (id, AsyncLocalStorage, clock, metrics)', server: pipeline([]) },
  { name: 'pipeline + access log', server: pipeline([], { accessLog: true }) },
  { name: 'pipeline + security headers', server: pipeline([security]) },
  { name: 'pipeline + db accounting', server: pipeline([db]) },
  { name: 'pipeline + error tracking', server: pipeline([], { worker: { errors } }) },
  { name: 'pipeline + media middleware', server: pipeline([media]) },
  { name: 'pipeline + one cache hit in the app', server: pipeline([], { handler: cachedApp }) },
  {
    name: "pipeline + the app logs a line (shipshape's logger)",
    server: pipeline([], { handler: loggingApp(logger) }),
  },
  {
    name: 'pipeline + the app logs a line (plain pino)',
    server: pipeline([], { handler: loggingApp(plainPino) }),
  },
  { name: "pipeline + the ops console's middleware", server: pipeline([opsConsole]) },
  {
    name: 'full default stack',
    server: pipeline([db, security, media], { accessLog: true, worker: { errors } }),
  },
]
/** Each capability as the configuration without it and the one with it. */
const pairs: [string, number, number][] = [
  ['request context', 0, 1],
  ['access log', 1, 2],
  ['security headers', 1, 3],
  ['db accounting (no queries)', 1, 4],
  ['error capture (tracker on, no error)', 1, 5],
  ['media middleware', 1, 6],
  ['cache lookup (one hit)', 1, 7],
  ["an app's log line, shipshape's logger (redaction, breadcrumb)", 1, 8],
  ["an app's log line, plain pino", 1, 9],
  ["the ops console's middleware (a request outside it)", 1, 10],
  ['the whole default stack', 0, 11],
]

if (values.only !== undefined) {
  const server = configurations[Number(values.only)]?.server as Server
  await connect(server, request).run(requests)
  await pool.end()
  process.exit(0)
}
const drivers: Driver[] = configurations.map(({ server }) => connect(server, request))
const figures: number[][] = configurations.map(() => [])
for (const driver of drivers) await driver.run(requests) // warm-up: JIT, caches
for (let round = 0; round < rounds; round++) {
  const order = drivers.map((_, i) => i)
  if (round % 2 === 1) order.reverse()
  for (const i of order) figures[i]?.push(await cpuPerRequest(drivers[i] as Driver, requests))
}

// Metrics cannot be turned off in the pipeline: their call is measured alone.
const metricRounds: number[] = []
for (let round = 0; round < rounds; round++) {
  const started = process.cpuUsage()
  for (let i = 0; i < requests * 10; i++) countResponse('GET', '/', 200, 0.0004)
  const used = process.cpuUsage(started)
  metricRounds.push((used.user + used.system) / (requests * 10))
}

const us = figures.map((list) => median(list))
// On a loaded machine the fastest round is the one least slowed by other processes.
const fastest = figures.map((list) => Math.min(...list))
const print = (rows: Record<string, string | number>[]) => {
  const log = console.log
  console.log = console.error
  printTable(rows)
  console.log = log
}
print(
  configurations.map(({ name }, i) => ({
    configuration: name,
    'CPU µs per request (median)': (us[i] as number).toFixed(2),
    'fastest round': (fastest[i] as number).toFixed(2),
  })),
)
console.error('')
print([
  ...pairs.map(([name, off, on]) => ({
    capability: name,
    'off µs': (us[off] as number).toFixed(2),
    'on µs': (us[on] as number).toFixed(2),
    'cost µs': ((us[on] as number) - (us[off] as number)).toFixed(2),
    'cost µs, fastest rounds': ((fastest[on] as number) - (fastest[off] as number)).toFixed(2),
  })),
  {
    capability: 'metrics (countResponse, measured alone)',
    'off µs': '—',
    'on µs': '—',
    'cost µs': median(metricRounds).toFixed(2),
    'cost µs, fastest rounds': Math.min(...metricRounds).toFixed(2),
  },
])
await pool.end()
process.exit(0)
