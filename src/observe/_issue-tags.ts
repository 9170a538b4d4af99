/**
 * Each issue's events counted per tag value (shipshape_issue_tags, made with the store's other
 * tables): written with every occurrence, read by the ops console's issue page as shares.
 */
import type { QueryPool } from './_store.js'

export interface TagCount {
  key: string
  value: string
  count: number
}

/** An issue's most frequent values per tag key (`values` at most per key), with their events. */
export type TagDistribution = { key: string; total: number; values: { value: string; count: number }[] }[]

/** Distinct values counted per tag key per issue; later new ones are counted together as `(other)`. */
const maxTagValues = 100

/** Adds an occurrence's tag counts to issue `issue`'s. */
export async function countTags(
  pool: QueryPool,
  issue: string,
  tags: readonly TagCount[],
  at: Date,
): Promise<void> {
  if (tags.length === 0) return
  await pool.query(
    // A key keeps its first maxTagValues values (a write's new ones by count); later new ones
    // are counted together as `(other)`: a tag with a value per event (an id passed to
    // captureError) cannot grow the table without bound.
    `WITH u AS (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(key, value, count)),
       known AS (SELECT key, value FROM shipshape_issue_tags WHERE issue_id = $1 AND key IN (SELECT key FROM u)),
       room AS (SELECT k.key, $6 - count(known.value) AS left_over FROM (SELECT DISTINCT key FROM u) k
         LEFT JOIN known USING (key) GROUP BY k.key),
       ranked AS (SELECT u.key, u.value, u.count, known.value IS NOT NULL AS seen,
         row_number() OVER (PARTITION BY u.key, known.value IS NULL ORDER BY u.count DESC, u.value) AS n
         FROM u LEFT JOIN known USING (key, value)),
       kept AS (SELECT r.key, CASE WHEN r.seen OR r.n <= room.left_over THEN r.value ELSE '(other)' END AS value, r.count
         FROM ranked r JOIN room USING (key))
     INSERT INTO shipshape_issue_tags AS t (issue_id, key, value, count, last_seen)
     SELECT $1, key, value, sum(count), $5 FROM kept GROUP BY key, value
     ON CONFLICT (issue_id, key, value) DO UPDATE SET count = t.count + excluded.count, last_seen = greatest(t.last_seen, excluded.last_seen)`,
    [
      issue,
      tags.map((tag) => tag.key),
      tags.map((tag) => tag.value),
      tags.map((tag) => tag.count),
      at,
      maxTagValues,
    ],
  )
}

/** Issue `id`'s tags: per key its events in all and its `perKey` most frequent values, keys by name. */
export async function issueTags(pool: QueryPool, id: string, perKey: number): Promise<TagDistribution> {
  const { rows } = await pool.query(
    `SELECT key, value, count, total FROM (
       SELECT key, value, count, sum(count) OVER (PARTITION BY key) AS total,
         row_number() OVER (PARTITION BY key ORDER BY count DESC, value) AS n
       FROM shipshape_issue_tags WHERE issue_id = $1) ranked
     WHERE n <= $2 ORDER BY key, count DESC, value`,
    [id, perKey],
  )
  const keys = new Map<string, TagDistribution[number]>()
  for (const row of rows) {
    const key = row.key as string
    const entry = keys.get(key) ?? { key, total: Number(row.total), values: [] }
    keys.set(key, entry)
    entry.values.push({ value: row.value as string, count: Number(row.count) })
  }
  return [...keys.values()]
}
