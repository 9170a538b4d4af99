/**
 * The relay between a server's workers: a worker publishes on a channel, the primary forwards
 * the message to every other worker that has its options (not to the sender), each worker hands
 * it to its subscribers on that channel. Generic and tiny on purpose: the primary only forwards
 * (it never reads `data`), so cache invalidations, shared counters and whatever comes next cost
 * it one send per worker.
 */
import type { ChildProcess } from 'node:child_process'
import type { Relay } from '../types.js'
import type { PrimaryMessage, WorkerMessage } from './_protocol.js'

type RelayMessage = Extract<WorkerMessage, { type: 'relay' }>

/** Primary side: forwards `message` from `from` to each other worker of `workers` past its start. */
export function forward(
  workers: Iterable<{ child: ChildProcess; state: string }>,
  from: ChildProcess,
  message: RelayMessage,
): void {
  const out: PrimaryMessage = { type: 'relay', channel: message.channel, data: message.data }
  // A worker still starting may not have its options yet, and reads its first message as them.
  for (const { child, state } of workers)
    if (child !== from && state !== 'starting' && child.connected) child.send(out)
}

/** Worker side: the relay over this process's IPC channel. Made once, when the worker starts. */
export function workerRelay(): Relay {
  const handlers = new Map<string, Set<(data: unknown) => void>>()
  process.on('message', (message: PrimaryMessage) => {
    if (message.type !== 'relay') return
    for (const handler of handlers.get(message.channel) ?? []) handler(message.data)
  })
  return {
    publish(channel, data) {
      const message: WorkerMessage = { type: 'relay', channel, data }
      if (process.connected) process.send?.(message)
    },
    subscribe(channel, handler) {
      const set = handlers.get(channel) ?? new Set()
      handlers.set(channel, set)
      set.add(handler)
      return () => set.delete(handler)
    },
  }
}
