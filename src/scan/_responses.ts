/**
 * What every test reads from a retrieval: header values as the Observatory reads them, whether a
 * response is HTML, the policies set in <meta> tags, and how a test states its result.
 */
import type { HtmlTag } from './_html-tags.js'
import { scoreTable } from './_score-table.js'
import type { Expectation, Retrieval, ScannedResponse, TestName, TestResult } from './types.js'

/** The values of a response header, as the Observatory reads them (one entry per header line node keeps). */
export function headerValues(response: ScannedResponse | null, name: string): string[] {
  const value = response?.headers[name]
  if (value === undefined) return []
  return Array.isArray(value) ? value : [String(value)]
}

export function firstHeader(response: ScannedResponse | null, name: string): string | null {
  return headerValues(response, name)[0] ?? null
}

/** The worse of two results, in the order given (best first). */
export function worse(
  next: Expectation,
  current: Expectation | null,
  order: readonly Expectation[],
): Expectation {
  if (current === null) return next
  return order.indexOf(next) > order.indexOf(current) ? next : current
}

export function result(
  name: TestName,
  expectation: Expectation,
  pass: boolean,
  data: unknown = null,
): TestResult {
  const [scoreModifier, description] = scoreTable[expectation]
  return { name, result: expectation, pass, scoreModifier, description, data }
}

const htmlTypes = new Set(['text/html', 'application/xhtml+xml'])

export function isHtml(response: ScannedResponse | null): boolean {
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
