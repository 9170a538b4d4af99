/**
 * The MDN HTTP Observatory's Strict-Transport-Security test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { firstHeader, result } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'

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
