/**
 * The MDN HTTP Observatory's Cross-Origin-Resource-Policy test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { firstHeader, result } from '../_responses.js'
import type { Retrieval, TestResult } from '../types.js'

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
