/**
 * The request clock: how long a request may go without an answer, and a streamed answer without
 * a byte. Two limits, because a stream is not a request that hangs: `--timeout` bounds the time
 * to the response's first byte (its headers); once the response has started, `--idle-timeout`
 * bounds the time between bytes, so a Server-Sent Events stream lives as long as it sends
 * something, and a stream the app forgot is still cut off. Routes matching a pattern of
 * `--route-timeouts`, and a request whose app calls `getContext().setTimeout(ms)`, get their own
 * limit; 0 takes every limit off.
 *
 * One timer sweeps every request the clock tracks, instead of a timer per request. Requests on
 * the default timeout time out in the order they arrived, so the sweep stops at the first one
 * that has not: a request that has started streaming is moved to the streams when the sweep
 * reaches it, at most `--timeout` after it arrived (so a stream that goes quiet at once is cut
 * off at most `--timeout` plus `--idle-timeout` after its arrival). Requests with a limit of
 * their own, and streams, are few beside them and are looked at one by one on every sweep.
 */
import type { ServerResponse } from 'node:http'
import { ShipshapeError } from '../errors/index.js'

/** One entry of --route-timeouts: requests whose path matches `pattern` get `ms` (0: none). */
export interface RouteTimeout {
  /** A path; `*` matches any run of characters, slashes included (`/events/*`). */
  pattern: string
  ms: number
}

export interface ClockOptions {
  /** Time to the response's first byte; 0: none. */
  timeoutMs: number
  /** Longest time without a byte once the response has started; 0: none. */
  idleTimeoutMs: number
  routeTimeouts?: readonly RouteTimeout[]
}

/** What the clock needs of a request: its context, as the pipeline made it. */
interface Timed {
  readonly startedAt: number
  readonly path: string
  readonly res: ServerResponse
}

export interface RequestClock<T extends Timed> {
  /** Starts timing a request that has just arrived. */
  admit(ctx: T): void
  /** The app's own limit for this request, from now: `ms` to its first byte, 0 for none at all. */
  set(ctx: T, ms: number): void
  /** The request is over. */
  remove(ctx: T): void
}

export interface ClockEvents<T> {
  /** No first byte within `limitMs`: the pipeline answers 503. */
  expired(ctx: T, now: number, limitMs: number): void
  /** A started response sent nothing for `idleMs`: the pipeline cuts it off. */
  idle(ctx: T, idleMs: number): void
}

export function requestClock<T extends Timed>(
  options: ClockOptions,
  events: ClockEvents<T>,
): RequestClock<T> {
  const { timeoutMs, idleTimeoutMs } = options
  const routes = (options.routeTimeouts ?? []).map(({ pattern, ms }) => ({
    match: compilePattern(pattern),
    ms,
  }))
  /** Requests on the default timeout, in arrival order. */
  const queue = new Set<T>()
  /** Requests with a limit of their own: their deadline (Infinity: none to the first byte). */
  const own = new Map<T, number>()
  /** Started responses: the bytes the socket had taken at the last sweep, and since when. */
  const streams = new Map<T, { bytes: number; since: number }>()
  const limits = [timeoutMs, idleTimeoutMs, ...routes.map((route) => route.ms)].filter((ms) => ms > 0)
  // Every 1/20 of the shortest limit (10 ms to 1 s): a 503 comes at most 5% late. A shorter
  // limit the app sets itself may come up to a second late.
  const sweepEveryMs = Math.min(1000, Math.max(10, Math.floor(Math.min(...limits, 20_000) / 20)))
  let sweeper: NodeJS.Timeout | undefined

  const running = () => {
    sweeper ??= setInterval(sweep, sweepEveryMs).unref()
  }

  /** Bytes the socket has handed to the kernel: grows while the app writes and the client reads. */
  const moved = (ctx: T) => {
    const socket = ctx.res.socket
    return socket ? socket.bytesWritten - socket.writableLength : -1
  }

  const stream = (ctx: T, now: number) => {
    if (idleTimeoutMs > 0) streams.set(ctx, { bytes: moved(ctx), since: now })
  }

  const track = (ctx: T, ms: number, from: number) => {
    if (ms === 0) return // no limit at all: the app has taken charge
    own.set(ctx, from + ms)
    running()
  }

  function sweep(): void {
    const now = performance.now()
    for (const ctx of queue) {
      if (ctx.res.headersSent) {
        queue.delete(ctx)
        stream(ctx, now)
        continue
      }
      if (now - ctx.startedAt < timeoutMs) break
      queue.delete(ctx)
      events.expired(ctx, now, timeoutMs)
    }
    for (const [ctx, deadline] of own) {
      if (ctx.res.headersSent) {
        own.delete(ctx)
        stream(ctx, now)
      } else if (now >= deadline) {
        own.delete(ctx)
        events.expired(ctx, now, Math.round(deadline - ctx.startedAt))
      }
    }
    for (const [ctx, seen] of streams) {
      const bytes = moved(ctx)
      if (bytes !== seen.bytes) {
        seen.bytes = bytes
        seen.since = now
      } else if (now - seen.since >= idleTimeoutMs) {
        streams.delete(ctx)
        events.idle(ctx, Math.round(now - seen.since))
      }
    }
    if (queue.size === 0 && own.size === 0 && streams.size === 0) {
      clearInterval(sweeper)
      sweeper = undefined
    }
  }

  return {
    admit(ctx) {
      for (const route of routes) {
        if (route.match(ctx.path)) return track(ctx, route.ms, ctx.startedAt)
      }
      if (timeoutMs > 0) {
        queue.add(ctx)
        running()
      } else if (idleTimeoutMs > 0) {
        own.set(ctx, Number.POSITIVE_INFINITY) // no first-byte limit, but its stream has one
        running()
      }
    },
    set(ctx, ms) {
      if (!Number.isFinite(ms) || ms < 0) {
        throw new ShipshapeError(
          'SHIPSHAPE_E_ARGUMENT',
          `setTimeout() takes a number of milliseconds, 0 for none; got ${String(ms)}`,
        )
      }
      queue.delete(ctx)
      streams.delete(ctx)
      own.delete(ctx)
      track(ctx, ms, performance.now())
    },
    remove(ctx) {
      queue.delete(ctx)
      // Most requests are only ever in the queue: an empty map costs no lookup.
      if (own.size > 0) own.delete(ctx)
      if (streams.size > 0) streams.delete(ctx)
    },
  }
}

/** `/events/*` → a test for paths; `*` matches any run of characters. */
function compilePattern(pattern: string): (path: string) => boolean {
  if (!pattern.includes('*')) return (path) => path === pattern
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  const regex = new RegExp(`^${source}$`)
  return (path) => regex.test(path)
}
