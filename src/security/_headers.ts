/**
 * The response headers every response gets, computed once at start-up. Per request they are put
 * straight into node's header store (http/_header-store.ts); a nonce (from a pooled random
 * buffer) and the CSP's join are made only for a response that asks for a nonce.
 */
import { randomFillSync } from 'node:crypto'
import { ServerResponse } from 'node:http'
import { ShipshapeError } from '../errors/index.js'
import { getContext, type HeaderStore, headerStore } from '../http/index.js'
import type { RequestContext } from '../types.js'
import { cspTemplate, type HeaderPolicy, mergePolicies, nonceSource, parseDirectives } from './_policy.js'

// Nonces are cut from one base64 string made per 256 nonces: one randomFillSync and one
// encoding per 256 requests instead of a crypto call and an encoding per request. A nonce is 18
// random bytes (144 bits; 18 is a multiple of 3, so each is exactly 24 base64 characters, with no
// padding, and the string cuts cleanly). Each one is used once.
const nonceBytes = 18
const nonceChars = 24
const noncePool = Buffer.allocUnsafe(nonceBytes * 256)
let nonceText = ''
let nonceOffset = 0

function freshNonce(): string {
  if (nonceOffset === nonceText.length) {
    nonceText = randomFillSync(noncePool).toString('base64')
    nonceOffset = 0
  }
  const nonce = nonceText.slice(nonceOffset, nonceOffset + nonceChars)
  nonceOffset += nonceChars
  return nonce
}

const policyKey = Symbol('shipshape.security.headers')
/** This response's nonce, once the app asked for one. */
const nonceKey = Symbol('shipshape.security.nonce')
/** This response's CSP template when a route changed its directives. */
const partsKey = Symbol('shipshape.security.cspParts')
/** The CSP value shipshape last wrote on this response: another one at send time is the app's. */
const writtenKey = Symbol('shipshape.security.cspWritten')

type Tagged = ServerResponse & {
  [policyKey]?: HeaderPolicy
  [nonceKey]?: string
  [partsKey]?: readonly string[]
  [writtenKey]?: string
}

function put(
  res: ServerResponse,
  store: HeaderStore | undefined,
  key: string,
  pair: readonly [string, string],
): void {
  if (store === undefined) res.setHeader(pair[0], pair[1])
  else store[key] = [pair[0], pair[1]]
}

/**
 * What each request's `ctx.state` inherits (WorkerState.requestState): `ctx.state.cspNonce` reads
 * cspNonce(), so the nonce is made when first asked for.
 */
export const nonceState: object = Object.defineProperty({}, 'cspNonce', { get: cspNonce, enumerable: true })

/**
 * The headers shipshape's own answers carry when they come before this middleware ran (a
 * repeated Host, a body over the limit): the policy's, with the CSP that allows nothing inline.
 */
export function answerHeaders(
  policy: HeaderPolicy,
): (https: boolean) => readonly (readonly [string, string])[] {
  const plain = policy.cspPlain === undefined ? [...policy.fixed] : [...policy.fixed, policy.cspPlain]
  const secure = policy.hsts === undefined ? plain : [...plain, policy.hsts]
  return (https) => (https ? secure : plain)
}

/**
 * Sets the policy's headers on the response before the app runs, and strips revealing ones at
 * send time. The CSP starts without a nonce (nothing inline may run) and gets one when the app
 * asks for it: most responses (JSON, redirects, static files) never do, and pay nothing for it.
 */
export function applyHeaders(ctx: RequestContext, policy: HeaderPolicy): void {
  const res = ctx.res as Tagged
  const store = headerStore(res)
  if (store === undefined) {
    for (const [name, value] of policy.fixed) res.setHeader(name, value)
  } else {
    for (let i = 0; i < policy.fixed.length; i++) {
      const pair = policy.fixed[i] as readonly [string, string]
      store[policy.fixedKeys[i] as string] = [pair[0], pair[1]]
    }
  }
  if (policy.hsts !== undefined && ctx.protocol === 'https')
    put(res, store, 'strict-transport-security', policy.hsts)
  if (policy.cspPlain !== undefined) {
    put(res, store, policy.cspKey as string, policy.cspPlain)
    res[writtenKey] = policy.cspPlain[1]
  }
  res[policyKey] = policy
  res.writeHead = scrubbedWriteHead as ServerResponse['writeHead']
}

