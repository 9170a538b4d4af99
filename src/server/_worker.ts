/**
 * A worker process: loads the app once, builds the pipeline once, then serves the connections
 * the primary hands it. It never listens itself, and follows the primary's lead on shutdown.
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import { createHttpServer, createPipeline, loadApp } from '../http/index.js'
import { createLogger } from '../observe/index.js'
import type { Pipeline } from '../types.js'
import type { ServeOptions } from './_composed.js'
import { heartbeatMs, type PrimaryMessage, type WorkerMessage } from './_protocol.js'
import { defaultMiddleware } from './_stack.js'

/**
 * HTTP/1.1 has no way to tell a client "do not reuse this connection" except in a response, so
 * closing an idle keep-alive connection always races with a client that may be sending its next
 * request on it (that client sees the connection drop). During a drain every response closes its
 * connection, so busy connections end by themselves. On shutdown, idle ones are closed after this
 * grace; on a reload they are left for their clients to close (a client's idle timeout is shorter
 * than --keep-alive when set up as docs/server.md says), until the graceful timeout is near.
 */
const idleGraceMs = 2000
/** How long before the primary's graceful-timeout kill a reloading worker closes what is left itself. */
const beforeKillMs = 1000

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
let server: Server | undefined
let draining = false

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve()
    process.send?.(message, undefined, {}, () => resolve())
  })
}

async function start(): Promise<void> {
  const app = await loadApp(options.app, options.kind)
  const middleware = await defaultMiddleware(options, logger)
  pipeline = createPipeline(
    app,
    {
      timeoutMs: options.timeoutMs,
      trustedProxies: options.trustedProxies,
      livezPath: options.livezPath,
      readyzPath: options.readyzPath,
      maxBodyBytes: options.maxBodyBytes,
      accessLog: options.accessLog,
      onAdmit: beatIfDue,
    },
    logger,
    middleware,
  )
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
      sockets.add(handle)
      handle.once('close', () => sockets.delete(handle))
      http.emit('connection', handle)
    } else if (message.type === 'drain') {
      void drain(message.keepIdle)
    }
  })
  // The replacement starts first; this worker drains once it is ready (see the primary).
  const retire = (fields: Record<string, number>, reason: string) => {
    retiring = true
    logger.info(fields, `worker ${reason}; asking to be replaced`)
    void send({ type: 'retire' })
  }
  setInterval(() => {
    beat()
    if (retiring) return
    if (retireAfter > 0 && served.served() >= retireAfter) {
      retire({ served: served.served(), limit: retireAfter }, 'reached --max-requests')
    } else if (memoryLimit > 0) {
      const rss = process.memoryUsage.rss()
      if (rss > memoryLimit) retire({ rss, limit: memoryLimit }, 'passed --max-memory')
    }
  }, heartbeatMs)
  await send({ type: 'ready' })
}

let lastBeat = 0
let lastBeatWasIdle = true

function beat(): void {
  const inflight = pipeline?.inflight() ?? []
  lastBeat = performance.now()
  lastBeatWasIdle = inflight.length === 0
  void send({ type: 'beat', inflight })
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

/** Finish in-flight requests (their responses close the connection), then idle connections; exit 0. */
async function drain(keepIdle = false): Promise<void> {
  if (draining) return
  draining = true
  if (pipeline === undefined || server === undefined) return exit(0) // still starting: nothing to finish
  pipeline.drain()
  const idleFor = keepIdle
    ? Math.max(0, options.gracefulTimeoutMs - beforeKillMs)
    : Math.min(idleGraceMs, options.gracefulTimeoutMs / 2)
  const deadline = performance.now() + idleFor
  while (sockets.size > 0 && performance.now() < deadline) await sleep(50)
  await pipeline.idle()
  while (sockets.size > 0) {
    server.closeIdleConnections()
    await sleep(50)
    await pipeline.idle()
  }
  exit(0)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function exit(code: number): void {
  logger.flush(() => process.exit(code))
}

// The primary decides when workers stop. A signal sent to the whole process group (Ctrl-C in a
// terminal, systemd's stop) reaches workers too: they drain as the primary would ask them to.
process.on('SIGTERM', () => drain())
process.on('SIGINT', () => drain())
process.on('SIGHUP', () => {}) // reloads are the primary's job
// The primary is gone (killed with SIGKILL): nobody will hand over connections or reap us.
process.on('disconnect', () => drain())
process.on('uncaughtException', (error) => {
  logger.fatal({ err: error }, 'uncaught exception: the worker exits and the primary replaces it')
  exit(1)
})

start().catch(async (error: unknown) => {
  const shown = error instanceof Error ? (error.stack ?? error.message) : String(error)
  const cause =
    error instanceof Error && error.cause instanceof Error ? `\nCaused by: ${error.cause.stack}` : ''
  await send({ type: 'failed', error: `${shown}${cause}` })
  process.exit(1)
})
