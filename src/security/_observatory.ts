/**
 * The MDN HTTP Observatory's published tests and scoring (algorithm version 4), applied to
 * responses `shipshape scan` has fetched. Result names, score modifiers, the grade table and the
 * extra-credit rule are the Observatory's, so a site gets the same grade and score from both.
 * What differs, and why, is listed in docs/security.md (section "shipshape scan").
 */
import type { IncomingHttpHeaders } from 'node:http'
import { createRequire } from 'node:module'
import type { JarCookie } from './_cookie-jar.js'
import type { HtmlTag } from './_html-tags.js'
import { type CspDirectives, parseCsp, parseMetaCsp } from './_observatory-csp.js'

/**
 * The registrable domain of a host or URL ("example.co.uk"). tldts carries the public suffix
 * list, about 12 MB resident once loaded: it is required on first use, when a scanned page loads
 * scripts, not by every command that imports the checks.
 */
function registrableDomain(hostOrUrl: string): string | null {
  tldts ??= createRequire(import.meta.url)('tldts') as typeof import('tldts')
  return tldts.parse(hostOrUrl).domain
}
let tldts: typeof import('tldts') | undefined

/** Every result a test can give, with its score modifier and what it means. */
export const scoreTable = {
  'csp-implemented-with-no-unsafe-default-src-none': [10, "CSP with default-src 'none' and nothing unsafe"],
  'csp-implemented-with-no-unsafe': [5, "CSP without 'unsafe-inline' or 'unsafe-eval'"],
  'csp-implemented-with-unsafe-inline-in-style-src-only': [0, 'CSP allows unsafe sources in style-src only'],
  'csp-implemented-with-insecure-scheme-in-passive-content-only': [
    -10,
    'CSP lets an HTTPS site load images or media over HTTP',
  ],
  'csp-implemented-with-unsafe-eval': [-10, "CSP allows 'unsafe-eval'"],
  'csp-implemented-with-unsafe-inline': [
    -20,
    "CSP allows 'unsafe-inline', data: or overly broad sources in script-src or object-src, or leaves them unrestricted",
  ],
  'csp-implemented-with-insecure-scheme': [-20, 'CSP lets an HTTPS site load resources over HTTP'],
  'csp-implemented-but-duplicate-directives': [0, 'CSP repeats report-uri or report-to'],
  'csp-header-invalid': [-25, 'CSP cannot be parsed'],
  'csp-not-implemented': [-25, 'No Content-Security-Policy'],
  'csp-not-implemented-but-reporting-enabled': [-25, 'Only Content-Security-Policy-Report-Only is set'],
  'cookies-secure-with-httponly-sessions-and-samesite': [
    5,
    'All cookies Secure, session cookies HttpOnly, every cookie SameSite',
  ],
  'cookies-secure-with-httponly-sessions': [0, 'All cookies Secure and session cookies HttpOnly'],
  'cookies-not-found': [0, 'No cookies set'],
  'cookies-without-secure-flag-but-protected-by-hsts': [-5, 'Cookies without Secure, but HSTS protects them'],
  'cookies-session-without-secure-flag-but-protected-by-hsts': [
    -10,
    'Session cookie without Secure, but HSTS protects it',
  ],
  'cookies-without-secure-flag': [-20, 'Cookies without Secure, or set over HTTP'],
  'cookies-samesite-flag-invalid': [
    -20,
    'SameSite set to something other than Strict or Lax (or None with Secure)',
  ],
  'cookies-anticsrf-without-samesite-flag': [-20, 'Anti-CSRF token cookie without SameSite'],
  'cookies-session-without-httponly-flag': [-30, 'Session cookie without HttpOnly'],
  'cookies-session-without-secure-flag': [-40, 'Session cookie without Secure, or set over HTTP'],
  'cross-origin-resource-sharing-not-implemented': [0, 'Content not visible to other origins through CORS'],
  'cross-origin-resource-sharing-implemented-with-public-access': [
    0,
    'Public content visible through CORS (*)',
  ],
  'cross-origin-resource-sharing-implemented-with-restricted-access': [
    0,
    'CORS restricted to specific origins',
  ],
  'cross-origin-resource-sharing-implemented-with-universal-access': [
    -50,
    'CORS reflects any origin with credentials: open to cross-site request forgery',
  ],
  'redirection-all-redirects-preloaded': [0, 'Every host redirected to is HSTS-preloaded'],
  'redirection-to-https': [0, 'HTTP redirects to HTTPS on the same host first, and ends on HTTPS'],
  'redirection-not-needed-no-http': [0, 'Not reachable over HTTP, so no redirect is needed'],
  'redirection-off-host-from-http': [
    -5,
    'HTTP redirects to HTTPS on another host first, so HSTS is never set',
  ],
  'redirection-not-to-https-on-initial-redirection': [
    -10,
    'HTTP redirects to HTTP first, reaching HTTPS later',
  ],
  'redirection-not-to-https': [-20, 'HTTP redirects, but not to HTTPS'],
  'redirection-missing': [-20, 'HTTP does not redirect to HTTPS'],
  'redirection-invalid-cert': [-20, 'Invalid certificate chain during the redirects'],
  'referrer-policy-private': [
    5,
    'Referrer-Policy no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin',
  ],
  'referrer-policy-not-implemented': [
    0,
    'No Referrer-Policy (browsers default to strict-origin-when-cross-origin)',
  ],
  'referrer-policy-unsafe': [-5, 'Referrer-Policy leaks the full URL or the origin over HTTP'],
  'referrer-policy-header-invalid': [-5, 'Referrer-Policy not recognized'],
  'hsts-preloaded': [5, 'HSTS-preloaded'],
  'hsts-implemented-max-age-at-least-six-months': [0, 'HSTS max-age of at least six months'],
  'hsts-implemented-max-age-less-than-six-months': [-10, 'HSTS max-age under six months'],
  'hsts-not-implemented': [-20, 'No Strict-Transport-Security on HTTPS'],
  'hsts-header-invalid': [-20, 'Strict-Transport-Security not recognized'],
  'hsts-not-implemented-no-https': [-20, 'Not reachable over HTTPS, so no HSTS'],
  'hsts-invalid-cert': [-20, 'Invalid certificate chain, so HSTS does not apply'],
  'sri-implemented-and-all-scripts-loaded-securely': [5, 'SRI on scripts, all from the same origin'],
  'sri-implemented-and-external-scripts-loaded-securely': [
    5,
    'SRI on external scripts, all loaded over HTTPS',
  ],
  'sri-not-implemented-response-not-html': [0, 'Not HTML, so SRI does not apply'],
  'sri-not-implemented-but-no-scripts-loaded': [0, 'No scripts, so SRI is not needed'],
  'sri-not-implemented-but-all-scripts-loaded-from-secure-origin': [
    0,
    'No SRI, but all scripts are same-origin',
  ],
  'sri-not-implemented-but-external-scripts-loaded-securely': [-5, 'External scripts over HTTPS without SRI'],
  'sri-implemented-but-external-scripts-not-loaded-securely': [
    -20,
    'External scripts with SRI, but over HTTP or protocol-relative URLs',
  ],
  'sri-not-implemented-and-external-scripts-not-loaded-securely': [
    -50,
    'External scripts without SRI, over HTTP or protocol-relative URLs',
  ],
  'x-content-type-options-nosniff': [0, 'X-Content-Type-Options: nosniff'],
  'x-content-type-options-not-implemented': [-5, 'No X-Content-Type-Options'],
  'x-content-type-options-header-invalid': [-5, 'X-Content-Type-Options not recognized'],
  'x-frame-options-implemented-via-csp': [5, 'Framing controlled by CSP frame-ancestors'],
  'x-frame-options-sameorigin-or-deny': [0, 'X-Frame-Options SAMEORIGIN or DENY'],
  'x-frame-options-allow-from-origin': [0, 'X-Frame-Options ALLOW-FROM'],
  'x-frame-options-not-implemented': [-20, 'No X-Frame-Options or CSP frame-ancestors'],
  'x-frame-options-header-invalid': [-20, 'X-Frame-Options not recognized'],
  'corp-implemented-with-same-origin': [10, 'Cross-Origin-Resource-Policy same-origin'],
  'corp-implemented-with-same-site': [10, 'Cross-Origin-Resource-Policy same-site'],
  'corp-implemented-with-cross-origin': [0, 'Cross-Origin-Resource-Policy cross-origin'],
  'corp-not-implemented': [0, 'No Cross-Origin-Resource-Policy (browsers default to cross-origin)'],
  'corp-header-invalid': [-5, 'Cross-Origin-Resource-Policy not recognized'],
  'html-not-parseable': [-20, 'Claims to be HTML but cannot be parsed'],
} as const satisfies Record<string, readonly [number, string]>

