/**
 * The MDN HTTP Observatory's redirection test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { result } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'

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
