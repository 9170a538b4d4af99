/**
 * The MDN HTTP Observatory's X-Content-Type-Options test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { firstHeader, result } from '../_responses.js'
import type { Retrieval, TestResult } from '../types.js'

export function xContentTypeOptionsTest(retrieval: Retrieval): TestResult {
  const name = 'x-content-type-options'
  const header = firstHeader(retrieval.auto, 'x-content-type-options')
  if (!header) return result(name, 'x-content-type-options-not-implemented', false)
  const data = header.slice(0, 256)
  return data.trim().toLowerCase() === 'nosniff'
    ? result(name, 'x-content-type-options-nosniff', true, data)
    : result(name, 'x-content-type-options-header-invalid', false, data)
}