export type Expectation = keyof typeof scoreTable

/** The grade for a score, from the Observatory's table (scores above 100 are A+). */
const gradeChart: ReadonlyArray<readonly [number, string]> = [
  [100, 'A+'],
  [90, 'A'],
  [85, 'A-'],
  [80, 'B+'],
  [70, 'B'],
  [65, 'B-'],
  [60, 'C+'],
  [50, 'C'],
  [45, 'C-'],
  [40, 'D+'],
  [30, 'D'],
  [25, 'D-'],
  [0, 'F'],
]

/** Bonuses count only when the score without them (penalties alone) is already at least this. */
export const minimumScoreForExtraCredit = 90

export const grades = gradeChart.map(([, grade]) => grade)

export const testNames = [
  'content-security-policy',
  'cookies',
  'cross-origin-resource-sharing',
  'redirection',
  'referrer-policy',
  'strict-transport-security',
  'subresource-integrity',
  'x-content-type-options',
  'x-frame-options',
  'cross-origin-resource-policy',
] as const

export type TestName = (typeof testNames)[number]

/** One fetched response, as the tests read it. Header names are lower-case, as node:http gives them. */
export interface ScannedResponse {
  url: URL
  status: number
  headers: IncomingHttpHeaders
  /** False when the certificate chain did not verify (the page was fetched anyway). */
  verified: boolean
}