/**
 * The request's CSP nonce, for `<script nonce="…">` and `<style nonce="…">`; also
 * `ctx.state.cspNonce`. The same value all through one request, a new one for every request.
 * The first call adds it to the response's CSP, so call it before the response starts (render
 * the page, then send it).
 */
export function cspNonce(): string {
  const ctx = getContext()
  if (ctx === undefined) throw new ShipshapeError('SHIPSHAPE_E_OUTSIDE_REQUEST', 'cspNonce()')
  const res = ctx.res as Tagged
  let nonce = res[nonceKey]
  if (nonce === undefined) {
    // Also with CSP off: the app's nonce attributes stay valid markup, and work once CSP is on.
    nonce = freshNonce()
    res[nonceKey] = nonce
    writeCsp(res)
  }
  return nonce
}

/** (Re)writes the response's CSP from its template and nonce, unless CSP is off or already sent. */
function writeCsp(res: Tagged): void {
  const policy = res[policyKey]
  if (policy?.cspHeader === undefined || res.headersSent || !res.hasHeader(policy.cspHeader)) return
  const nonce = res[nonceKey]
  const parts = res[partsKey] ?? policy.cspParts
  const value = parts.join(nonce === undefined ? '' : nonceSource(nonce))
  // Validated parts and a base64 nonce: setHeader's check of every character is not needed.
  put(res, headerStore(res), policy.cspKey as string, [policy.cspHeader, value])
  res[writtenKey] = value
}

export interface HeaderChanges {
  /**
   * CSP directives to replace for this response, such as `{ 'frame-ancestors': ['https://partner.example'] }`;
   * `false` removes a directive; `csp: false` sends no CSP at all on this response.
   * Changing `frame-ancestors` also drops X-Frame-Options, which would still forbid framing.
   */
  csp?: Record<string, string[] | false> | false
  /** Other headers to set (a string) or not send (`false`), such as `{ 'Cross-Origin-Resource-Policy': 'cross-origin' }`. */
  headers?: Record<string, string | false>
}

/**
 * Relaxes (or tightens) the security headers of the current response only, from a route
 * handler before it starts its response. Every other response keeps the defaults.
 */
export function adjustSecurityHeaders(changes: HeaderChanges): void {
  const ctx = getContext()
  const res = ctx?.res as Tagged | undefined
  const policy = res?.[policyKey]
  if (ctx === undefined || res === undefined || policy === undefined) {
    throw ctx === undefined
      ? new ShipshapeError('SHIPSHAPE_E_OUTSIDE_REQUEST', 'adjustSecurityHeaders()')
      : new ShipshapeError('SHIPSHAPE_E_HEADERS_FIXED', 'the security middleware did not handle this request')
  }
  if (res.headersSent)
    throw new ShipshapeError('SHIPSHAPE_E_HEADERS_FIXED', 'the response has already started')
  const { csp, headers = {} } = changes
  if (csp === false) {
    res.removeHeader('content-security-policy')
    res.removeHeader('content-security-policy-report-only')
    res[writtenKey] = undefined
  } else if (csp !== undefined && policy.cspHeader !== undefined) {
    const directives = new Map(policy.directives)
    for (const [name, sources] of Object.entries(csp)) {
      if (sources === false) directives.delete(name.toLowerCase())
      else
        for (const [directive, list] of parseDirectives([name, ...sources].join(' ')))
          directives.set(directive, list)
    }
    res[partsKey] = cspTemplate(directives)
    writeCsp(res)
    if (
      'frame-ancestors' in csp &&
      !Object.keys(headers).some((name) => name.toLowerCase() === 'x-frame-options')
    )
      res.removeHeader('x-frame-options')
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === false) res.removeHeader(name)
    else res.setHeader(name, value)
  }
}

