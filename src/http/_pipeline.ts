/**
 * The per-worker request pipeline. Everything is decided once at start-up (the middleware chain,
 * the proxy list, the timeout sweep interval); a request only allocates its context. The order a
 * request goes through is documented step by step in docs/lifecycle.md: keep the two in step.
 */
import { randomUUID } from 'node:crypto'
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import { ShipshapeError } from '../errors/index.js'
import type { Logger } from '../observe/index.js'
import type { AppHandler, Middleware, Pipeline, RequestContext, RequestSummary } from '../types.js'
import { contextStorage } from './_context.js'
import { countResponse, countTimeout, trackInflight } from './_metrics.js'
import { clientAddress, forwardedProtocol, type ProxyTrust, proxyTrust } from './_proxy.js'

export interface PipelineOptions {
  /** Milliseconds a request may run before it is answered 503 and its signal fires; 0 turns the timeout off. */
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
}

/**
 * An inbound X-Request-Id is reused (so one id follows a request through proxies and services)
 * only when it is short and plain: it ends up in logs and headers, so nothing that could forge a
 * log line or smuggle a header.
 */
const inboundRequestId = /^[A-Za-z0-9._:+=@/-]{1,128}$/

/** Headers describing the body the app meant to send; dropped when shipshape answers instead. */
const bodyHeaders = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'content-disposition',
  'etag',
  'last-modified',
  'transfer-encoding',
]

const contextKey = Symbol('shipshape.context')
type Tagged = ServerResponse & { [contextKey]?: Context }

interface Shared {
  trust: ProxyTrust
  logError(ctx: Context, error: unknown): void
}

class Context implements RequestContext {
  readonly method: string
  readonly startedAt = performance.now()
  /** The socket's byte count on arrival: a keep-alive socket carries earlier responses too. */
  readonly bytesAtStart: number
  /** The pipeline answered on the app's behalf (timeout, body too large); the app's later errors are expected. */
  answered = false
  private controller: AbortController | undefined
  private abortReason: unknown
  private bag: Record<string, unknown> | undefined
  private ip: string | undefined
  private scheme: 'http' | 'https' | undefined

  constructor(
    private readonly shared: Shared,
    readonly id: string,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly path: string,
  ) {
    this.method = req.method ?? 'GET'
    this.bytesAtStart = req.socket.bytesWritten
  }

  // The signal, the client address and the state bag are made on first use: most requests
  // never ask, and an AbortController per request is a measurable share of a small response.
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason)
    }
    return this.controller.signal
  }

  get clientIp(): string {
    const forwarded = this.req.headers['x-forwarded-for']
    this.ip ??= clientAddress(
      this.req.socket.remoteAddress ?? '',
      Array.isArray(forwarded) ? forwarded.join(',') : forwarded,
      this.shared.trust,
    )
    return this.ip
  }

  get protocol(): 'http' | 'https' {
    const socket = this.req.socket as { encrypted?: boolean; remoteAddress?: string }
    const proto = this.req.headers['x-forwarded-proto']
    this.scheme ??= forwardedProtocol(
      socket.remoteAddress ?? '',
      socket.encrypted === true,
      Array.isArray(proto) ? proto[0] : proto,
      this.shared.trust,
    )
    return this.scheme
  }

  get state(): Record<string, unknown> {
    this.bag ??= {}
    return this.bag
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return
    this.abortReason = reason
    this.controller?.abort(reason)
  }

  /** Called by adapters whose framework answers its own errors (see reportAppError). */
  reportError(error: unknown): void {
    this.shared.logError(this, error)
  }
}

