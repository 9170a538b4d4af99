/**
 * The per-worker request pipeline. Everything is decided once at start-up (the middleware chain,
 * the proxy list, the timeout sweep interval); a request only allocates its context. The order a
 * request goes through is documented step by step in docs/lifecycle.md: keep the two in step.
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import { ShipshapeError } from '../errors/index.js'
import type { Logger } from '../observe/index.js'
import type { AppHandler, Middleware, Pipeline, RequestSummary, WorkerState } from '../types.js'
import { accessLine } from './_access-line.js'
import { answerPlain, contextOfResponse, plainAnswerBytes, requestIdOf, tagResponse } from './_answer.js'
import { awaitingWatcher, timeoutEvent } from './_awaiting.js'
import { compose, mergedWorkerState } from './_compose.js'
import { Context, contextStorage, protocolOf, type Shared } from './_context.js'
import { putHeader } from './_header-store.js'
import { countResponse, countTimeout, trackInflight } from './_metrics.js'
import { proxyTrust } from './_proxy.js'
import { routeName } from './_route.js'
import { type ClockOptions, requestClock } from './_timeouts.js'
import { upgradeHandler } from './_upgrade.js'

export interface PipelineOptions extends Partial<ClockOptions> {
  /** Milliseconds a request may wait for its response's first byte before it is answered 503 and its signal fires; 0 turns the timeout off. */
  timeoutMs: number
  /** Proxy addresses, CIDR ranges, `loopback` / `private` / `linklocal`, or `unix` (Unix socket peers), whose X-Forwarded-* headers are believed. */
  trustedProxies: string[]
  /** Answers 200 while the process runs; never logged, never passed to the app. */
  livezPath: string
  /** Answers 200, or 503 once draining so the load balancer stops sending traffic. */
  readyzPath: string
  /** Largest request body accepted (413 beyond it); `Infinity` turns the limit off. */
  maxBodyBytes: number
  /** One log line per request answered (health checks excepted). */
  accessLog: boolean
  /**
   * Called as each request is admitted, before any middleware or app code runs. The worker
   * uses it to tell the primary which requests it holds in time, should the app then block.
   */
  onAdmit?: () => void
  /** Worker state that comes from no middleware (a db pool the worker opened); default none. */
  worker?: WorkerState
  /** Why the worker cannot serve now (its database is unreachable): `/readyz` answers 503 with it. */
  notReady?: () => string | undefined
}

