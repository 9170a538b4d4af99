/** Messages between the primary and its workers over the fork IPC channel. */
import type { WorkerMetrics } from '../observe/index.js'
import type { RequestSummary } from '../types.js'
import type { ServeOptions } from './_composed.js'
import type { CounterOperation } from './_counters.js'

/** How often a worker proves its event loop runs. The watchdog and routing both read it. */
export const heartbeatMs = 250

export type WorkerMessage =
  /** The worker is listening for its options: messages sent before it listens would be lost. */
  | { type: 'hello' }
  /** The app loaded and the pipeline is built: the worker can take connections. */
  | { type: 'ready' }
  /** Sent every heartbeatMs with the requests the worker holds, so a kill can name them. */
  | { type: 'beat'; inflight: RequestSummary[]; metrics?: WorkerMetrics }
  /** --max-requests reached: replace me, then drain me. */
  | { type: 'retire' }
  /**
   * An uncaught exception: send me nothing new and start my replacement; I finish what I hold
   * within a short grace, then exit 1.
   */
  | { type: 'failing' }
  /** Start-up failed; `error` is the app's own error, shown by the primary. */
  | { type: 'failed'; error: string }
  /** For the other workers (see _relay.ts): the primary forwards it without reading `data`. */
  | { type: 'relay'; channel: string; data: unknown }
  /** One operation on the counters the primary keeps for every worker (see _counters.ts); answered by id. */
  | { type: 'counters'; id: number; operation: CounterOperation }

export type PrimaryMessage =
  /** The answer to 'hello': the worker's settings. */
  | { type: 'options'; options: ServeOptions }
  /** Comes with a socket handle: serve this connection. */
  | { type: 'connection' }
  /**
   * Finish what you hold, close idle connections at once, exit 0. `keepIdle` (reload, recycling):
   * leave idle keep-alive connections for their clients to close, as long as the graceful timeout
   * allows.
   */
  | { type: 'drain'; keepIdle: boolean }
  /** Another worker's message on `channel` (see _relay.ts). */
  | { type: 'relay'; channel: string; data: unknown }
  /** The answer to the worker's counters request `id`. */
  | { type: 'counters'; id: number; result: unknown }
  /** Record this event with your error tracker (the watchdog killed a worker: it cannot itself). */
  | { type: 'capture'; message: string; reason: string; extra: Record<string, unknown> }