/** Builds the pipeline once: built-in steps, then `middleware` in order, then the app. */
export function createPipeline(
  app: AppHandler,
  options: PipelineOptions,
  logger: Logger,
  middleware: Middleware[],
): Pipeline {
  const { timeoutMs, livezPath, readyzPath, maxBodyBytes, accessLog, onAdmit } = options
  const chain = compose(middleware, app)
  const inflight = new Set<Context>()
  const waiters: (() => void)[] = []
  let draining = false
  let served = 0
  // The timeout is the same for every request, so requests time out in the order they arrived:
  // one timer sweeping the oldest end of an insertion-ordered set replaces a timer per request.
  // The sweep runs every 1/20 of the timeout (10 ms to 1 s), so a 503 comes at most 5% late.
  const sweepEveryMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 20)))
  let sweeper: NodeJS.Timeout | undefined

  const shared: Shared = {
    trust: proxyTrust(options.trustedProxies),
    logError(ctx, error) {
      logger.error(
        { err: error, requestId: ctx.id, method: ctx.method, path: ctx.path },
        'the app failed to handle the request',
      )
    },
  }

  function listener(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    const query = url.indexOf('?')
    const path = query === -1 ? url : url.slice(0, query)
    if (repeatsHost(req.rawHeaders)) {
      // Two Host headers are how request smuggling and cache poisoning start: a proxy in front
      // may route by one while node:http keeps the other. RFC 9112 §3.2: refuse with a 400.
      answer(res, 400, 'Bad Request: more than one Host header\n', true)
      return
    }
    if (path === livezPath || path === readyzPath) {
      if (path === livezPath) answer(res, 200, 'ok\n')
      else if (draining) answer(res, 503, 'draining\n', true)
      else answer(res, 200, 'ready\n')
      return
    }

    const inbound = req.headers['x-request-id']
    const id =
      inbound !== undefined && inboundRequestId.test(inbound as string) ? (inbound as string) : randomUUID()
    const ctx = new Context(shared, id, req, res, path)
    res.setHeader('X-Request-Id', id)
    if (draining) res.setHeader('Connection', 'close')
    inflight.add(ctx)
    trackInflight(1)
    ;(res as Tagged)[contextKey] = ctx
    res.on('close', onClose)
    if (timeoutMs > 0 && sweeper === undefined) sweeper = setInterval(sweep, sweepEveryMs).unref()

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

  async function run(ctx: Context): Promise<void> {
    try {
      await chain(ctx)
    } catch (error) {
      failed(ctx, error)
    }
  }

  // One listener function for every response, finding its context on the response, instead of
  // a closure per request: 'close' is emitted once per response.
  function onClose(this: ServerResponse): void {
    finish((this as Tagged)[contextKey] as Context)
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
      answer(ctx.res, 500, `Internal Server Error (request id ${ctx.id})\n`)
    } else {
      setErrorHeaders(res, (error as { headers?: unknown }).headers)
      // The body may be unread or half read: the connection closes rather than read on.
      answer(ctx.res, status, `${STATUS_CODES[status] ?? 'Error'} (request id ${ctx.id})\n`, true)
    }
  }

  function finish(ctx: Context): void {
    inflight.delete(ctx)
    trackInflight(-1)
    served++
    const { res } = ctx
    const completed = res.writableFinished
    if (!completed) ctx.abort(new DOMException('The client closed the connection', 'AbortError'))
    const ms = performance.now() - ctx.startedAt
    countResponse(completed ? res.statusCode : 0, ms / 1000)
    if (accessLog) {
      logger.info(
        {
          requestId: ctx.id,
          method: ctx.method,
          path: ctx.path,
          // 499 as nginx logs it: the client went away before the response was complete.
          status: completed ? res.statusCode : 499,
          bytes: ctx.req.socket.bytesWritten - ctx.bytesAtStart,
          ms: Math.round(ms * 100) / 100,
        },
        'request',
      )
    }
    if (inflight.size === 0) for (const wake of waiters.splice(0)) wake()
  }

  function sweep(): void {
    if (inflight.size === 0) {
      clearInterval(sweeper)
      sweeper = undefined
      return
    }
    const now = performance.now()
    for (const ctx of inflight) {
      if (now - ctx.startedAt < timeoutMs) break
      if (!ctx.answered) timedOut(ctx, now)
    }
  }

  function timedOut(ctx: Context, now: number): void {
    ctx.answered = true
    countTimeout()
    const elapsedMs = Math.round(now - ctx.startedAt)
    logger.warn(
      { requestId: ctx.id, method: ctx.method, path: ctx.path, elapsedMs, timeoutMs },
      'request timed out',
    )
    // Answer first, then abort: an app reacting to the signal synchronously must not win the race.
    if (!ctx.res.headersSent) {
      answer(ctx.res, 503, `Service Unavailable: the request timed out (request id ${ctx.id})\n`, true)
    } else {
      ctx.res.destroy()
    }
    ctx.abort(new ShipshapeError('SHIPSHAPE_E_TIMEOUT', `${ctx.method} ${ctx.path} after ${elapsedMs} ms`))
  }

  function tooLarge(ctx: Context): void {
    ctx.answered = true
    if (!ctx.res.headersSent) {
      answer(
        ctx.res,
        413,
        `Payload Too Large: the limit is ${maxBodyBytes} bytes (request id ${ctx.id})\n`,
        true,
      )
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

  return {
    listener,
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
      draining = true
      for (const ctx of inflight) if (!ctx.res.headersSent) ctx.res.setHeader('Connection', 'close')
    },
    idle(): Promise<void> {
      if (inflight.size === 0) return Promise.resolve()
      return new Promise((resolve) => waiters.push(resolve))
    },
  }
}

/** Middleware run in order around the app; the chain is built here once, never per request. */
function compose(middleware: Middleware[], app: AppHandler): AppHandler {
  let chain = app
  for (let i = middleware.length - 1; i >= 0; i--) {
    const step = middleware[i] as Middleware
    const next = chain
    const name = step.name || `middleware #${i + 1}`
    chain = async (ctx) => {
      let called = false
      await step(ctx, () => {
        if (called) return Promise.reject(new Error(`${name} called next() more than once`))
        called = true
        return next(ctx)
      })
    }
  }
  return chain
}

/** More than one Host header among the raw ones (node:http keeps only the first in req.headers). */
function repeatsHost(raw: string[]): boolean {
  let seen = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (seen) return true
      seen = true
    }
  }
  return false
}

/**
 * shipshape's own short answer (health checks, 400, 413, 500, 503), keeping headers middleware
 * set such as the request id and CSP.
 */
function answer(res: ServerResponse, status: number, body: string, close = false): void {
  // The app may still try to write after this; those writes fail quietly instead of crashing the worker.
  res.on('error', ignore)
  for (const name of bodyHeaders) res.removeHeader(name)
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.setHeader('Cache-Control', 'no-store')
  if (close) res.setHeader('Connection', 'close')
  res.end(body)
}

function ignore(): void {}

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
