/**
 * What every fixture app shares with the conformance suite: it records which requests saw their
 * signal fire, and holds a streamed response open until the test releases it, so "streaming" is
 * proven by order of events rather than by timing.
 */
import { Readable } from 'node:stream'

/** Request ids (taken from the X-Request-Id the test sent) whose signal fired. */
export const aborted = new Set<string>()
/**
 * Requests a hung handler is "working on". A real handler stuck on a query or a fetch keeps its
 * request reachable; a bare never-settling promise does not, and the garbage collector could
 * take the Request with the signal listener before it fires.
 */
export const held = new Set<unknown>()

const gates = new Map<string, () => void>()
const waiting = new Map<string, Promise<void>>()

export function gate(id: string): Promise<void> {
  let promise = waiting.get(id)
  if (!promise) {
    promise = new Promise((open) => gates.set(id, open))
    waiting.set(id, promise)
  }
  return promise
}

export function release(id: string): void {
  void gate(id)
  gates.get(id)?.()
}

/** Writes `one\n`, waits for the test to release `id`, then writes `two\n` and ends. */
export function gatedStream(id: string): Readable {
  const stream = new Readable({ read() {} })
  stream.push('one\n')
  void gate(id).then(() => {
    stream.push('two\n')
    stream.push(null)
  })
  return stream
}

export function gatedWebStream(id: string): ReadableStream<Uint8Array> {
  return Readable.toWeb(gatedStream(id)) as ReadableStream<Uint8Array>
}

export const hello = 'hello\n'
export const thrown = 'boom: a secret detail that must not reach the client'

/** An error as http-errors makes them: it names its own status and headers, a client error. */
export function clientError(): Error {
  return Object.assign(new Error('slow down'), {
    status: 429,
    statusCode: 429,
    expose: true,
    headers: { 'Retry-After': '60' },
  })
}