export interface RouteStep {
  url: URL
  status: number
}

/** Everything the tests look at: what `shipshape scan` fetched, or what a test made up. */
export interface Retrieval {
  /** The host being graded. */
  hostname: string
  /** The URL the graded session started from (https when the site answered over HTTPS). */
  sessionUrl: URL
  /** The final response of the graded session: the HTTPS one when there is one, else HTTP. */
  auto: ScannedResponse | null
  /** The final response reached from the HTTP URL, and every step on the way (the first included). */
  http: ScannedResponse | null
  httpRoute: RouteStep[]
  /** The final response reached from the HTTPS URL. */
  https: ScannedResponse | null
  /** The body of `auto`. */
  body: string
  /** Every cookie kept over the graded session's redirects. */
  cookies: JarCookie[]
  /** The answer to a CORS preflight from `corsOrigin`, or null when it failed. */
  cors: ScannedResponse | null
  corsOrigin: string
  /** Hosts on the browsers' HSTS preload list (shipshape does not ship the list). */
  isPreloaded?: (hostname: string) => boolean
}

export interface TestResult {
  name: TestName
  result: Expectation
  pass: boolean
  scoreModifier: number
  description: string
  /** What the test read, for the report. */
  data: unknown
}

export interface ScanReport {
  algorithmVersion: 4
  grade: string
  score: number
  statusCode: number | null
  testsPassed: number
  testsFailed: number
  tests: Record<TestName, TestResult>
}

/** The values of a response header, as the Observatory reads them (one entry per header line node keeps). */
function headerValues(response: ScannedResponse | null, name: string): string[] {
  const value = response?.headers[name]
  if (value === undefined) return []
  return Array.isArray(value) ? value : [String(value)]
}

function firstHeader(response: ScannedResponse | null, name: string): string | null {
  return headerValues(response, name)[0] ?? null
}

/** The worse of two results, in the order given (best first). */
function worse(next: Expectation, current: Expectation | null, order: readonly Expectation[]): Expectation {
  if (current === null) return next
  return order.indexOf(next) > order.indexOf(current) ? next : current
}

function result(name: TestName, expectation: Expectation, pass: boolean, data: unknown = null): TestResult {
  const [scoreModifier, description] = scoreTable[expectation]
  return { name, result: expectation, pass, scoreModifier, description, data }
}

const htmlTypes = new Set(['text/html', 'application/xhtml+xml'])

function isHtml(response: ScannedResponse | null): boolean {
  return htmlTypes.has((firstHeader(response, 'content-type') ?? '').split(';')[0] as string)
}

/** Policies set in <meta> tags: CSP from http-equiv, referrer policy from name="referrer". */
export interface HttpEquiv {
  csp: string[]
  referrer: string[]
}

export function readHttpEquiv(retrieval: Retrieval, tags: readonly HtmlTag[]): HttpEquiv {
  const equiv: HttpEquiv = { csp: [], referrer: [] }
  if (!isHtml(retrieval.auto) || retrieval.body === '') return equiv
  for (const tag of tags) {
    if (tag.name !== 'meta') continue
    const httpEquiv = tag.attributes.get('http-equiv')
    const content = tag.attributes.get('content')
    if (httpEquiv !== undefined && content !== undefined) {
      if (content !== '' && httpEquiv.trim().toLowerCase() === 'content-security-policy')
        equiv.csp.push(content)
    } else if (tag.attributes.get('name')?.trim().toLowerCase() === 'referrer' && content) {
      equiv.referrer = [content]
    }
  }
  return equiv
}

