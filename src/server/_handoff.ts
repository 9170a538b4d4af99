/** How a connection the primary accepted travels to a worker: Node's handle passing over the IPC channel. */
import type { ChildProcess } from 'node:child_process'
import { Socket, type SocketConstructorOpts } from 'node:net'

/**
 * Node sends a worker one connection at a time and queues the rest until the worker acknowledges
 * the last. When the worker dies first, Node never closes what it held, and those clients would
 * wait forever. The queued ones never left: they are returned, to be served elsewhere. The one in
 * flight is returned too when `inFlightUnread`: a worker acknowledges a connection as soon as its
 * event loop takes it in, so one still unacknowledged when the watchdog kills a worker silent for
 * the whole --timeout never reached it, and its request is still unread in the kernel, whole.
 * Otherwise (a worker that died by itself, or was killed while running) it may have been read, and
 * is closed: its client gets a prompt error rather than a wait for a request the new worker will
 * never see. These fields are Node's own (there since 0.x, but not public API): should they go
 * away this returns nothing, and the serve tests' blocked-worker cases catch it.
 */
export function reclaimConnections(child: ChildProcess, inFlightUnread: boolean): Socket[] {
  const internals = child as unknown as {
    _pendingMessage?: { handle?: SocketConstructorOpts['handle'] & { close?: () => void } } | null
    _handleQueue?: { handle?: unknown }[] | null
  }
  const inFlight = internals._pendingMessage?.handle
  const queued = (internals._handleQueue ?? []).map((entry) => entry.handle)
  internals._pendingMessage = null
  internals._handleQueue = null
  const sockets = queued.filter((handle): handle is Socket => handle instanceof Socket && !handle.destroyed)
  if (inFlight && !inFlightUnread) inFlight.close?.()
  // Sending took the raw handle out of its socket: a new paused socket carries it to the next worker.
  else if (inFlight)
    sockets.unshift(new Socket({ handle: inFlight, pauseOnCreate: true } as SocketConstructorOpts))
  return sockets
}
