/**
 * The MDN HTTP Observatory's Referrer-Policy test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { type HttpEquiv, headerValues, result } from '../_responses.js'
import type { Retrieval, TestResult } from '../types.js'

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