// --- Content-Security-Policy ----------------------------------------------------------------

const dangerouslyBroad = new Set([
  'ftp:',
  'http:',
  'https:',
  '*',
  'http://*',
  'http://*.*',
  'https://*',
  'https://*.*',
])
const unsafeInline = new Set(["'unsafe-inline'", 'data:'])
const broadOrInline = new Set([...dangerouslyBroad, ...unsafeInline])
const passiveDirectives = ['img-src', 'media-src']
const nonceOrHashPrefixes = ["'sha256-", "'sha384-", "'sha512-", "'nonce-"]

const hasNonceOrHash = (sources: Set<string>) =>
  [...sources].some((source) => nonceOrHashPrefixes.some((prefix) => source.startsWith(prefix)))

export interface CspData {
  directives: Record<string, string[]>
  numPolicies: number
  http: boolean
  meta: boolean
}

export function contentSecurityPolicyTest(retrieval: Retrieval, equiv: HttpEquiv): TestResult {
  const name = 'content-security-policy'
  const headerPolicies = headerValues(retrieval.auto, 'content-security-policy')
  const numPolicies = headerPolicies.length + equiv.csp.length
  if (retrieval.auto === null) return result(name, 'csp-not-implemented', false)
  let combined: ReturnType<typeof parseCsp>
  try {
    combined = parseCsp([...headerPolicies, ...equiv.csp])
  } catch {
    return result(name, 'csp-header-invalid', false, { numPolicies })
  }
  const headerOnly = tryParse(() => parseCsp(headerPolicies).directives)
  const metaOnly = tryParse(() => parseMetaCsp(equiv.csp).directives)
  if (headerOnly.size + metaOnly.size === 0) {
    const reportOnly = firstHeader(retrieval.auto, 'content-security-policy-report-only')
    return result(
      name,
      reportOnly ? 'csp-not-implemented-but-reporting-enabled' : 'csp-not-implemented',
      false,
      { numPolicies },
    )
  }
  const csp = combined.directives
  // Fallbacks share the Set with default-src on purpose: the Observatory's clean-up of
  // 'unsafe-inline' next to a nonce applies to default-src too when it stands in.
  const objectSrc = csp.get('object-src') ?? csp.get('default-src') ?? new Set(['*'])
  const scriptSrc = csp.get('script-src') ?? csp.get('default-src') ?? new Set(['*'])
  const styleSrc = csp.get('style-src') ?? csp.get('default-src') ?? new Set(['*'])
  // 'unsafe-inline' is ignored by browsers when a nonce or hash is present.
  for (const sources of [scriptSrc, styleSrc]) {
    if (hasNonceOrHash(sources)) sources.delete("'unsafe-inline'")
  }
  let outcome: Expectation | null = null
  if (scriptSrc.has("'strict-dynamic'")) {
    if (hasNonceOrHash(scriptSrc)) {
      // With 'strict-dynamic', browsers ignore host and scheme sources, 'self' and 'unsafe-inline'.
      for (const source of [...scriptSrc]) {
        if (
          [...dangerouslyBroad].some((broad) => source.startsWith(broad)) ||
          source === "'self'" ||
          source === "'unsafe-inline'"
        )
          scriptSrc.delete(source)
      }
    } else {
      outcome = 'csp-header-invalid'
    }
  }
  const activeSources = [
    ...[...csp.entries()]
      .filter(([directive]) => !passiveDirectives.includes(directive) && directive !== 'script-src')
      .flatMap(([, sources]) => [...sources]),
    ...scriptSrc,
  ]
  const passiveSources = passiveDirectives.flatMap((directive) => [
    ...(csp.get(directive) ?? csp.get('default-src') ?? []),
  ])
  const secureSite = retrieval.sessionUrl.protocol === 'https:'
  const insecure = (source: string) => source.startsWith('http:') || source.startsWith('ftp:')
  if (
    [...scriptSrc].some((source) => broadOrInline.has(source)) ||
    [...objectSrc].some((source) => dangerouslyBroad.has(source))
  )
    outcome ??= 'csp-implemented-with-unsafe-inline'
  if (secureSite && activeSources.some(insecure)) outcome ??= 'csp-implemented-with-insecure-scheme'
  if (scriptSrc.has("'unsafe-eval'") || styleSrc.has("'unsafe-eval'"))
    outcome ??= 'csp-implemented-with-unsafe-eval'
  if (secureSite && passiveSources.some(insecure))
    outcome ??= 'csp-implemented-with-insecure-scheme-in-passive-content-only'
  if ([...styleSrc].some((source) => broadOrInline.has(source)))
    outcome ??= 'csp-implemented-with-unsafe-inline-in-style-src-only'
  const defaultSrc = csp.get('default-src')
  outcome ??=
    defaultSrc?.has("'none'") && defaultSrc.size === 1
      ? 'csp-implemented-with-no-unsafe-default-src-none'
      : 'csp-implemented-with-no-unsafe'
  const passing: Expectation[] = [
    'csp-implemented-with-no-unsafe',
    'csp-implemented-with-no-unsafe-default-src-none',
    'csp-implemented-with-unsafe-inline-in-style-src-only',
    'csp-implemented-with-insecure-scheme-in-passive-content-only',
  ]
  const pass = passing.includes(outcome)
  if (pass && combined.duplicates.size > 0) outcome = 'csp-implemented-but-duplicate-directives'
  const data: CspData = {
    directives: Object.fromEntries([...csp].map(([directive, sources]) => [directive, [...sources].sort()])),
    numPolicies,
    http: headerPolicies.length > 0,
    meta: equiv.csp.length > 0,
  }
  return result(name, outcome, pass, data)
}