/** Builds the pipeline once: built-in steps, then `middleware` in order, then the app. */
export function createPipeline(
  app: AppHandler,
  options: PipelineOptions,
  logger: Logger,
  middleware: Middleware[],
): Pipeline {
  const { livezPath, readyzPath, maxBodyBytes, accessLog, onAdmit } = options
  const chain = compose(middleware, app)
  const inflight = new Set<Context>()
  const waiters: (() => void)[] = []
  let draining = false
  let served = 0
  const clock = requestClock<Context>(
    { ...options, idleTimeoutMs: options.idleTimeoutMs ?? 0 },
    { expired: timedOut, idle: idledOut },
  )
  const drainController = new AbortController()
  const watchAwaiting = awaitingWatcher()
  const writeAccessLine = accessLog ? accessLine(logger) : undefined

  const trust = proxyTrust(options.trustedProxies)
  const worker = mergedWorkerState({ ...options.worker, drainSignal: drainController.signal }, middleware)
  const shared: Shared = {
    trust,
    worker,
    setTimeout: (ctx, ms) => clock.set(ctx, ms),
    logError(ctx, error) {
      // With error tracking on, the tracker logs the error once grouped, with its issue id.
      if (worker.errors) return void worker.errors.capture(error, { ctx })
      logger.error(
        { err: error, requestId: ctx.id, method: ctx.method, path: ctx.path },
        'the app failed to handle the request',
      )
    },
  }

  /** An answer before any context exists: health checks and requests refused on their framing. */
  function early(res: ServerResponse, status: number, text: string, close = false): void {
    answerPlain(res, status, text, { worker, https: protocolOf(res.req, trust) === 'https', close })
  }

  function listener(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    const refused = refusedFraming(req)
    if (refused !== undefined) {
      early(res, 400, `Bad Request: ${refused}\n`, true)
      return
    }
    if (path === livezPath || path === readyzPath) {
      if (path === livezPath) early(res, 200, 'ok\n')
      else if (draining) early(res, 503, 'draining\n', true)
      else {
        const why = options.notReady?.()
        early(res, why === undefined ? 200 : 503, `${why ?? 'ready'}\n`)
      }
      return
    }

    const ctx = new Context(shared, requestIdOf(req), req, res, path)
    // The id is a UUID or an inbound one of safe characters (requestIdOf): nothing to validate.
    putHeader(res, 'x-request-id', 'X-Request-Id', ctx.id)
    if (draining) res.setHeader('Connection', 'close')
    inflight.add(ctx)
    trackInflight(1)
    tagResponse(res, ctx)
    res.on('close', onClose)
    clock.admit(ctx)

    const length = req.headers['content-length']
    if (length !== undefined) {
      // The parser has checked Content-Length is a number and stops the body at that length.
      if (Number(length) > maxBodyBytes) {
        tooLarge(ctx)
        return
      }
    } else if (req.headers['transfer-encoding'] !== undefined && Number.isFinite(maxBodyBytes)) {
      limitStreamedBody(ctx)
    }
    onAdmit?.()
    contextStorage.run(ctx, run, ctx)
  }

  /** shipshape's own answer to a request in flight (500, 503, 413), keeping what middleware set. */
  function answer(ctx: Context, status: number, text: string, close: boolean): void {
    answerPlain(ctx.res, status, text, { worker, https: ctx.protocol === 'https', close })
  }

  // Not an async function: no promise and frame of its own per request on top of the chain's.
  function run(ctx: Context): void {
    try {
      chain(ctx).then(undefined, failedInContext)
    } catch (error) {
      failed(ctx, error) // an app called with no middleware in front may throw at once
    }
  }

  // One rejection handler for every request: a promise reaction runs in the context of the
  // request that attached it, so the request is found there instead of in a closure.
  function failedInContext(error: unknown): void {
    failed(contextStorage.getStore() as Context, error)
  }

  // One listener function for every response, finding its context on the response, instead of
  // a closure per request: 'close' is emitted once per response.
  function onClose(this: ServerResponse): void {
    finish(contextOfResponse(this) as Context)
  }

  function failed(ctx: Context, error: unknown): void {
    // After a timeout or a 413 the app usually fails on its aborted signal or body: expected.
    if (ctx.answered) return
    const { req, res } = ctx
    // A client that hangs up mid-body fails the app's read with ECONNRESET: nothing to answer,
    // and not the app's fault (the access line shows 499). Logged as an error, anyone could
    // fill the error log by disconnecting.
    if (req.destroyed && (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET') return
    // An error that names its own status (http-errors, body-parser: 415 for an unknown charset,
    // 400 for a corrupt body) is answered with it; a 4xx is the client's fault, not the app's.
    const status = httpStatusOf(error)
    if (status === undefined || status >= 500) shared.logError(ctx, error)
    if (res.headersSent) {
      if (!res.writableEnded) res.destroy() // a half-sent response must not look complete
      return
    }
    if (status === undefined) {
      answer(ctx, 500, `Internal Server Error (request id ${ctx.id})\n`, false)
    } else {
      setErrorHeaders(res, (error as { headers?: unknown }).headers)
      // The body may be unread or half read: the connection closes rather than read on.
      answer(ctx, status, `${STATUS_CODES[status] ?? 'Error'} (request id ${ctx.id})\n`, true)
    }
  }

  function finish(ctx: Context): void {
    inflight.delete(ctx)
    clock.remove(ctx)
    trackInflight(-1)
    served++
    const { res } = ctx
    const completed = res.writableFinished
    if (!completed) ctx.abort(new DOMException('The client closed the connection', 'AbortError'))
    const ms = performance.now() - ctx.startedAt
    const finished = { status: completed ? res.statusCode : 0, ms, route: routeName(ctx) }
    countResponse(ctx.method, finished.route, finished.status, ms / 1000)
    const extra = worker.finishRequest?.(ctx, finished)
    writeAccessLine?.(ctx, completed, ms, extra)
    if (inflight.size === 0 && waiters.length > 0) for (const wake of waiters.splice(0)) wake()
  }

  function timedOut(ctx: Context, now: number, timeoutMs: number): void {
    if (ctx.answered) return
    ctx.answered = true
    countTimeout()
    const elapsedMs = Math.round(now - ctx.startedAt)
    logger.warn(
      { requestId: ctx.id, method: ctx.method, path: ctx.path, elapsedMs, timeoutMs },
      'request timed out',
    )
    // Answer first, then abort: an app reacting to the signal synchronously must not win the race.
    if (!ctx.res.headersSent) {
      answer(ctx, 503, `Service Unavailable: the request timed out (request id ${ctx.id})\n`, true)
    } else {
      ctx.res.destroy()
    }
    const abort = () =>
      ctx.abort(new ShipshapeError('SHIPSHAPE_E_TIMEOUT', `${ctx.method} ${ctx.path} after ${elapsedMs} ms`))
    const errors = worker.errors
    if (errors === undefined) {
      abort()
      return
    }
    // The event carries where the app was awaiting, when the abort reaches it (see _awaiting.ts).
    watchAwaiting(
      () => contextStorage.getStore() === ctx,
      abort,
      (stack) => errors.capture(timeoutEvent(elapsedMs, stack), { ctx, kind: 'timeout', level: 'warning' }),
    )
  }

  /** A started response that sent nothing for the idle timeout: cut off, as a client would see a dead server. */
  function idledOut(ctx: Context, idleMs: number): void {
    if (ctx.answered) return
    ctx.answered = true
    countTimeout()
    logger.warn(
      { requestId: ctx.id, method: ctx.method, path: ctx.path, idleMs, idleTimeoutMs: options.idleTimeoutMs },
      'response idle past the idle timeout',
    )
    ctx.res.destroy()
    ctx.abort(
      new ShipshapeError(
        'SHIPSHAPE_E_IDLE_TIMEOUT',
        `${ctx.method} ${ctx.path} sent nothing for ${idleMs} ms`,
      ),
    )
  }

  function tooLarge(ctx: Context): void {
    ctx.answered = true
    if (!ctx.res.headersSent) {
      answer(ctx, 413, `Payload Too Large: the limit is ${maxBodyBytes} bytes (request id ${ctx.id})\n`, true)
    } else {
      ctx.res.destroy()
    }
    ctx.abort(new ShipshapeError('SHIPSHAPE_E_BODY_TOO_LARGE', `more than ${maxBodyBytes} bytes`))
  }

  /**
   * A chunked body has no length up front, so its bytes are counted as the parser hands them
   * over. Past the limit the rest is read and dropped (so the 413 reaches the client instead of
   * a reset) and the app's body stream never ends: it errors when the connection closes.
   */
  function limitStreamedBody(ctx: Context): void {
    const { req } = ctx
    const push = req.push
    let seen = 0
    let over = false
    req.push = (chunk: Buffer | null, encoding?: BufferEncoding): boolean => {
      if (over) return true
      if (chunk !== null) {
        seen += chunk.length
        if (seen > maxBodyBytes) {
          over = true
          tooLarge(ctx)
          return true
        }
      }
      return push.call(req, chunk, encoding)
    }
  }

  const upgrades =
    app.upgrades &&
    upgradeHandler(app.upgrades, {
      shared,
      logger,
      accessLog,
      compose: (last) => compose(middleware, last),
      draining: () => draining,
    })

  return {
    worker,
    listener,
    upgrade:
      upgrades &&
      ((req, socket, head) => {
        if (refusedFraming(req) === undefined) return upgrades.listener(req, socket, head)
        socket.end(plainAnswerBytes(400, worker, protocolOf(req, trust) === 'https'))
      }),
    inflight(): RequestSummary[] {
      const now = performance.now()
      const list: RequestSummary[] = []
      for (const ctx of inflight) {
        list.push({
          id: ctx.id,
          method: ctx.method,
          path: ctx.path,
          elapsedMs: Math.round(now - ctx.startedAt),
        })
      }
      return list
    },
    served: () => served,
    drain(): void {
      if (draining) return
      draining = true
      for (const ctx of inflight) if (!ctx.res.headersSent) ctx.res.setHeader('Connection', 'close')
      // After the headers: a handler reacting to the signal at once answers with them in place.
      drainController.abort(new ShipshapeError('SHIPSHAPE_E_DRAINING', 'the worker has started draining'))
      upgrades?.drain()
    },
    idle(): Promise<void> {
      if (inflight.size === 0) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
  }
}

/**
 * Why a request whose framing cannot be trusted is refused before anything runs (400, connection
 * closed), or undefined. Two Host headers are how request smuggling and cache poisoning start:
 * a proxy in front may route by one while node:http keeps the other (RFC 9112 §3.2). A
 * Transfer-Encoding whose last coding is not chunked leaves the body's length unknowable, and a
 * proxy may frame it otherwise: RFC 9112 §6.3 says refuse it and close the connection.
 */
function refusedFraming(req: IncomingMessage): string | undefined {
  const coding = req.headers['transfer-encoding']
  if (
    coding !== undefined &&
    coding
      .slice(coding.lastIndexOf(',') + 1)
      .trim()
      .toLowerCase() !== 'chunked'
  )
    return 'the last Transfer-Encoding must be chunked'
  const raw = req.rawHeaders
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (seen) return 'more than one Host header'
      seen = true
    }
  }
  return undefined
}

/** The 4xx or 5xx an error asks for, by the `status` / `statusCode` convention of http-errors. */
function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown }
  const code = status ?? statusCode
  return Number.isInteger(code) && (code as number) >= 400 && (code as number) <= 599
    ? (code as number)
    : undefined
}

/** An http-errors error's own headers, such as Allow on a 405 or Retry-After on a 429. */
function setErrorHeaders(res: ServerResponse, headers: unknown): void {
  if (typeof headers !== 'object' || headers === null) return
  for (const [name, value] of Object.entries(headers)) {
    try {
      if (typeof value === 'string' || typeof value === 'number') res.setHeader(name, value)
    } catch {} // an invalid name or value is dropped, not sent
  }
}
