/**
 * The response headers every response gets, computed once at start-up. Per request this costs a
 * few setHeader calls, one nonce (16 bytes from a pooled random buffer) and one string join.
 */
import { randomFillSync } from 'node:crypto'
import { ServerResponse } from 'node:http'
import { ShipshapeError } from '../errors/index.js'
import { getContext } from '../http/index.js'
import type { RequestContext } from '../types.js'

export interface HeaderOptions {
  /** `enforce` (default), `report-only` (violations reported, nothing blocked) or `off`. */
  csp: 'enforce' | 'report-only' | 'off'
  /** Directives replacing or adding to the built-in ones, as `name source …; name …`. Default: none. */
  cspDirectives: string
  /** Where browsers post violation reports (`report-uri`); '' sends none. */
  cspReportPath: string
  /** Strict-Transport-Security max-age in seconds, on HTTPS responses only; 0 sends no HSTS. */
  hstsMaxAgeSeconds: number
  hstsIncludeSubdomains: boolean
  hstsPreload: boolean
  /** Who may embed this site's responses (images, scripts) in their pages. */
  crossOriginResourcePolicy: 'same-origin' | 'same-site' | 'cross-origin'
}

/**
 * The built-in policy: everything from this origin only; no plugins; no `<base>` hijacking; no
 * framing (clickjacking); forms post only here. Inline `<script>` and `<style>` run only with
 * the request's nonce. Images from `data:` URLs, CDNs or other sites need a directive added.
 */
const baseDirectives: [string, string[]][] = [
  ['default-src', ["'self'"]],
  ['script-src', ["'self'"]],
  ['style-src', ["'self'"]],
  ['object-src', ["'none'"]],
  ['base-uri', ["'self'"]],
  ['frame-ancestors', ["'none'"]],
  ['form-action', ["'self'"]],
]

/** The directives that get the per-request nonce, so the app's inline `<script nonce>` and `<style nonce>` run. */
const nonced = new Set(['script-src', 'style-src'])

/** Powerful browser features this site does not use: an injected script or a framed ad cannot either. */
const permissionsPolicy = [
  'accelerometer=()',
  'camera=()',
  'display-capture=()',
  'geolocation=()',
  'gyroscope=()',
  'magnetometer=()',
  'microphone=()',
  'payment=()',
  'usb=()',
  'xr-spatial-tracking=()',
].join(', ')

export type Directives = Map<string, string[]>

/** CSP Level 3 directive names: a name outside this list is a typo, which browsers would ignore silently. */
const knownDirectives = new Set([
  'default-src',
  'script-src',
  'script-src-elem',
  'script-src-attr',
  'style-src',
  'style-src-elem',
  'style-src-attr',
  'img-src',
  'font-src',
  'connect-src',
  'media-src',
  'object-src',
  'frame-src',
  'child-src',
  'worker-src',
  'manifest-src',
  'fenced-frame-src',
  'base-uri',
  'form-action',
  'frame-ancestors',
  'sandbox',
  'report-uri',
  'report-to',
  'upgrade-insecure-requests',
  'require-trusted-types-for',
  'trusted-types',
])

export interface HeaderPolicy {
  /** Headers every response gets, as [name, value]. */
  readonly fixed: readonly (readonly [string, string])[]
  /** The Strict-Transport-Security value, sent on HTTPS responses only. */
  readonly hsts: string | undefined
  /** `Content-Security-Policy`, `Content-Security-Policy-Report-Only`, or undefined when off. */
  readonly cspHeader: string | undefined
  readonly directives: Directives
  /** The CSP split where the nonce goes: `parts.join(nonce)` is the header value. */
  readonly cspParts: readonly string[]
}

export function headerPolicy(options: HeaderOptions): HeaderPolicy {
  const directives: Directives = new Map(baseDirectives.map(([name, sources]) => [name, [...sources]]))
  if (options.cspReportPath !== '') directives.set('report-uri', [options.cspReportPath])
  for (const [name, sources] of parseDirectives(options.cspDirectives)) directives.set(name, sources)
  if (options.hstsPreload && (options.hstsMaxAgeSeconds < 31_536_000 || !options.hstsIncludeSubdomains)) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      'HSTS preload needs a max-age of at least one year and includeSubDomains (the preload list refuses the site otherwise)',
    )
  }
  return {
    fixed: [
      ['X-Content-Type-Options', 'nosniff'],
      ['X-Frame-Options', 'DENY'],
      ['Referrer-Policy', 'strict-origin-when-cross-origin'],
      ['Cross-Origin-Opener-Policy', 'same-origin'],
      ['Cross-Origin-Resource-Policy', options.crossOriginResourcePolicy],
      ['Permissions-Policy', permissionsPolicy],
    ],
    hsts:
      options.hstsMaxAgeSeconds > 0
        ? `max-age=${options.hstsMaxAgeSeconds}${options.hstsIncludeSubdomains ? '; includeSubDomains' : ''}${options.hstsPreload ? '; preload' : ''}`
        : undefined,
    cspHeader:
      options.csp === 'off'
        ? undefined
        : options.csp === 'report-only'
          ? 'Content-Security-Policy-Report-Only'
          : 'Content-Security-Policy',
    directives,
    cspParts: cspTemplate(directives),
  }
}

