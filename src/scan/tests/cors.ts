/**
 * The MDN HTTP Observatory's cross-origin resource sharing test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { firstHeader, result } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'

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
