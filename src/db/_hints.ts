/**
 * Index hints from EXPLAIN plans: a sequential scan that filters rows of a large table is the
 * classic missing index. The columns come from the scan's Filter (the columns compared there);
 * the suggestion is the `CREATE INDEX CONCURRENTLY` a person then judges (it locks no writes,
 * but takes longer and cannot run inside a transaction).
 */

/** A sequential scan with a filter, found in a plan. */
export interface FilteredScan {
  schema: string
  table: string
  columns: string[]
}

interface PlanNode {
  'Node Type'?: string
  'Relation Name'?: string
  Schema?: string
  Filter?: string
  Plans?: PlanNode[]
}

/** Every filtered Seq Scan in the plan of `EXPLAIN (FORMAT JSON, VERBOSE)`, with the columns its filter compares. */
export function filteredScans(plan: unknown): FilteredScan[] {
  const found: FilteredScan[] = []
  const visit = (node: PlanNode | undefined) => {
    if (node === undefined || node === null) return
    if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] && node.Filter) {
      const columns = filterColumns(node.Filter)
      if (columns.length > 0)
        found.push({ schema: node.Schema ?? 'public', table: node['Relation Name'], columns })
    }
    for (const child of node.Plans ?? []) visit(child)
  }
  const top = Array.isArray(plan) ? (plan[0] as { Plan?: PlanNode } | undefined)?.Plan : undefined
  visit(top)
  return found
}

/** Most useful composite indexes have few columns; past three a hint is more guess than help. */
const maxColumns = 3
const compared =
  /(?:^|[\s(])(?:[a-z_][a-z0-9_]*\.)?("(?:[^"]|"")+"|[a-z_][a-z0-9_]*)\)?(?:::[a-z][a-z0-9 _]*?)?\s*(?:=|<>|!=|<=|>=|<|>|~~\*?|!~~|\bIS\b)/gi

/** The columns a Filter compares, first seen first: `((posts.author_id = 42) AND (status = 'x'::text))` → author_id, status. */
export function filterColumns(filter: string): string[] {
  const columns: string[] = []
  for (const match of filter.matchAll(compared)) {
    const column = (match[1] as string).replace(/^"|"$/g, '').replace(/""/g, '"')
    if (/^(and|or|not|true|false|null)$/i.test(column)) continue
    if (!columns.includes(column)) columns.push(column)
    if (columns.length === maxColumns) break
  }
  return columns
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`

export function indexStatement(scan: FilteredScan): string {
  return `CREATE INDEX CONCURRENTLY ON ${quote(scan.schema)}.${quote(scan.table)} (${scan.columns.map(quote).join(', ')});`
}
