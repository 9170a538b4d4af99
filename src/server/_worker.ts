/**
 * A worker process: loads the app once, builds the pipeline once, then serves the connections
 * the primary hands it. It never listens itself, and follows the primary's lead on shutdown.
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { workerCache } from '../cache/index.js'
import { type Apm, type Database, instrumentPool, openDatabase } from '../db/index.js'
import { becomeWorker, createHttpServer, createPipeline, httpMetrics, loadApp } from '../http/index.js'
import { collectFamilies, createLogger, sampleProcess, startErrorTracking } from '../observe/index.js'
import type { AppHandler, Pipeline } from '../types.js'
import type { ServeOptions } from './_composed.js'
import { workerCounters } from './_counters.js'
import { runShutdownHooks } from './_drain.js'
import { heartbeatMs, type PrimaryMessage, type WorkerMessage } from './_protocol.js'
import { workerRelay } from './_relay.js'
import { defaultMiddleware } from './_stack.js'

/**
 * HTTP/1.1 has no way to tell a client "do not reuse this connection" except in a response, so
 * closing an idle keep-alive connection always races with a client that may be sending its next
 * request on it (that client sees the connection drop). During a drain every response closes its
 * connection, so busy connections end by themselves. On shutdown, idle ones are closed at once; on
 * a reload they are left for their clients to close (a client's idle timeout is shorter than
 * --keep-alive when set up as docs/server.md says), until the graceful timeout is near.
 */
/** How long before the primary's graceful-timeout kill a reloading worker closes what is left itself. */
const beforeKillMs = 1000
/**
 * After an uncaught exception the worker leaves (the app may be in any state), but the other
 * requests it holds are most often sound: they get this long to finish before it exits 1. Longer
 * would keep a possibly broken process serving; the primary starts the replacement at once.
 */
const failingGraceMs = 1500
/** How long an exiting worker waits for its error tracker to store and notify what it captured. */
const flushMs = 5000

// The primary decides when workers stop. A signal sent to the whole process group (Ctrl-C in a
// terminal, systemd's stop with its default KillMode=control-group) reaches workers too: they
// ignore it, and drain when the primary, which got the same signal, tells them to. Should the
// primary be gone, 'disconnect' (below) stops them.
process.on('SIGTERM', () => {})
process.on('SIGINT', () => {})
process.on('SIGHUP', () => {}) // reloads are the primary's job

// The options come over the channel, not the environment: they hold secrets (signing keys)
// that /proc/<pid>/environ would show, and that the app's own child processes would inherit.
const orphaned = () => process.exit(0) // the primary died before sending them
process.once('disconnect', orphaned)
const options = await new Promise<ServeOptions>((resolve) => {
  process.once('message', (message: PrimaryMessage) => {
    if (message.type === 'options') resolve(message.options)
  })
  void send({ type: 'hello' })
})
process.off('disconnect', orphaned)
// JSON has no Infinity: an unlimited body size travels as null.
options.maxBodyBytes ??= Number.POSITIVE_INFINITY
const logger = createLogger({ level: options.logLevel })
const sockets = new Set<Socket>()
let pipeline: Pipeline | undefined
/** Writes its last per-route window when the worker leaves. */
let apm: Apm | undefined
let server: Server | undefined
let closeApp: AppHandler['close']
let leaving = false
/** When a leaving worker exits even with requests unfinished; an uncaught exception brings it closer. */
let leaveBy = Number.POSITIVE_INFINITY
let exitCode = 0

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve()
    process.send?.(message, undefined, {}, () => resolve())
  })
}

// Stack traces of the app name its TypeScript sources (a compiled app's source maps are read).
process.setSourceMapsEnabled(true)
const usesDatabase = options.database.url !== '' || options.database.embedded
/** The worker's database, opened as it starts; errors are stored through its pool (captured before, they wait). */
let db: Database | undefined
const errors = startErrorTracking(
  options.observe,
  logger,
  usesDatabase
    ? {
        query: (text, values) =>
          db ? db.pool.query(text, values) : Promise.reject(new Error('the database is not open')),
      }
    : undefined,
)