function tryParse(parse: () => CspDirectives): CspDirectives {
  try {
    return parse()
  } catch {
    return new Map()
  }
}

// --- Cookies ----------------------------------------------------------------------------------

/** A load balancer's affinity cookie the Observatory ignores (mozilla/http-observatory#282). */
const ignoredCookies = ['heroku-session-affinity']

const cookieOrder: Expectation[] = [
  'cookies-without-secure-flag-but-protected-by-hsts',
  'cookies-without-secure-flag',
  'cookies-session-without-secure-flag-but-protected-by-hsts',
  'cookies-samesite-flag-invalid',
  'cookies-anticsrf-without-samesite-flag',
  'cookies-session-without-httponly-flag',
  'cookies-session-without-secure-flag',
]

/** `hstsTest`: the strict-transport-security result, which decides how bad a cookie without Secure is. */
export function cookiesTest(retrieval: Retrieval, hstsTest: TestResult): TestResult {
  const name = 'cookies'
  const hsts = hstsTest.pass
  let outcome: Expectation | null = null
  // A SameSite value a browser ignores is invisible in the parsed cookie, so read the raw lines.
  for (const line of headerValues(retrieval.auto, 'set-cookie')) {
    if (hasInvalidSameSite(line)) outcome = worse('cookies-samesite-flag-invalid', outcome, cookieOrder)
  }
  const cookies = retrieval.cookies.filter((cookie) => cookie.name && !ignoredCookies.includes(cookie.name))
  if (cookies.length === 0) {
    return result(name, 'cookies-not-found', true)
  }
  let missingSameSite = false
  for (const cookie of cookies) {
    const lower = cookie.name.toLowerCase()
    const session = lower.includes('login') || lower.includes('sess')
    const antiCsrf = lower.includes('csrf')
    if (!cookie.secure && cookie.sameSite === 'none')
      outcome = worse('cookies-samesite-flag-invalid', outcome, cookieOrder)
    if (!cookie.secure)
      outcome = worse(
        hsts ? 'cookies-without-secure-flag-but-protected-by-hsts' : 'cookies-without-secure-flag',
        outcome,
        cookieOrder,
      )
    if (antiCsrf && !cookie.sameSite)
      outcome = worse('cookies-anticsrf-without-samesite-flag', outcome, cookieOrder)
    if (session && !cookie.secure)
      outcome = worse(
        hsts
          ? 'cookies-session-without-secure-flag-but-protected-by-hsts'
          : 'cookies-session-without-secure-flag',
        outcome,
        cookieOrder,
      )
    if (session && !cookie.httpOnly)
      outcome = worse('cookies-session-without-httponly-flag', outcome, cookieOrder)
    if (!cookie.sameSite) missingSameSite = true
  }
  outcome ??= missingSameSite
    ? 'cookies-secure-with-httponly-sessions'
    : 'cookies-secure-with-httponly-sessions-and-samesite'
  const pass =
    outcome === 'cookies-secure-with-httponly-sessions-and-samesite' ||
    outcome === 'cookies-secure-with-httponly-sessions'
  return result(name, outcome, pass, {
    sameSite: !missingSameSite && outcome === 'cookies-secure-with-httponly-sessions-and-samesite',
    cookies: Object.fromEntries(cookies.map((cookie) => [cookie.name, cookie])),
  })
}

