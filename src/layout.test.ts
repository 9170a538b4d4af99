/**
 * The layout DESIGN.md states, checked on the source itself: a capability reaches another only
 * through that one's public modules (never a private `_` module), the folders import each other
 * without a cycle (no upward arrow), and no module is part of an import cycle. Type-only imports
 * count for the first rule but not for cycles, since they vanish at run time.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const src = dirname(new URL(import.meta.url).pathname)

interface Import {
  from: string
  to: string
  typeOnly: boolean
}

/** Every relative import of runtime code (tests and `_test/` helpers left out), resolved to a .ts file. */
function runtimeImports(): Import[] {
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.split('/').includes('_test'),
  )
  // No quote inside a statement's match: an import from a package (`import pino from 'pino'`, no
  // semicolon) must not run on into the next line's relative import and lend it its `type`-less head.
  const statement = /^(import|export)\s+(type\s+)?[^;'"]*?from\s+'(\.{1,2}\/[^']+)'/gms
  return files.flatMap((file) =>
    [...readFileSync(join(src, file), 'utf8').matchAll(statement)].map((match) => ({
      from: file,
      to: relative(src, resolve(src, dirname(file), (match[3] as string).replace(/\.js$/, '.ts'))),
      typeOnly: match[2] !== undefined,
    })),
  )
}

/** The first cycle found in a graph, as the path that closes it, or undefined. */
function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const done = new Set<string>()
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (path.includes(node)) return [...path.slice(path.indexOf(node)), node]
    if (done.has(node)) return undefined
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next, [...path, node])
      if (cycle) return cycle
    }
    done.add(node)
    return undefined
  }
  for (const node of edges.keys()) {
    const cycle = visit(node, [])
    if (cycle) return cycle
  }
  return undefined
}

function graph(pairs: Array<[string, string]>): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>()
  for (const [from, to] of pairs) edges.set(from, (edges.get(from) ?? new Set()).add(to))
  return edges
}

const folderOf = (file: string) => (file.includes('/') ? (file.split('/')[0] as string) : '.')
const imports = runtimeImports()

describe('the source layout', () => {
  it('finds the imports it checks', () => {
    // Guards the rules below against a pattern that silently matches nothing.
    expect(imports.length).toBeGreaterThan(200)
    expect(imports.some((i) => i.typeOnly)).toBe(true)
  })

  it("never imports another folder's private module", () => {
    const crossing = imports.filter(
      (i) => folderOf(i.from) !== folderOf(i.to) && i.to.split('/').some((part) => part.startsWith('_')),
    )
    expect(crossing.map((i) => `${i.from} → ${i.to}`)).toEqual([])
  })

  it('has no cycle between folders', () => {
    const between = imports
      .filter((i) => !i.typeOnly && folderOf(i.from) !== folderOf(i.to) && folderOf(i.to) !== '.')
      .map((i): [string, string] => [folderOf(i.from), folderOf(i.to)])
    expect(findCycle(graph(between))).toBeUndefined()
  })

  it('has no cycle between modules', () => {
    const runtime = imports.filter((i) => !i.typeOnly).map((i): [string, string] => [i.from, i.to])
    expect(findCycle(graph(runtime))).toBeUndefined()
  })
})