async function start(): Promise<void> {
  // The pool is the worker's before the app loads: an app may build its query layer at import.
  db = usesDatabase ? openDatabase(options.database, logger) : undefined
  apm = db && instrumentPool(db.pool, { ...options.apm, logger })
  const relay = workerRelay()
  const cache = await workerCache(options.cache, { relay, logger })
  const counters = workerCounters()
  const state = db ? { db, errors, relay, cache, counters } : { errors, relay, cache, counters }
  becomeWorker(state)
  const app = await loadApp(options.app, options.kind)
  closeApp = app.close
  // The APM's accounting comes first, so that every request's queries and route are counted.
  const middleware = [...(apm ? [apm.middleware()] : []), ...(await defaultMiddleware(options, logger))]
  pipeline = createPipeline(
    app,
    {
      timeoutMs: options.timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      routeTimeouts: options.routeTimeouts,
      trustedProxies: options.trustedProxies,
      livezPath: options.livezPath,
      readyzPath: options.readyzPath,
      maxBodyBytes: options.maxBodyBytes,
      accessLog: options.accessLog,
      onAdmit: beatIfDue,
      worker: state,
      notReady: db?.notReady,
    },
    logger,
    middleware,
  )
  // App code outside a request (a timer, a queue consumer) sees this worker's hosts, static files
  // and storages too, as code inside one does.
  becomeWorker(pipeline.worker)
  const http = createHttpServer(pipeline, {
    headersTimeoutMs: options.headersTimeoutMs,
    requestTimeoutMs: options.bodyTimeoutMs,
    keepAliveTimeoutMs: options.keepAliveMs,
    maxHeaderBytes: options.maxHeaderBytes,
    // Read here, at worker start: a reload's new workers pick up a renewed certificate.
    tls:
      options.tlsCertFile && options.tlsKeyFile
        ? { certFile: options.tlsCertFile, keyFile: options.tlsKeyFile }
        : undefined,
  })
  const served = pipeline
  const retireAfter =
    options.maxRequests > 0
      ? options.maxRequests + Math.floor(Math.random() * (options.maxRequestsJitter + 1))
      : 0
  let memoryLimit = options.maxMemoryBytes
  if (memoryLimit > 0 && process.memoryUsage.rss() > memoryLimit) {
    // Replacing it would only start another worker just as large, forever.
    logger.warn(
      { rss: process.memoryUsage.rss(), limit: memoryLimit },
      'worker is larger than --max-memory at start-up; it will not be replaced for its memory',
    )
    memoryLimit = 0
  }
  let retiring = false
  server = http

  process.on('message', (message: PrimaryMessage, handle?: Socket) => {
    if (message.type === 'connection' && handle) {
      // The primary's listener accepts with Nagle's algorithm on (node:net's default; node:http
      // turns it off only for connections it accepts itself): a response whose last bytes follow
      // its first by a moment would wait for the client's delayed ACK, about 40 ms.
      handle.setNoDelay(true)
      sockets.add(handle)
      handle.once('close', () => sockets.delete(handle))
      http.emit('connection', handle)
    } else if (message.type === 'drain') {
      void leave({ keepIdle: message.keepIdle })
    } else if (message.type === 'capture') {
      errors.capture(message.message, {
        kind: 'watchdog',
        extra: message.extra,
        fingerprint: ['watchdog', message.reason],
      })
    }
  })
  // The replacement starts first; this worker drains once it is ready (see the primary).
  const retire = (fields: Record<string, number>, reason: string) => {
    retiring = true
    logger.info(fields, `worker ${reason}; asking to be replaced`)
    void send({ type: 'retire' })
  }
  setInterval(() => {
    beat(true)
    if (retiring) return
    if (retireAfter > 0 && served.served() >= retireAfter) {
      retire({ served: served.served(), limit: retireAfter }, 'reached --max-requests')
    } else if (memoryLimit > 0) {
      const rss = process.memoryUsage.rss()
      if (rss > memoryLimit) retire({ rss, limit: memoryLimit }, 'passed --max-memory')
    }
  }, heartbeatMs)
  collectStartupGarbage()
  await send({ type: 'ready' })
}

/**
 * One full, memory-reducing collection once the app is loaded, before the worker takes requests:
 * what loading the app and building the pipeline left behind is freed, and the young generation
 * that start-up grew is shrunk back (V8 keeps it grown, and an idle worker never collects it):
 * about 11 MB of an idle worker's RSS (bench/README.md, issue 18), for one pause of a few
 * milliseconds that no request waits for. `gc` is exposed in a throwaway context, never to the app.
 */
function collectStartupGarbage(): void {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as (options: object) => void
  setFlagsFromString('--no-expose-gc')
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
}

let lastBeat = 0
let lastBeatWasIdle = true

/**
 * `timed`: the beat of the heartbeat timer, which carries the metrics: the HTTP series changed
 * since, this process's own numbers (memory, CPU, event-loop lag) and, when the primary serves
 * metrics, the capabilities' families that changed. A beat sent when a request is admitted
 * carries only the requests in flight, what the watchdog needs: under load there are up to 50
 * of those a second, and with the series they cost about 7 µs per request (bench/README.md).
 */
