/**
 * The MDN HTTP Observatory's X-Frame-Options test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { firstHeader, result } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'
import type { CspData } from './csp.js'

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