/**
 * Parses `name source source; name …`. A directive listed here replaces the built-in one of the
 * same name; one without sources (`upgrade-insecure-requests`) is kept as a bare directive.
 */
export function parseDirectives(text: string): Directives {
  const directives: Directives = new Map()
  for (const part of text.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name === undefined || name === '') continue
    const lower = name.toLowerCase()
    if (
      !knownDirectives.has(lower) ||
      !sources.every((source) => /^[\x21-\x2b\x2d-\x3a\x3c-\x7e]+$/.test(source))
    ) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_BAD_OPTION',
        `CSP directive "${part.trim()}" is not "name source …" with a CSP directive name (sources are separated by spaces, directives by ";")`,
      )
    }
    directives.set(lower, sources)
  }
  return directives
}

const nonceMark = '\u0000'

function cspTemplate(directives: Directives): string[] {
  const text = [...directives]
    .map(([name, sources]) => {
      const withNonce =
        nonced.has(name) && !sources.includes("'none'") ? [...sources, `'nonce-${nonceMark}'`] : sources
      return [name, ...withNonce].join(' ')
    })
    .join('; ')
  return text.split(nonceMark)
}

// Nonces come from a pooled buffer refilled 256 nonces at a time: one randomFillSync call per
// 256 requests instead of one crypto call per request. Each 16-byte slot is used once.
const noncePool = Buffer.allocUnsafe(16 * 256)
let nonceOffset = noncePool.length

function freshNonce(): string {
  if (nonceOffset === noncePool.length) {
    randomFillSync(noncePool)
    nonceOffset = 0
  }
  const nonce = noncePool.toString('base64', nonceOffset, nonceOffset + 16)
  nonceOffset += 16
  return nonce
}

const policyKey = Symbol('shipshape.security.headers')
type Tagged = ServerResponse & { [policyKey]?: HeaderPolicy }

/** Sets the policy's headers on the response before the app runs, and strips revealing ones at send time. */
export function applyHeaders(ctx: RequestContext, policy: HeaderPolicy): void {
  const res = ctx.res as Tagged
  for (const [name, value] of policy.fixed) res.setHeader(name, value)
  if (policy.hsts !== undefined && ctx.protocol === 'https')
    res.setHeader('Strict-Transport-Security', policy.hsts)
  if (policy.cspHeader !== undefined) {
    const nonce = freshNonce()
    ctx.state.cspNonce = nonce
    res.setHeader(policy.cspHeader, policy.cspParts.join(nonce))
  }
  res[policyKey] = policy
  res.writeHead = scrubbedWriteHead as ServerResponse['writeHead']
}

/**
 * The request's CSP nonce, for `<script nonce="…">` and `<style nonce="…">`. Also at
 * `ctx.state.cspNonce`. The same value all through one request; a new one for every request.
 */
export function cspNonce(): string {
  const ctx = getContext()
  if (ctx === undefined) throw new Error('cspNonce() is called while handling a request')
  let nonce = ctx.state.cspNonce as string | undefined
  if (nonce === undefined) {
    // CSP is off: the app's nonce attributes stay valid markup, and start working when it is on.
    nonce = freshNonce()
    ctx.state.cspNonce = nonce
  }
  return nonce
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
    throw new Error(
      'adjustSecurityHeaders() is called while handling a request that the security middleware saw',
    )
  }
  if (res.headersSent) throw new Error('adjustSecurityHeaders() is called before the response has started')
  const { csp, headers = {} } = changes
  if (csp === false) {
    res.removeHeader('content-security-policy')
    res.removeHeader('content-security-policy-report-only')
  } else if (csp !== undefined && policy.cspHeader !== undefined) {
    const directives = new Map(policy.directives)
    for (const [name, sources] of Object.entries(csp)) {
      if (sources === false) directives.delete(name.toLowerCase())
      else
        for (const [directive, list] of parseDirectives([name, ...sources].join(' ')))
          directives.set(directive, list)
    }
    res.setHeader(policy.cspHeader, cspTemplate(directives).join(cspNonce()))
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

/**
 * Installed as the response's own writeHead (one property store per request), so it also sees
 * headers the app sets after the middleware ran, including in writeHead's own header argument.
 */
function scrubbedWriteHead(this: ServerResponse, ...args: unknown[]): ServerResponse {
  if (this.hasHeader('x-powered-by')) this.removeHeader('x-powered-by')
  if (this.hasHeader('server') && revealing('server', this.getHeader('server'))) this.removeHeader('server')
  const last = args.length - 1
  const headers = args[last]
  if (last > 0 && typeof headers === 'object' && headers !== null) args[last] = scrubbed(headers)
  return (ServerResponse.prototype.writeHead as (...args: unknown[]) => ServerResponse).apply(this, args)
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
  const entries = Object.entries(headers)
  if (!entries.some(([name, value]) => revealing(name, value))) return headers
  return Object.fromEntries(entries.filter(([name, value]) => !revealing(name, value)))
}