function beat(timed = false): void {
  const inflight = pipeline?.inflight() ?? []
  lastBeat = performance.now()
  lastBeatWasIdle = inflight.length === 0
  if (!timed) {
    void send({ type: 'beat', inflight })
    return
  }
  const metrics = {
    http: httpMetrics(),
    process: sampleProcess(),
    errors: errors.counts(),
    ...(options.observe.metrics ? { families: collectFamilies() } : {}),
  }
  void send({ type: 'beat', inflight, metrics })
}

/**
 * A request that blocks the event loop the moment it arrives would never appear in a timed
 * heartbeat, and the watchdog's log could not name it. So a request admitted to an idle worker
 * (its last beat held no request), or more than `admitBeatMs` after the last beat, sends one at
 * once: a quiet worker reports every request, whatever the timer just did. A busy worker sends
 * at most 1000 / admitBeatMs extra messages a second, and may miss a blocking request that
 * arrives within that window of another.
 */
const admitBeatMs = 20

function beatIfDue(): void {
  if (lastBeatWasIdle || performance.now() - lastBeat >= admitBeatMs) beat()
}

/**
 * Stop taking work, finish in-flight requests (their responses close the connection), close idle
 * connections, exit. `keepIdle` (reload, recycling) leaves idle keep-alive connections for their
 * clients to close while the graceful timeout allows. `withinMs` bounds the whole wait; otherwise
 * the primary's graceful-timeout kill does. A second call can only shorten the wait.
 */
async function leave({ keepIdle = false, withinMs = Number.POSITIVE_INFINITY, code = 0 }): Promise<void> {
  leaveBy = Math.min(leaveBy, performance.now() + withinMs)
  exitCode = Math.max(exitCode, code)
  if (leaving) return
  leaving = true
  if (pipeline === undefined || server === undefined) return exit(exitCode) // still starting: nothing to finish
  // The wait for connections ends a second before the primary's graceful-timeout kill, so the
  // app's shutdown hooks still run when a request outstays it.
  const killAt = performance.now() + options.gracefulTimeoutMs
  const hooksAt = killAt - beforeKillMs
  pipeline.drain()
  if (keepIdle) {
    while (sockets.size > 0 && performance.now() < Math.min(hooksAt, leaveBy)) await sleep(50)
  }
  // Connections busy now close after their response; each one that goes idle without closing
  // (its response began before the drain) is closed at the next round.
  while (sockets.size > 0 && performance.now() < Math.min(hooksAt, leaveBy)) {
    server.closeIdleConnections()
    await sleep(50)
  }
  if (pipeline.inflight().length > 0) exitCode = Math.max(exitCode, 1) // requests are cut off
  await runShutdownHooks(closeApp, Math.min(leaveBy, killAt - 100) - performance.now(), logger)
  // The APM's last window, within a second: a database that is down must not hold the exit.
  await Promise.race([apm?.close(), sleep(1000)])
  exit(exitCode)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function exit(code: number): void {
  // Captured errors (a crash's own among them) are stored and notified first, within flushMs.
  void Promise.race([errors.flush(), sleep(flushMs)]).then(() => logger.flush(() => process.exit(code)))
}

// The primary is gone (killed with SIGKILL): nobody will hand over connections, reap us, or
// enforce the graceful timeout, so the worker does.
process.on('disconnect', () => leave({ withinMs: options.gracefulTimeoutMs }))
process.on('uncaughtException', (error, origin) => {
  errors.capture(error, { kind: 'crash', tags: { mechanism: origin } })
  if (server === undefined) {
    logger.fatal({ err: error }, 'uncaught exception at start-up: the worker exits')
    return exit(1)
  }
  const inflight = pipeline?.inflight().length ?? 0
  logger.fatal(
    { err: error, inflight, graceMs: failingGraceMs },
    'uncaught exception: the worker takes no new requests, lets the ones in flight finish, then exits and is replaced',
  )
  void send({ type: 'failing' })
  void leave({ withinMs: failingGraceMs, code: 1 })
})

start().catch(async (error: unknown) => {
  const shown = error instanceof Error ? (error.stack ?? error.message) : String(error)
  const cause =
    error instanceof Error && error.cause instanceof Error ? `\nCaused by: ${error.cause.stack}` : ''
  await send({ type: 'failed', error: `${shown}${cause}` })
  process.exit(1)
})
