import { AsyncLocalStorage } from 'node:async_hooks'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RequestContext, WorkerState } from '../types.js'
import { clientAddress, forwardedProtocol, type ProxyTrust } from './_proxy.js'
import type { Slot } from './_slots.js'

export const contextStorage = new AsyncLocalStorage<RequestContext>()

/** The context of the request being handled, or undefined outside a request. */
export function getContext(): RequestContext | undefined {
  return contextStorage.getStore()
}

/**
 * The worker state in force: the serving worker's during a request; outside one (a timer, a queue
 * consumer in the app), that of the `shipshape serve` worker this process is, if it is one.
 */
export function workerState(): WorkerState | undefined {
  return contextStorage.getStore()?.worker ?? processWorker
}

let processWorker: WorkerState | undefined

/** What drainSignal() gives where no worker drains (a script, a test's pipeline-less code): it never fires. */
const neverSignal = new AbortController().signal

/**
 * Fires when the serving worker starts draining (a reload, a shutdown, recycling): end streams
 * (an SSE stream with a `retry:` hint), answer long polls, close WebSockets the app tracks, so
 * clients reconnect to the new workers instead of being cut off at the graceful timeout. The
 * request's own `signal` does not fire then: a request in flight is meant to finish. Outside a
 * request, the signal of the `shipshape serve` worker this process is; never fires elsewhere.
 */
export function drainSignal(): AbortSignal {
  return workerState()?.drainSignal ?? neverSignal
}

/**
 * Makes `state` this process's worker state outside a request. Called once, by `shipshape serve`'s
 * worker when it starts (never by a factory): a pipeline built in a test or a script leaves it unset.
 */
export function becomeWorker(state: WorkerState): void {
  processWorker = state
}

/**
 * Adapters whose framework answers its own errors (Koa, Fastify) hand the error here, so it is
 * logged with its stack and request id like an error the pipeline caught itself.
 */
export function reportAppError(ctx: RequestContext | undefined, error: unknown): void {
  if (ctx) ctx.reportError(error)
  else console.error(error)
}

/** What every context of one pipeline shares. */
export interface Shared {
  readonly trust: ProxyTrust
  readonly worker: WorkerState
  logError(ctx: Context, error: unknown): void
  setTimeout(ctx: Context, ms: number): void
}

/** `https` when the socket is TLS, or a trusted proxy says so through X-Forwarded-Proto. */
export function protocolOf(req: IncomingMessage, trust: ProxyTrust): 'http' | 'https' {
  const socket = req.socket as { encrypted?: boolean; remoteAddress?: string }
  if (socket.encrypted === true) return 'https'
  const proto = req.headers['x-forwarded-proto']
  // Only a header to believe needs the peer's address: on a new connection, reading it is a
  // getpeername() call (about 5 µs), for every request behind no proxy.
  if (proto === undefined || !trust.any) return 'http'
  return forwardedProtocol(socket.remoteAddress ?? '', false, Array.isArray(proto) ? proto[0] : proto, trust)
}

export class Context implements RequestContext {
  readonly method: string
  readonly startedAt = performance.now()
  /** The socket's byte count on arrival: a keep-alive socket carries earlier responses too. */
  readonly bytesAtStart: number
  /** The pipeline answered on the app's behalf (timeout, body too large); the app's later errors are expected. */
  answered = false
  private controller: AbortController | undefined
  private abortReason: unknown
  private bag: Record<string, unknown> | undefined
  /** Capabilities' per-request state, by slot (_slots.ts). */
  slots: Map<Slot<unknown>, unknown> | undefined
  private ip: string | undefined
  private scheme: 'http' | 'https' | undefined

  private readonly shared: Shared
  readonly id: string
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly path: string

  constructor(shared: Shared, id: string, req: IncomingMessage, res: ServerResponse, path: string) {
    this.shared = shared
    this.id = id
    this.req = req
    this.res = res
    this.path = path
    this.method = req.method ?? 'GET'
    this.bytesAtStart = req.socket.bytesWritten
  }

  get worker(): WorkerState {
    return this.shared.worker
  }

  get drainSignal(): AbortSignal {
    return this.shared.worker.drainSignal ?? neverSignal
  }

  setTimeout(ms: number): void {
    this.shared.setTimeout(this, ms)
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
    this.scheme ??= protocolOf(this.req, this.shared.trust)
    return this.scheme
  }

  get state(): Record<string, unknown> {
    this.bag ??= Object.create(this.shared.worker.requestState ?? Object.prototype) as Record<string, unknown>
    return this.bag
  }

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return
    this.abortReason = reason
    this.controller?.abort(reason)
  }

  reportError(error: unknown): void {
    this.shared.logError(this, error)
  }

  /** Milliseconds by part, for the access line; made on first use. */
  timings: Record<string, number> | undefined

  addTiming(part: string, ms: number): void {
    this.timings ??= {}
    this.timings[`${part}Ms`] = Math.round(((this.timings[`${part}Ms`] ?? 0) + ms) * 100) / 100
  }
}
