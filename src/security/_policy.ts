/**
 * The security headers as settings make them, once at start-up: the CSP's directives (the
 * built-in strict policy, the site's own), HSTS, and the fixed headers, validated once so no
 * request pays for it.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http'
import { ShipshapeError } from '../errors/index.js'

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

type Directives = Map<string, string[]>

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
  /** Headers every response gets, as [name, value] pairs (frozen: each response gets copies). */
  readonly fixed: readonly (readonly [string, string])[]
  /** Their lower-cased names, as node:http keys them. */
  readonly fixedKeys: readonly string[]
  /** The Strict-Transport-Security pair, sent on HTTPS responses only. */
  readonly hsts: readonly [string, string] | undefined
  /** `Content-Security-Policy`, `Content-Security-Policy-Report-Only`, or undefined when off. */
  readonly cspHeader: string | undefined
  /** cspHeader lower-cased, as node:http keys it. */
  readonly cspKey: string | undefined
  /** The CSP without a nonce, as a frozen pair: what a response gets until the app asks for a nonce. */
  readonly cspPlain: readonly [string, string] | undefined
  readonly directives: Directives
  /** The CSP split where the nonce sources go: `parts.join(\` 'nonce-…'\`)`, or `parts.join('')` for none. */
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
  const fixed = (
    [
      ['X-Content-Type-Options', 'nosniff'],
      ['X-Frame-Options', 'DENY'],
      ['Referrer-Policy', 'strict-origin-when-cross-origin'],
      ['Cross-Origin-Opener-Policy', 'same-origin'],
      ['Cross-Origin-Resource-Policy', options.crossOriginResourcePolicy],
      ['Permissions-Policy', permissionsPolicy],
    ] as [string, string][]
  ).map((pair) => {
    validateHeaderName(pair[0])
    validateHeaderValue(pair[0], pair[1])
    return Object.freeze(pair)
  })
  const cspHeader =
    options.csp === 'off'
      ? undefined
      : options.csp === 'report-only'
        ? 'Content-Security-Policy-Report-Only'
        : 'Content-Security-Policy'
  const cspParts = cspTemplate(directives)
  const cspPlain =
    cspHeader === undefined ? undefined : Object.freeze([cspHeader, cspParts.join('')] as const)
  if (cspHeader !== undefined) validateHeaderValue(cspHeader, cspParts.join(nonceSource('x')))
  return {
    fixed,
    fixedKeys: fixed.map(([name]) => name.toLowerCase()),
    hsts:
      options.hstsMaxAgeSeconds > 0
        ? Object.freeze([
            'Strict-Transport-Security',
            `max-age=${options.hstsMaxAgeSeconds}${options.hstsIncludeSubdomains ? '; includeSubDomains' : ''}${options.hstsPreload ? '; preload' : ''}`,
          ] as const)
        : undefined,
    cspHeader,
    cspKey: cspHeader?.toLowerCase(),
    cspPlain,
    directives,
    cspParts,
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

/** Where a nonce goes: not a character a header value can hold, so never part of a policy. */
const nonceMark = '\u0000'

/** The policy split where ` 'nonce-…'` goes in script-src and style-src. */
export function cspTemplate(directives: Directives): string[] {
  const text = [...directives]
    .map(([name, sources]) => {
      const mark = nonced.has(name) && !sources.includes("'none'") ? nonceMark : ''
      return `${[name, ...sources].join(' ')}${mark}`
    })
    .join('; ')
  return text.split(nonceMark)
}

export function nonceSource(nonce: string): string {
  return ` 'nonce-${nonce}'`
}

/**
 * An app that sends a policy of its own (SvelteKit's `kit.csp`, helmet) gets shipshape's merged
 * in rather than dropped: every directive of either, and for one both name, the sources of both
 * (the app's nonces and hashes stay valid, and so does the nonce cspNonce() gave). A directive
 * the app left to its `default-src` starts from that. `'none'` on one side leaves the app's
 * choice. Parsed leniently: the app's policy is the app's, a typo in it is not shipshape's to refuse.
 *
 * Both policies differ from response to response only by their nonces, so the merge is done once
 * per shape: the nonces are taken out, the merge of what remains is kept, and this response's
 * nonces are put back. Parsing and merging cost 15–30 µs a response (bench/README.md, frameworks).
 * The memo is keyed by the app's shape first: a policy without nonces (Next's and SvelteKit's
 * prerendered pages' hashes, a kilobyte or more) is then the app's own string, whose hash V8
 * keeps, instead of a new key joined from both policies and hashed again for every response. The
 * nonces are found with indexOf, not a replace() with a callback (a runtime call per response):
 * with both, a merge costs about 1 µs instead of 6.5 on Next's page (bench/README.md, frameworks).
 */
export function mergePolicies(app: string, ours: string): string {
  const nonces: string[] = []
  // The same nonce on both sides (cspNonce()'s, handed to the app) is one placeholder: merged once.
  const appShape = shapeOf(app, nonces)
  const ourShape = shapeOf(ours, nonces)
  let byOurs = mergedShapes.get(appShape)
  let merged = byOurs?.get(ourShape)
  if (merged === undefined) {
    merged = mergeDirectives(appShape, ourShape).split(nonceMark)
    // Shapes are few (one per page kind and route policy); a flood of distinct ones just restarts the memo.
    if (memoized >= maxShapes) {
      mergedShapes.clear()
      memoized = 0
      byOurs = undefined
    }
    if (byOurs === undefined) {
      byOurs = new Map()
      mergedShapes.set(appShape, byOurs)
    }
    byOurs.set(ourShape, merged)
    memoized++
  }
  // Odd parts are placeholders' indexes, even parts the text between them.
  let policy = merged[0] as string
  for (let i = 1; i < merged.length; i += 2)
    policy += (nonces[Number(merged[i])] as string) + (merged[i + 1] as string)
  return policy
}

const nonceStart = "'nonce-"

/** `policy` with each `'nonce-…'` source replaced by a placeholder: its index in `nonces`, added when new. */
function shapeOf(policy: string, nonces: string[]): string {
  let at = policy.indexOf(nonceStart)
  if (at < 0) return policy
  let shape = ''
  let from = 0
  while (at >= 0) {
    const end = policy.indexOf("'", at + nonceStart.length)
    // Unclosed: not a source (and no later one can be closed either).
    if (end < 0) break
    const token = policy.slice(at, end + 1)
    let known = nonces.indexOf(token)
    if (known < 0) known = nonces.push(token) - 1
    shape += `${policy.slice(from, at)}${nonceMark}${known}${nonceMark}`
    from = end + 1
    at = policy.indexOf(nonceStart, from)
  }
  return shape + policy.slice(from)
}

const maxShapes = 256
/** Merged policies by the shapes of the app's policy and of shipshape's, split at the nonce placeholders. */
const mergedShapes = new Map<string, Map<string, string[]>>()
let memoized = 0

function mergeDirectives(app: string, ours: string): string {
  const merged = lenientDirectives(app)
  const fallback = merged.get('default-src')
  for (const [name, sources] of lenientDirectives(ours)) {
    const theirs = merged.get(name) ?? (name.endsWith('-src') ? fallback : undefined)
    if (theirs === undefined) merged.set(name, sources)
    else if (isNone(theirs) || isNone(sources)) merged.set(name, theirs)
    else merged.set(name, [...theirs, ...sources.filter((source) => !theirs.includes(source))])
  }
  return [...merged].map(([name, sources]) => [name, ...sources].join(' ')).join('; ')
}

function lenientDirectives(text: string): Directives {
  const directives: Directives = new Map()
  for (const part of text.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/)
    if (name !== undefined && name !== '' && !directives.has(name.toLowerCase()))
      directives.set(name.toLowerCase(), sources)
  }
  return directives
}

function isNone(sources: string[]): boolean {
  return sources.length === 1 && sources[0] === "'none'"
}
