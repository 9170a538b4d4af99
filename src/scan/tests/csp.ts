/**
 * The MDN HTTP Observatory's Content-Security-Policy test (mdn/mdn-http-observatory, src/analyzer/tests/).
 */
import { type CspDirectives, parseCsp, parseMetaCsp } from '../_csp-parser.js'
import { firstHeader, type HttpEquiv, headerValues, result } from '../_responses.js'
import type { Expectation, Retrieval, TestResult } from '../types.js'

const dangerouslyBroad = new Set([
  'ftp:',
  'http:',
  'https:',
  '*',
  'http://*',
  'http://*.*',
  'https://*',
  'https://*.*',
])
const unsafeInline = new Set(["'unsafe-inline'", 'data:'])
const broadOrInline = new Set([...dangerouslyBroad, ...unsafeInline])
const passiveDirectives = ['img-src', 'media-src']
const nonceOrHashPrefixes = ["'sha256-", "'sha384-", "'sha512-", "'nonce-"]

const hasNonceOrHash = (sources: Set<string>) =>
  [...sources].some((source) => nonceOrHashPrefixes.some((prefix) => source.startsWith(prefix)))

export interface CspData {
  directives: Record<string, string[]>
  numPolicies: number
  http: boolean
  meta: boolean
}

export function contentSecurityPolicyTest(retrieval: Retrieval, equiv: HttpEquiv): TestResult {
  const name = 'content-security-policy'
  const headerPolicies = headerValues(retrieval.auto, 'content-security-policy')
  const numPolicies = headerPolicies.length + equiv.csp.length
  if (retrieval.auto === null) return result(name, 'csp-not-implemented', false)
  let combined: ReturnType<typeof parseCsp>
  try {
    combined = parseCsp([...headerPolicies, ...equiv.csp])
  } catch {
    return result(name, 'csp-header-invalid', false, { numPolicies })
  }
  const headerOnly = tryParse(() => parseCsp(headerPolicies).directives)
  const metaOnly = tryParse(() => parseMetaCsp(equiv.csp).directives)
  if (headerOnly.size + metaOnly.size === 0) {
    const reportOnly = firstHeader(retrieval.auto, 'content-security-policy-report-only')
    return result(
      name,
      reportOnly ? 'csp-not-implemented-but-reporting-enabled' : 'csp-not-implemented',
      false,
      { numPolicies },
    )
  }
  const csp = combined.directives
  // Fallbacks share the Set with default-src on purpose: the Observatory's clean-up of
  // 'unsafe-inline' next to a nonce applies to default-src too when it stands in.
  const objectSrc = csp.get('object-src') ?? csp.get('default-src') ?? new Set(['*'])
  const scriptSrc = csp.get('script-src') ?? csp.get('default-src') ?? new Set(['*'])
  const styleSrc = csp.get('style-src') ?? csp.get('default-src') ?? new Set(['*'])
  // 'unsafe-inline' is ignored by browsers when a nonce or hash is present.
  for (const sources of [scriptSrc, styleSrc]) {
    if (hasNonceOrHash(sources)) sources.delete("'unsafe-inline'")
  }
  let outcome: Expectation | null = null
  if (scriptSrc.has("'strict-dynamic'")) {
    if (hasNonceOrHash(scriptSrc)) {
      // With 'strict-dynamic', browsers ignore host and scheme sources, 'self' and 'unsafe-inline'.
      for (const source of [...scriptSrc]) {
        if (
          [...dangerouslyBroad].some((broad) => source.startsWith(broad)) ||
          source === "'self'" ||
          source === "'unsafe-inline'"
        )
          scriptSrc.delete(source)
      }
    } else {
      outcome = 'csp-header-invalid'
    }
  }
  const activeSources = [
    ...[...csp.entries()]
      .filter(([directive]) => !passiveDirectives.includes(directive) && directive !== 'script-src')
      .flatMap(([, sources]) => [...sources]),
    ...scriptSrc,
  ]
  const passiveSources = passiveDirectives.flatMap((directive) => [
    ...(csp.get(directive) ?? csp.get('default-src') ?? []),
  ])
  const secureSite = retrieval.sessionUrl.protocol === 'https:'
  const insecure = (source: string) => source.startsWith('http:') || source.startsWith('ftp:')
  if (
    [...scriptSrc].some((source) => broadOrInline.has(source)) ||
    [...objectSrc].some((source) => dangerouslyBroad.has(source))
  )
    outcome ??= 'csp-implemented-with-unsafe-inline'
  if (secureSite && activeSources.some(insecure)) outcome ??= 'csp-implemented-with-insecure-scheme'
  if (scriptSrc.has("'unsafe-eval'") || styleSrc.has("'unsafe-eval'"))
    outcome ??= 'csp-implemented-with-unsafe-eval'
  if (secureSite && passiveSources.some(insecure))
    outcome ??= 'csp-implemented-with-insecure-scheme-in-passive-content-only'
  if ([...styleSrc].some((source) => broadOrInline.has(source)))
    outcome ??= 'csp-implemented-with-unsafe-inline-in-style-src-only'
  const defaultSrc = csp.get('default-src')
  outcome ??=
    defaultSrc?.has("'none'") && defaultSrc.size === 1
      ? 'csp-implemented-with-no-unsafe-default-src-none'
      : 'csp-implemented-with-no-unsafe'
  const passing: Expectation[] = [
    'csp-implemented-with-no-unsafe',
    'csp-implemented-with-no-unsafe-default-src-none',
    'csp-implemented-with-unsafe-inline-in-style-src-only',
    'csp-implemented-with-insecure-scheme-in-passive-content-only',
  ]
  const pass = passing.includes(outcome)
  if (pass && combined.duplicates.size > 0) outcome = 'csp-implemented-but-duplicate-directives'
  const data: CspData = {
    directives: Object.fromEntries([...csp].map(([directive, sources]) => [directive, [...sources].sort()])),
    numPolicies,
    http: headerPolicies.length > 0,
    meta: equiv.csp.length > 0,
  }
  return result(name, outcome, pass, data)
}

function tryParse(parse: () => CspDirectives): CspDirectives {
  try {
    return parse()
  } catch {
    return new Map()
  }
}
