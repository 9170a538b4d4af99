/** How a connection the primary accepted travels to a worker: Node's handle passing over the IPC channel. */
import type { ChildProcess } from 'node:child_process'
import { Socket, type SocketConstructorOpts } from 'node:net'

/**
 * Node sends a worker one connection at a time and queues the rest until the worker acknowledges
 * the last. When the worker dies first (killed while blocked), Node never closes what it held,
 * and those clients would wait forever. They are returned, to be served elsewhere: the queued
 * ones never left, and the one in flight was never read. A worker acknowledges a connection as
 * soon as its event loop takes it in, so one still unacknowledged when the watchdog kills a worker
 * silent for the whole --timeout has not reached the app: its request is still unread in the
 * kernel, whole. These fields are Node's own (there since 0.x, but not public API): should they go
 * away this returns nothing, and the serve tests' blocked-worker cases catch it.
 */
export function reclaimConnections(child: ChildProcess): Socket[] {
  const internals = child as unknown as {
    _pendingMessage?: { handle?: SocketConstructorOpts['handle'] } | null
    _handleQueue?: { handle?: unknown }[] | null
  }
  const pending = internals._pendingMessage?.handle
  const queued = (internals._handleQueue ?? []).map((entry) => entry.handle)
  internals._pendingMessage = null
  internals._handleQueue = null
  const sockets = queued.filter((handle): handle is Socket => handle instanceof Socket && !handle.destroyed)
  // Sending took the raw handle out of its socket: a new paused socket carries it to the next worker.
  if (pending) sockets.unshift(new Socket({ handle: pending, pauseOnCreate: true } as SocketConstructorOpts))
  return sockets
}
