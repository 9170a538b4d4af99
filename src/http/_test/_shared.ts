/**
 * What every fixture app shares with the conformance suite: it records which requests saw their
 * signal fire (or their stream cancelled), and holds a streamed response open until the test
 * releases it, so "streaming" is proven by order of events rather than by timing. The records
 * are files in one directory, so the suite reads them the same way whether the app runs in the
 * test process or in a worker of `shipshape serve` (which inherits the directory's variable).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { getContext } from 'shipshape'

process.env.CONFORMANCE_RECORDS ??= mkdtempSync(join(tmpdir(), 'shipshape-conformance-'))
const records = process.env.CONFORMANCE_RECORDS

/** A record of `what` happening to the request with this id, with a detail. */
function note(what: string, id: string, detail = ''): void {
  writeFileSync(join(records, `${what}-${encodeURIComponent(id)}`), detail)
}

/** The detail recorded with `what` (how many chunks a cancelled stream had given). */
export function detail(what: 'cancelled', id: string): string {
  return readFileSync(join(records, `${what}-${encodeURIComponent(id)}`), 'utf8')
}

export function noted(what: 'aborted' | 'cancelled', id: string): boolean {
  return existsSync(join(records, `${what}-${encodeURIComponent(id)}`))
}

/** Request ids (taken from the X-Request-Id the test sent) whose signal fired. */
export const aborted = { add: (id: string) => note('aborted', id), has: (id: string) => noted('aborted', id) }
/**
 * Requests a hung handler is "working on". A real handler stuck on a query or a fetch keeps its
 * request reachable; a bare never-settling promise does not, and the garbage collector could
 * take the Request with the signal listener before it fires.
 */
export const held = new Set<unknown>()

/** Resolves once the test has released `id` (polled: the test may be another process). */
export async function gate(id: string): Promise<void> {
  while (!existsSync(join(records, `release-${encodeURIComponent(id)}`)))
    await new Promise((wait) => setTimeout(wait, 10))
}

export function release(id: string): void {
  note('release', id)
}

/** Writes `one\n`, waits for the test to release `id`, then writes `two\n` and ends. */
export function gatedStream(id: string): Readable {
  const stream = new Readable({ read() {} })
  stream.push('one\n')
  void gate(id).then(() => {
    if (stream.destroyed) return // the client went away, or a HEAD answer cancelled the body
    stream.push('two\n')
    stream.push(null)
  })
  return stream
}

export function gatedWebStream(id: string): ReadableStream<Uint8Array> {
  let cancelled = false
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode('one\n'))
      void gate(id).then(() => {
        if (cancelled) return // the client went away, or a HEAD answer cancelled the body
        controller.enqueue(encoder.encode('two\n'))
        controller.close()
      })
    },
    cancel() {
      cancelled = true
    },
  })
}

/** A large body for slow readers: the same 64 KB chunk, `bigChunks` times. */
const chunk = Buffer.alloc(64 * 1024, 'x')
export const bigChunks = 64
export const bigBytes = chunk.length * bigChunks

export function bigStream(): Readable {
  let sent = 0
  return new Readable({
    read() {
      this.push(sent++ < bigChunks ? chunk : null)
    },
  })
}

export function bigWebStream(): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent++ < bigChunks) controller.enqueue(chunk)
      else controller.close()
    },
  })
}

/** A body that never ends; its cancellation (the client went away, or HEAD) is recorded. */
export function endlessWebStream(id: string): ReadableStream<Uint8Array> {
  let given = 0
  return new ReadableStream({
    pull(controller) {
      given++
      controller.enqueue(chunk)
    },
    cancel() {
      note('cancelled', id, String(given))
    },
  })
}

export function endlessStream(id: string): Readable {
  return new Readable({
    read() {
      this.push(chunk)
    },
    destroy(error, done) {
      note('cancelled', id)
      done(error)
    },
  })
}

/**
 * Adds to a header the security middleware presets, with node's appendHeader(), as an app that
 * extends a policy does; used by every fixture's `/append`.
 */
export function appendToPolicy(): void {
  getContext()?.res.appendHeader('Permissions-Policy', 'fullscreen=(self)')
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
