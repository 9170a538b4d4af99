/**
 * The MDN HTTP Observatory's subresource integrity test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { createRequire } from 'node:module'
import type { HtmlTag } from '../_html-tags.js'
import { isHtml, result, worse } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'

/**
 * The registrable domain of a host or URL ("example.co.uk"). tldts carries the public suffix
 * list, about 12 MB resident once loaded: it is required on first use, when a scanned page loads
 * scripts, not by every command that imports the checks.
 */
function registrableDomain(hostOrUrl: string): string | null {
  tldts ??= createRequire(import.meta.url)('tldts') as typeof import('tldts')
  return tldts.parse(hostOrUrl).domain
}
let tldts: typeof import('tldts') | undefined

const sriOrder: Expectation[] = [
  'sri-implemented-and-all-scripts-loaded-securely',
  'sri-implemented-and-external-scripts-loaded-securely',
  'sri-implemented-but-external-scripts-not-loaded-securely',
  'sri-not-implemented-but-external-scripts-loaded-securely',
  'sri-not-implemented-and-external-scripts-not-loaded-securely',
  'sri-not-implemented-response-not-html',
]

export function subresourceIntegrityTest(retrieval: Retrieval, tags: readonly HtmlTag[]): TestResult {
  const name = 'subresource-integrity'
  if (retrieval.auto === null) return result(name, 'sri-not-implemented-but-no-scripts-loaded', false)
  if (!isHtml(retrieval.auto)) return result(name, 'sri-not-implemented-response-not-html', true)
  const scripts = tags.filter((tag) => tag.name === 'script')
  const external: Record<string, { integrity: string | null }> = {}
  let outcome: Expectation | null = null
  let foreign = false
  const siteDomain = registrableDomain(retrieval.hostname)
  for (const script of scripts) {
    const src = scriptSource(script.attributes.get('src'))
    if (!src) continue
    const integrity = script.attributes.get('integrity') || null
    const protocolRelative = /^\/\/[^/]/.test(src)
    const absolute = /^https?:\/\//.test(src)
    const relative = !protocolRelative && !absolute
    const sameSite = protocolRelative || relative || registrableDomain(src) === siteDomain
    const sameOrigin = relative || (sameSite && !protocolRelative)
    const secureScheme =
      (absolute && new URL(src).protocol === 'https:') ||
      (relative && retrieval.sessionUrl.protocol === 'https:')
    if (!sameOrigin) {
      foreign = true
      external[src] = { integrity }
      if (integrity && !secureScheme)
        outcome = worse('sri-implemented-but-external-scripts-not-loaded-securely', outcome, sriOrder)
      else if (!integrity && secureScheme)
        outcome = worse('sri-not-implemented-but-external-scripts-loaded-securely', outcome, sriOrder)
      else if (!integrity && !secureScheme)
        outcome = worse('sri-not-implemented-and-external-scripts-not-loaded-securely', outcome, sriOrder)
    } else if (integrity && secureScheme && outcome === null) {
      // The bonus is granted for SRI even on same-origin scripts.
      outcome = 'sri-implemented-and-all-scripts-loaded-securely'
    }
  }
  if (scripts.length === 0) outcome = 'sri-not-implemented-but-no-scripts-loaded'
  outcome ??= foreign
    ? 'sri-implemented-and-external-scripts-loaded-securely'
    : 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin'
  const pass = [
    'sri-implemented-and-all-scripts-loaded-securely',
    'sri-implemented-and-external-scripts-loaded-securely',
    'sri-not-implemented-response-not-html',
    'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
    'sri-not-implemented-but-no-scripts-loaded',
  ].includes(outcome)
  return result(name, outcome, pass, external)
}

/**
 * A script's `src` as a DOM reports it for a page with no base URL (the Observatory's parser has
 * none): an absolute URL normalized, anything else (relative, protocol-relative) exactly as written.
 */
function scriptSource(raw: string | undefined): string {
  if (raw === undefined || raw === '') return ''
  try {
    return new URL(raw).href
  } catch {
    return raw
  }
}
