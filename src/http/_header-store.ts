/**
 * Node keeps a response's headers in an object under an internal symbol, as `lower-cased name →
 * [name, value]`. Headers shipshape makes itself (the request id, the security policy's) are
 * stored there directly: setHeader would validate the same safe strings again on every request
 * (measured: most of the security middleware's cost, and 2 µs a request for X-Request-Id).
 * Each response gets pairs of its own, as setHeader would make them: node changes a pair in place
 * (`appendHeader()` turns its value into a list), so a pair shared by every response would carry
 * one response's change into all the others. Where the symbol is not found, setHeader is used.
 */
import { OutgoingMessage, type ServerResponse } from 'node:http'

const outHeaders = Object.getOwnPropertySymbols(new OutgoingMessage()).find(
  (symbol) => symbol.description === 'kOutHeaders',
)

export type HeaderStore = Record<string, [string, string | string[]]>

/** The response's header store, made when it has none yet if `create`; undefined where node has none. */
export function headerStore(res: ServerResponse, create = true): HeaderStore | undefined {
  if (outHeaders === undefined) return undefined
  const headers = res as unknown as Record<symbol, HeaderStore | null>
  let store = headers[outHeaders] ?? undefined
  if (store === undefined && create) {
    store = Object.create(null) as HeaderStore
    headers[outHeaders] = store
  }
  return store
}

/** Sets header `name` (`key` is its lower-cased form) to a value already known to be valid. */
export function putHeader(res: ServerResponse, key: string, name: string, value: string): void {
  const store = headerStore(res)
  if (store === undefined) res.setHeader(name, value)
  else store[key] = [name, value]
}
