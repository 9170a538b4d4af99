/**
 * Finding the references one static file makes to others: CSS `url()`, `@import` and
 * sourceMappingURL comments; JS sourceMappingURL comments and relative ES module specifiers
 * (`import`, `export … from`, `import()`). Each reference is a span of the source to replace.
 */
import { init, parse } from 'es-module-lexer'

export interface Reference {
  /** The span of the source holding the reference as written, without quotes. */
  start: number
  end: number
  /** The reference as written (`../img/logo.png?#iefix`). */
  value: string
  /** True for sourceMappingURL comments: a missing map can be a warning instead of an error. */
  sourceMap: boolean
}

export type ReferenceKind = 'css' | 'js'

export function referenceKind(name: string): ReferenceKind | undefined {
  if (name.endsWith('.css')) return 'css'
  if (name.endsWith('.js') || name.endsWith('.mjs')) return 'js'
  return undefined
}

/** Loads the JS lexer (a small WebAssembly module) once, before the first `findReferences`. */
export const ready: Promise<void> = init

/**
 * References worth resolving: not `data:`, not another scheme (`https:`), not protocol-relative
 * (`//cdn`), not a `#fragment` on its own, not empty, not a template placeholder.
 */
function isLocal(value: string): boolean {
  return (
    value !== '' &&
    !value.startsWith('#') &&
    !value.startsWith('//') &&
    !/^[a-z][a-z0-9+.-]*:/i.test(value) &&
    !/[{}<>$\s]/.test(value)
  )
}

const cssComment = /\/\*[\s\S]*?\*\//g
const cssUrl = /\burl\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)/dgi
const cssImport = /@import\s+(?:"([^"]*)"|'([^']*)')/dgi
const sourceMapComment = /(?:\/\*|\/\/)[#@]\s*sourceMappingURL=([^\s*]+)/dg

export function findReferences(
  kind: ReferenceKind,
  source: string,
): { references: Reference[]; problem?: string } {
  return kind === 'css' ? { references: cssReferences(source) } : jsReferences(source)
}

function cssReferences(source: string): Reference[] {
  const comments: [number, number][] = []
  for (const match of source.matchAll(cssComment)) comments.push([match.index, match.index + match[0].length])
  const inComment = (position: number) => comments.some(([start, end]) => position >= start && position < end)
  const references: Reference[] = []
  for (const pattern of [cssUrl, cssImport]) {
    for (const match of source.matchAll(pattern)) {
      if (inComment(match.index)) continue
      const group = match[1] !== undefined ? 1 : match[2] !== undefined ? 2 : 3
      const [start, end] = (match.indices as RegExpIndicesArray)[group] as [number, number]
      const value = source.slice(start, end)
      if (isLocal(value)) references.push({ start, end, value, sourceMap: false })
    }
  }
  references.push(...sourceMaps(source))
  return references.sort((a, b) => a.start - b.start)
}

function sourceMaps(source: string): Reference[] {
  const references: Reference[] = []
  for (const match of source.matchAll(sourceMapComment)) {
    const [start, end] = (match.indices as RegExpIndicesArray)[1] as [number, number]
    const value = source.slice(start, end)
    if (isLocal(value)) references.push({ start, end, value, sourceMap: true })
  }
  return references
}

/** Relative specifiers only: bare ones (`react`) are resolved by an import map or a bundler, not by us. */
function jsReferences(source: string): { references: Reference[]; problem?: string } {
  let imports: ReturnType<typeof parse>[0]
  try {
    imports = parse(source)[0]
  } catch (error) {
    return { references: sourceMaps(source), problem: `its imports could not be read (${error})` }
  }
  const references: Reference[] = []
  for (const specifier of imports) {
    if (specifier.n === undefined || specifier.s < 0) continue
    let start = specifier.s
    let end = specifier.e
    const quote = source[start]
    if (quote === '"' || quote === "'" || quote === '`') {
      start++
      end--
    }
    const value = source.slice(start, end)
    // An escaped specifier (`'./\u0061.js'`) is left as it is: rewriting it would mean re-escaping.
    if (value !== specifier.n) continue
    if ((value.startsWith('./') || value.startsWith('../') || value.startsWith('/')) && isLocal(value)) {
      references.push({ start, end, value, sourceMap: false })
    }
  }
  references.push(...sourceMaps(source))
  return { references: references.sort((a, b) => a.start - b.start) }
}