function hasInvalidSameSite(line: string): boolean {
  for (const part of line.trim().split(';')) {
    const [key = '', value] = part.trim().split('=')
    if (key.trim().toLowerCase() !== 'samesite') continue
    if (!value) return true
    if (!['lax', 'strict', 'none'].includes(value.trim().toLowerCase())) return true
  }
  return false
}

// --- CORS -------------------------------------------------------------------------------------

export function crossOriginResourceSharingTest(retrieval: Retrieval): TestResult {
  const name = 'cross-origin-resource-sharing'
  const allowOrigin = firstHeader(retrieval.cors, 'access-control-allow-origin')
  if (retrieval.cors === null || !allowOrigin) {
    return result(name, 'cross-origin-resource-sharing-not-implemented', true)
  }
  const data = allowOrigin.slice(0, 256).trim().toLowerCase()
  const credentials = firstHeader(retrieval.cors, 'access-control-allow-credentials')
  let outcome: Expectation = 'cross-origin-resource-sharing-implemented-with-restricted-access'
  if (data === '*') outcome = 'cross-origin-resource-sharing-implemented-with-public-access'
  else if (allowOrigin === retrieval.corsOrigin && credentials?.toLowerCase().trim() === 'true')
    outcome = 'cross-origin-resource-sharing-implemented-with-universal-access'
  return result(
    name,
    outcome,
    outcome !== 'cross-origin-resource-sharing-implemented-with-universal-access',
    data,
  )
}

// --- Redirection ------------------------------------------------------------------------------

export function redirectionTest(retrieval: Retrieval): TestResult {
  const name = 'redirection'
  const response = retrieval.http
  const route = retrieval.httpRoute
  const preloaded = retrieval.isPreloaded ?? (() => false)
  const data = { route: route.map((step) => step.url.href), statusCode: response?.status ?? null }
  let outcome: Expectation
  if (response === null) outcome = 'redirection-not-needed-no-http'
  else if (!response.verified) outcome = 'redirection-invalid-cert'
  else if (route.every((step) => preloaded(step.url.hostname)))
    outcome = 'redirection-all-redirects-preloaded'
  else if (route.length === 1) outcome = 'redirection-missing'
  else if (route.at(-1)?.url.protocol !== 'https:') outcome = 'redirection-not-to-https'
  else if (route[1]?.url.protocol === 'http:') outcome = 'redirection-not-to-https-on-initial-redirection'
  else if (
    route[0]?.url.protocol === 'http:' &&
    route[1]?.url.protocol === 'https:' &&
    route[0]?.url.hostname !== route[1]?.url.hostname
  )
    outcome = 'redirection-off-host-from-http'
  else outcome = 'redirection-to-https'
  const pass = [
    'redirection-not-needed-no-http',
    'redirection-all-redirects-preloaded',
    'redirection-to-https',
  ].includes(outcome)
  return result(name, outcome, pass, data)
}

// --- Referrer-Policy --------------------------------------------------------------------------

const privateReferrer = ['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin']
const unsafeReferrer = ['origin', 'origin-when-cross-origin', 'unsafe-url', 'no-referrer-when-downgrade']

export function referrerPolicyTest(retrieval: Retrieval, equiv: HttpEquiv): TestResult {
  const name = 'referrer-policy'
  if (retrieval.auto === null) return result(name, 'referrer-policy-not-implemented', false)
  const values = [...headerValues(retrieval.auto, 'referrer-policy'), ...equiv.referrer]
  if (values.length === 0) return result(name, 'referrer-policy-not-implemented', true)
  const data = values.join(', ')
  // Browsers use the last value they recognize; a <meta> tag comes after the header.
  const policy =
    data
      .split(',')
      .filter((value) => [...privateReferrer, ...unsafeReferrer].includes(value.toLowerCase().trim()))
      .at(-1)
      ?.toLowerCase()
      .trim() ?? ''
  if (privateReferrer.includes(policy)) return result(name, 'referrer-policy-private', true, data)
  if (unsafeReferrer.includes(policy)) return result(name, 'referrer-policy-unsafe', false, data)
  return result(name, 'referrer-policy-header-invalid', false, data)
}

// --- Strict-Transport-Security ----------------------------------------------------------------

/** Six months is 15768000 s; many sites use 180 days, which the Observatory accepts too. */
const sixMonths = 15_552_000

