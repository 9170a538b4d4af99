/**
 * Counters shared by every worker of a server, kept in the primary: a rate limit counted per
 * worker gives an attacker N× the attempts with N workers. A worker asks, the primary answers on
 * the same IPC channel (request/response, unlike the broadcast-only relay). The primary's part
 * is a Map and a sweep timer: each operation is O(keys asked), never blocks, and never runs app
 * code. `CounterTable` is also what a process without a primary (a test's own pipeline) uses.
 */
import type { ChildProcess } from 'node:child_process'
import type { CounterRead, SharedCounters } from '../types.js'
import type { PrimaryMessage, WorkerMessage } from './_protocol.js'

/** Keys past this many are refused new entries (oldest expire first): bounds the primary's memory. */
const maxKeys = 100_000
/** How long a worker waits for the primary's answer before failing the operation. */
const answerTimeoutMs = 2000

export type CounterOperation =
  | { op: 'add'; key: string; by: number; ttlMs: number }
  | { op: 'set'; key: string; value: number; ttlMs: number }
  | { op: 'get'; keys: string[] }
  | { op: 'delete'; keys: string[] }

/** The counters themselves: a value and an expiry per key. */
export class CounterTable implements SharedCounters {
  private readonly entries = new Map<string, { value: number; expiresAt: number }>()
  private readonly sweeper: NodeJS.Timeout

  constructor(sweepEveryMs = 60_000) {
    this.sweeper = setInterval(() => this.sweep(), sweepEveryMs)
    this.sweeper.unref()
  }

  /** Runs one operation: `add` answers the new value, `get` the reads, the others nothing. */
  apply(operation: CounterOperation): number | CounterRead[] | undefined {
    const now = Date.now()
    switch (operation.op) {
      case 'add': {
        const live = this.live(operation.key, now)
        // A key's window starts with its first count: later counts do not extend it.
        const value = (live?.value ?? 0) + operation.by
        if (live) live.value = value
        else if (this.entries.size < maxKeys)
          this.entries.set(operation.key, { value, expiresAt: now + operation.ttlMs })
        return value
      }
      case 'set':
        if (this.entries.size < maxKeys || this.entries.has(operation.key))
          this.entries.set(operation.key, { value: operation.value, expiresAt: now + operation.ttlMs })
        return undefined
      case 'get':
        return operation.keys.map((key) => {
          const live = this.live(key, now)
          return live ? { value: live.value, ttlMs: live.expiresAt - now } : { value: 0, ttlMs: 0 }
        })
      case 'delete':
        for (const key of operation.keys) this.entries.delete(key)
        return undefined
    }
  }

  add(key: string, by: number, ttlMs: number): Promise<number> {
    return Promise.resolve(this.apply({ op: 'add', key, by, ttlMs }) as number)
  }
  set(key: string, value: number, ttlMs: number): Promise<void> {
    this.apply({ op: 'set', key, value, ttlMs })
    return Promise.resolve()
  }
  get(keys: string[]): Promise<CounterRead[]> {
    return Promise.resolve(this.apply({ op: 'get', keys }) as CounterRead[])
  }
  delete(keys: string[]): Promise<void> {
    this.apply({ op: 'delete', keys })
    return Promise.resolve()
  }

  close(): void {
    clearInterval(this.sweeper)
  }

  private live(key: string, now: number) {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > now) return entry
    this.entries.delete(key)
    return undefined
  }

  private sweep(): void {
    const now = Date.now()
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key)
  }
}

type CounterRequest = Extract<WorkerMessage, { type: 'counters' }>

/** Primary side: answers one worker's request from the primary's table. */
export function answerCounters(table: CounterTable, child: ChildProcess, message: CounterRequest): void {
  const answer: PrimaryMessage = { type: 'counters', id: message.id, result: table.apply(message.operation) }
  if (child.connected) child.send(answer)
}

/** Worker side: the primary's counters over this process's IPC channel. Made once, when the worker starts. */
export function workerCounters(): SharedCounters {
  const waiting = new Map<number, { resolve: (result: unknown) => void; timer: NodeJS.Timeout }>()
  let nextId = 0
  process.on('message', (message: PrimaryMessage) => {
    if (message.type !== 'counters') return
    const pending = waiting.get(message.id)
    if (pending === undefined) return
    waiting.delete(message.id)
    clearTimeout(pending.timer)
    pending.resolve(message.result)
  })
  const ask = (operation: CounterOperation) =>
    new Promise<unknown>((resolve, reject) => {
      if (!process.connected) return reject(new Error('the primary is gone: no shared counters'))
      const id = nextId++
      const timer = setTimeout(() => {
        waiting.delete(id)
        reject(new Error(`the primary did not answer a counters request within ${answerTimeoutMs} ms`))
      }, answerTimeoutMs)
      waiting.set(id, { resolve, timer })
      const message: WorkerMessage = { type: 'counters', id, operation }
      process.send?.(message)
    })
  return {
    add: async (key, by, ttlMs) => (await ask({ op: 'add', key, by, ttlMs })) as number,
    set: async (key, value, ttlMs) => void (await ask({ op: 'set', key, value, ttlMs })),
    get: async (keys) => (await ask({ op: 'get', keys })) as CounterRead[],
    delete: async (keys) => void (await ask({ op: 'delete', keys })),
  }
}
