/**
 * The contract between `shipshape scan`'s retriever, its tests and its grader: what was fetched
 * (a Retrieval), what each test concludes (a TestResult), and the graded report.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { InlineScripts } from './_hydration.js'
import type { Expectation } from './_score-table.js'

export type { Expectation } from './_score-table.js'

/** A cookie kept over a session's redirects, as the cookies test reads it. */
export interface JarCookie {
  name: string
  domain: string
  path: string
  secure: boolean
  httpOnly: boolean
  /** `strict`, `lax` or `none`; undefined when absent or not one of those. */
  sameSite: 'strict' | 'lax' | 'none' | undefined
}

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
  /** Inline scripts the page's policy would block (graded by no test; `check --deploy` reports them). */
  inlineScripts: InlineScripts
}