export function strictTransportSecurityTest(retrieval: Retrieval): TestResult {
  const name = 'strict-transport-security'
  const response = retrieval.https
  let outcome: Expectation = 'hsts-not-implemented'
  const data: { header: string | null; maxAge: number | null; includeSubDomains: boolean; preload: boolean } =
    {
      header: null,
      maxAge: null,
      includeSubDomains: false,
      preload: false,
    }
  const header = firstHeader(response, 'strict-transport-security')
  if (response === null) outcome = 'hsts-not-implemented-no-https'
  else if (!response.verified) outcome = 'hsts-invalid-cert'
  else if (header !== null) {
    data.header = header.slice(0, 1024)
    for (const parameter of data.header.split(';').map((part) => part.trim().toLowerCase())) {
      // parseInt, as the Observatory does: a quoted or otherwise odd number reads as NaN, which it
      // does not count as too short.
      if (parameter.startsWith('max-age=')) data.maxAge = Number.parseInt(parameter.slice(8, 128), 10)
      else if (parameter === 'includesubdomains') data.includeSubDomains = true
      else if (parameter === 'preload') data.preload = true
    }
    // A comma means the header was sent more than once.
    if (data.header.includes(',') || data.maxAge === null) outcome = 'hsts-header-invalid'
    else if (data.maxAge < sixMonths) outcome = 'hsts-implemented-max-age-less-than-six-months'
    else outcome = 'hsts-implemented-max-age-at-least-six-months'
  }
  if (response !== null && retrieval.isPreloaded?.(retrieval.hostname)) outcome = 'hsts-preloaded'
  const pass = outcome === 'hsts-implemented-max-age-at-least-six-months' || outcome === 'hsts-preloaded'
  return result(name, outcome, pass, data)
}

// --- Subresource Integrity --------------------------------------------------------------------

const sriOrder: Expectation[] = [
  'sri-implemented-and-all-scripts-loaded-securely',
  'sri-implemented-and-external-scripts-loaded-securely',
  'sri-implemented-but-external-scripts-not-loaded-securely',
  'sri-not-implemented-but-external-scripts-loaded-securely',
  'sri-not-implemented-and-external-scripts-not-loaded-securely',
  'sri-not-implemented-response-not-html',
]

export function subresourceIntegrityTest(retrieval: Retrieval, tags: readonly HtmlTag[]): TestResult {
  const name = 'subresource-integrity'
  if (retrieval.auto === null) return result(name, 'sri-not-implemented-but-no-scripts-loaded', false)
  if (!isHtml(retrieval.auto)) return result(name, 'sri-not-implemented-response-not-html', true)
  const scripts = tags.filter((tag) => tag.name === 'script')
  const external: Record<string, { integrity: string | null }> = {}
  let outcome: Expectation | null = null
  let foreign = false
  const siteDomain = registrableDomain(retrieval.hostname)
  for (const script of scripts) {
    const src = scriptSource(script.attributes.get('src'))
    if (!src) continue
    const integrity = script.attributes.get('integrity') || null
    const protocolRelative = /^\/\/[^/]/.test(src)
    const absolute = /^https?:\/\//.test(src)
    const relative = !protocolRelative && !absolute
    const sameSite = protocolRelative || relative || registrableDomain(src) === siteDomain
    const sameOrigin = relative || (sameSite && !protocolRelative)
    const secureScheme =
      (absolute && new URL(src).protocol === 'https:') ||
      (relative && retrieval.sessionUrl.protocol === 'https:')
    if (!sameOrigin) {
      foreign = true
      external[src] = { integrity }
      if (integrity && !secureScheme)
        outcome = worse('sri-implemented-but-external-scripts-not-loaded-securely', outcome, sriOrder)
      else if (!integrity && secureScheme)
        outcome = worse('sri-not-implemented-but-external-scripts-loaded-securely', outcome, sriOrder)
      else if (!integrity && !secureScheme)
        outcome = worse('sri-not-implemented-and-external-scripts-not-loaded-securely', outcome, sriOrder)
    } else if (integrity && secureScheme && outcome === null) {
      // The bonus is granted for SRI even on same-origin scripts.
      outcome = 'sri-implemented-and-all-scripts-loaded-securely'
    }
  }
  if (scripts.length === 0) outcome = 'sri-not-implemented-but-no-scripts-loaded'
  outcome ??= foreign
    ? 'sri-implemented-and-external-scripts-loaded-securely'
    : 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin'
  const pass = [
    'sri-implemented-and-all-scripts-loaded-securely',
    'sri-implemented-and-external-scripts-loaded-securely',
    'sri-not-implemented-response-not-html',
    'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
    'sri-not-implemented-but-no-scripts-loaded',
  ].includes(outcome)
  return result(name, outcome, pass, external)
}

/**
 * A script's `src` as a DOM reports it for a page with no base URL (the Observatory's parser has
 * none): an absolute URL normalized, anything else (relative, protocol-relative) exactly as written.
 */
