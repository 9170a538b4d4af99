/**
 * The MDN HTTP Observatory's cookies test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { headerValues, result, worse } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'

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
