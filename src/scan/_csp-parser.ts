/**
 * Content-Security-Policy parsing as the MDN HTTP Observatory reads it, so that `shipshape scan`
 * grades a policy exactly as MDN's scanner does. Several policies (headers and <meta> tags) are
 * intersected: a source counts only when every policy that names the directive allows it.
 */

/** Directives a <meta http-equiv> policy may not set; browsers ignore them there. */
const metaDisallowed = ['frame-ancestors', 'report-uri', 'sandbox']
/** Directives that may repeat without making the policy invalid (reported as a warning). */
const repeatable = new Set(['report-uri', 'report-to'])
/** The shortest policy the Observatory accepts is one directive as long as `img-src` minus one. */
const shortestPolicy = 'img-src'.length - 1

/** Parsed policy: directive → its sources, lower-cased. */
export type CspDirectives = Map<string, Set<string>>

export interface ParsedCsp {
  directives: CspDirectives
  /** Repeatable directives (report-uri, report-to) that appeared more than once in one policy. */
  duplicates: Set<string>
}

class CspSyntaxError extends Error {}

interface Source {
  source: string
  policy: number
  keep: boolean
}

const collate = new Intl.Collator('en').compare

/**
 * Parses and intersects a list of policies. Throws CspSyntaxError for an empty or too-short
 * policy or a repeated directive, as the Observatory counts those as an invalid header.
 */
export function parseCsp(policies: readonly string[]): ParsedCsp {
  const cleaned = policies.map((policy) => policy.replaceAll(/[\r\n]/g, '').trim())
  const duplicates = new Set<string>()
  if (cleaned.length === 0) return { directives: new Map(), duplicates }
  for (const policy of cleaned) {
    if (policy.length < shortestPolicy)
      throw new CspSyntaxError(`policy too short: ${JSON.stringify(policy)}`)
  }
  const merged = new Map<string, Source[]>()
  for (const [index, policy] of cleaned.entries()) {
    const seen = new Set<string>()
    for (const [name, ...tokens] of policy.split(';').map((entry) => entry.trim().split(/\s+/))) {
      if (!name) continue
      const directive = name.toLowerCase()
      if (seen.has(directive)) {
        if (!repeatable.has(directive)) throw new CspSyntaxError(`directive ${directive} repeated`)
        duplicates.add(directive)
      }
      seen.add(directive)
      // Sources from later policies count only where they match a source of an earlier one.
      const keep = index === 0
      const sources: Source[] = tokens.map((token) => ({
        source: token.trim().toLocaleLowerCase(),
        policy: index,
        keep,
      }))
      // A source directive with no sources allows nothing.
      if (tokens.length === 0 && directive.endsWith('-src'))
        sources.push({ source: "'none'", policy: index, keep })
      const combined = index === 0 ? sources : [...(merged.get(directive) ?? []), ...sources]
      combined.sort((a, b) => collate(a.source, b.source))
      for (let i = 1; i < combined.length; i++) {
        const source = combined[i] as Source
        const previous = combined[i - 1] as Source
        // Within one policy the longer of two sources sharing a prefix adds nothing.
        if (source.policy === previous.policy && source.source.startsWith(previous.source))
          source.keep = false
        // Across policies, a source survives only when both policies allow it.
        if (source.policy !== previous.policy && pathPartMatch(previous.source, source.source))
          source.keep = true
      }
      merged.set(
        directive,
        combined.filter((source) => source.keep),
      )
      if (index === 0 && policies.length > 1) {
        for (const source of merged.get(directive) ?? []) source.keep = false
      }
    }
  }
  const directives: CspDirectives = new Map()
  for (const [directive, sources] of merged) {
    directives.set(
      directive,
      sources.length > 0 ? new Set(sources.map((source) => source.source)) : new Set(["'none'"]),
    )
  }
  return { directives, duplicates }
}

/** The policies from <meta http-equiv> tags, without the directives browsers ignore there. */
export function parseMetaCsp(policies: readonly string[]): ParsedCsp {
  const parsed = parseCsp(policies)
  for (const directive of metaDisallowed) parsed.directives.delete(directive)
  return parsed
}

/** Whether source `b` lies within source `a`, path segment by path segment. */
function pathPartMatch(a: string, b: string): boolean {
  if (a.length === 0) return true
  if (a === '/' && b.length === 0) return true
  const exact = !a.endsWith('/')
  const partsA = a.split('/')
  const partsB = b.split('/')
  if (partsA.length > partsB.length) return false
  if (exact && partsA.length !== partsB.length) return false
  if (!exact) partsA.pop()
  return partsA.every((part, i) => decodeURIComponent(part) === decodeURIComponent(partsB[i] as string))
}