function scriptSource(raw: string | undefined): string {
  if (raw === undefined || raw === '') return ''
  try {
    return new URL(raw).href
  } catch {
    return raw
  }
}

// --- X-Content-Type-Options, X-Frame-Options, Cross-Origin-Resource-Policy ---------------------

export function xContentTypeOptionsTest(retrieval: Retrieval): TestResult {
  const name = 'x-content-type-options'
  const header = firstHeader(retrieval.auto, 'x-content-type-options')
  if (!header) return result(name, 'x-content-type-options-not-implemented', false)
  const data = header.slice(0, 256)
  return data.trim().toLowerCase() === 'nosniff'
    ? result(name, 'x-content-type-options-nosniff', true, data)
    : result(name, 'x-content-type-options-header-invalid', false, data)
}

export function xFrameOptionsTest(retrieval: Retrieval, csp: TestResult): TestResult {
  const name = 'x-frame-options'
  if (retrieval.auto === null) return result(name, 'x-frame-options-not-implemented', false)
  const header = firstHeader(retrieval.auto, 'x-frame-options')
  const data = header ? header.slice(0, 1024) : null
  let outcome: Expectation = 'x-frame-options-not-implemented'
  if (data !== null) {
    const value = data.trim().toLowerCase()
    if (value === 'deny' || value === 'sameorigin') outcome = 'x-frame-options-sameorigin-or-deny'
    else if (value.startsWith('allow-from')) outcome = 'x-frame-options-allow-from-origin'
    else outcome = 'x-frame-options-header-invalid'
  }
  const cspData = csp.data as Partial<CspData> | null
  if (cspData?.directives?.['frame-ancestors']) outcome = 'x-frame-options-implemented-via-csp'
  const pass = outcome !== 'x-frame-options-not-implemented' && outcome !== 'x-frame-options-header-invalid'
  return result(name, outcome, pass, data)
}

export function crossOriginResourcePolicyTest(retrieval: Retrieval): TestResult {
  const name = 'cross-origin-resource-policy'
  const header = firstHeader(retrieval.auto, 'cross-origin-resource-policy')
  if (!header) return result(name, 'corp-not-implemented', true)
  const data = header.slice(0, 256).trim().toLowerCase()
  if (data === 'same-site') return result(name, 'corp-implemented-with-same-site', true, data)
  if (data === 'same-origin') return result(name, 'corp-implemented-with-same-origin', true, data)
  if (data === 'cross-origin') return result(name, 'corp-implemented-with-cross-origin', true, data)
  return result(name, 'corp-header-invalid', false, data)
}

// --- Grading ----------------------------------------------------------------------------------

/** The grade for a score: the score floored at 0, then the table entry at its multiple of 5. */
export function gradeForScore(rawScore: number): { score: number; grade: string } {
  const score = Math.max(rawScore, 0)
  const key = Math.min(score - (score % 5), 100)
  const grade = gradeChart.find(([floor]) => key >= floor)?.[1] ?? 'F'
  return { score, grade }
}

/** Runs every test on a retrieval and grades it. */
export function grade(retrieval: Retrieval, tags: readonly HtmlTag[]): ScanReport {
  const equiv = readHttpEquiv(retrieval, tags)
  const csp = contentSecurityPolicyTest(retrieval, equiv)
  const hsts = strictTransportSecurityTest(retrieval)
  const results: TestResult[] = [
    csp,
    cookiesTest(retrieval, hsts),
    crossOriginResourceSharingTest(retrieval),
    redirectionTest(retrieval),
    referrerPolicyTest(retrieval, equiv),
    hsts,
    subresourceIntegrityTest(retrieval, tags),
    xContentTypeOptionsTest(retrieval),
    xFrameOptionsTest(retrieval, csp),
    crossOriginResourcePolicyTest(retrieval),
  ]
  let withExtraCredit = 100
  let penaltiesOnly = 100
  for (const test of results) {
    withExtraCredit += test.scoreModifier
    if (test.scoreModifier < 0) penaltiesOnly += test.scoreModifier
  }
  const { score, grade } = gradeForScore(
    penaltiesOnly >= minimumScoreForExtraCredit ? withExtraCredit : penaltiesOnly,
  )
  const testsPassed = results.filter((test) => test.pass).length
  return {
    algorithmVersion: 4,
    grade,
    score,
    statusCode: retrieval.auto?.status ?? null,
    testsPassed,
    testsFailed: results.length - testsPassed,
    tests: Object.fromEntries(results.map((test) => [test.name, test])) as Record<TestName, TestResult>,
  }
}
