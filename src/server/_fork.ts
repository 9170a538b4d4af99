/** A worker process, and what the primary knows of it between heartbeats. */
import { type ChildProcess, fork } from 'node:child_process'
import type { RequestSummary } from '../types.js'

export interface Worker {
  child: ChildProcess
  pid: number
  generation: number
  state: 'starting' | 'ready' | 'draining'
  startedAt: number
  lastBeat: number
  inflight: RequestSummary[]
  /** Why it is ending, if it is known beforehand: such an exit needs no other replacement. */
  endedBy?: 'watchdog' | 'drain' | 'failing'
  drainStartedAt?: number
  retiring?: boolean
}

const workerScript = new URL('./_worker.js', import.meta.url)

/** Forks a worker of `generation`; it asks for its options over IPC once it listens ('hello'). */
export function forkWorker(generation: number): Worker {
  const child = fork(workerScript, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const now = performance.now()
  return {
    child,
    pid: child.pid ?? 0,
    generation,
    state: 'starting',
    startedAt: now,
    lastBeat: now,
    inflight: [],
  }
}