/** A Server header with a digit in it names a version (`nginx/1.25.3`, `Apache/2.4`): a map for exploit scanners. */
function revealing(name: string, value: unknown): boolean {
  const lower = name.toLowerCase()
  return lower === 'x-powered-by' || (lower === 'server' && /\d/.test(String(value)))
}

const writeHead = ServerResponse.prototype.writeHead as (
  this: ServerResponse,
  statusCode: number,
  reason?: unknown,
  headers?: unknown,
) => ServerResponse

/**
 * Installed as the response's own writeHead (one property store per request), so it also sees
 * headers the app sets after the middleware ran, including in writeHead's own header argument.
 * Node's writeHead takes (status, headers) or (status, reason, headers): passing all three is the same.
 */
function scrubbedWriteHead(
  this: ServerResponse,
  statusCode: number,
  reasonOrHeaders?: unknown,
  headers?: unknown,
): ServerResponse {
  const store = headerStore(this, false)
  if (store === undefined ? this.hasHeader('x-powered-by') : store['x-powered-by'] !== undefined) {
    this.removeHeader('x-powered-by')
  }
  const server = store === undefined ? this.getHeader('server') : store.server?.[1]
  if (server !== undefined && revealing('server', server)) this.removeHeader('server')
  const res = this as Tagged
  if (res[writtenKey] !== undefined) mergeAppPolicy(res, store)
  if (typeof reasonOrHeaders === 'object' && reasonOrHeaders !== null)
    return writeHead.call(this, statusCode, scrubbed(withPolicy(res, reasonOrHeaders)))
  if (typeof headers === 'object' && headers !== null)
    return writeHead.call(this, statusCode, reasonOrHeaders, scrubbed(withPolicy(res, headers)))
  return writeHead.call(this, statusCode, reasonOrHeaders, headers)
}

/** A CSP the app set with setHeader, over shipshape's: shipshape's directives are merged into it. */
function mergeAppPolicy(res: Tagged, store: HeaderStore | undefined): void {
  const key = res[policyKey]?.cspKey as string
  const value = store === undefined ? res.getHeader(key) : store[key]?.[1]
  const written = res[writtenKey] as string
  if (typeof value === 'string' && value !== written) res.setHeader(key, mergePolicies(value, written))
}

/** The same for a CSP among writeHead's own headers (an object, as fetch adapters pass them). */
function withPolicy(res: Tagged, headers: object): object {
  const written = res[writtenKey]
  if (written === undefined || Array.isArray(headers)) return headers
  const key = res[policyKey]?.cspKey as string
  // for…in rather than Object.entries: no array of pairs per response for a check that rarely hits.
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue
    const value = (headers as Record<string, unknown>)[name]
    if (typeof value === 'string' && value !== written && name.toLowerCase() === key)
      return { ...headers, [name]: mergePolicies(value, written) }
  }
  return headers
}

function scrubbed(headers: object): object {
  if (Array.isArray(headers)) {
    // Either [[name, value], …] or the flat raw form [name, value, name, value, …].
    if (Array.isArray(headers[0])) return headers.filter(([name, value]) => !revealing(String(name), value))
    const kept: unknown[] = []
    for (let i = 0; i < headers.length; i += 2) {
      if (!revealing(String(headers[i]), headers[i + 1])) kept.push(headers[i], headers[i + 1])
    }
    return kept
  }
  let found = false
  for (const name in headers)
    if (Object.hasOwn(headers, name) && revealing(name, (headers as Record<string, unknown>)[name]))
      found = true
  if (!found) return headers
  return Object.fromEntries(Object.entries(headers).filter(([name, value]) => !revealing(name, value)))
}
