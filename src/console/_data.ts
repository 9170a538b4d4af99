/**
 * What the pages read from the tables the other capabilities write (the APM's route windows and
 * reports, the error store's events). Each read is bounded (a time window, a LIMIT) and uses the
 * tables' time indexes. A table not created yet (no request has been rolled up, no error
 * recorded) reads as empty rather than failing the page.
 */
import { type RouteStats, readRoutes } from '../db/index.js'
import type { QueryPool } from '../observe/index.js'

/** Rows of `sql`, or none when a table it reads does not exist yet (SQLSTATE 42P01). */
export async function rowsOf(
  pool: QueryPool,
  sql: string,
  values: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  try {
    return (await pool.query(sql, values)).rows
  } catch (error) {
    if ((error as { code?: string }).code === '42P01') return []
    throw error
  }
}

/** A route's figures over a window of several of the APM's minutes. */
export type RouteSummary = Pick<
  RouteStats,
  'method' | 'route' | 'requests' | 'throughput' | 'errorRate' | 'p50Ms' | 'p95Ms' | 'p99Ms' | 'nPlusOnes'
> & {
  /** Milliseconds of database time per request. */
  dbMs: number
  /** Queries per request. */
  queries: number
}

/**
 * Each route over the window since `since`, but the console's own (under its prefix, `console`): the
 * app's figures, not the operator's. Whole hours come from the APM's hourly rollup, the rest
 * from its per-minute windows; the percentiles are those of the windows' sketches merged
 * (exact to the sketch's 5%), not an average of each minute's.
 */
export async function routeSummaries(
  pool: QueryPool,
  console: string,
  since: number,
  until = Date.now(),
): Promise<RouteSummary[]> {
  const figures = await readRoutes((sql, values) => rowsOf(pool, sql, values), {
    since,
    until,
    byRoute: true,
    excludePrefix: console,
  })
  const seconds = Math.max(1, (until - since) / 1000)
  return figures.map((f) => ({
    method: f.method,
    route: f.route,
    requests: f.requests,
    throughput: f.requests / seconds,
    errorRate: f.errors / f.requests,
    p50Ms: f.latency.quantile(0.5),
    p95Ms: f.latency.quantile(0.95),
    p99Ms: f.latency.quantile(0.99),
    dbMs: f.dbMs / f.requests,
    queries: f.queries / f.requests,
    nPlusOnes: f.nPlusOnes,
  }))
}

/** Every route together (the console's own left out), per `bucketMs`: p95 and the error rate, oldest first. */
export async function trafficSeries(
  pool: QueryPool,
  console: string,
  since: number,
  bucketMs: number,
  filter?: { method: string; route: string },
): Promise<{ at: number; requests: number; p95Ms: number; errorRate: number }[]> {
  const figures = await readRoutes((sql, values) => rowsOf(pool, sql, values), {
    since,
    bucketMs,
    byRoute: false,
    filter,
    excludePrefix: console,
  })
  return figures.map((f) => ({
    at: f.at,
    requests: f.requests,
    p95Ms: f.latency.quantile(0.95),
    errorRate: f.errors / f.requests,
  }))
}

export interface Report {
  at: Date
  kind: string
  method: string
  route: string
  fingerprint: string
  fingerprintId: string
  callSite: string | null
  count: number
  ms: number
  requestId: string
  tags: Record<string, string>
}

/** The APM's reports of one kind since `since`, newest first, optionally of one route. */
export async function reports(
  pool: QueryPool,
  kind: 'n+1' | 'slow-query' | 'slow-request',
  since: number,
  filter?: { method: string; route: string },
  limit = 50,
): Promise<Report[]> {
  const rows = await rowsOf(
    pool,
    `SELECT at, kind, method, route, fingerprint, fingerprint_id, call_site, count, ms, request_id, tags
     FROM shipshape_apm_reports WHERE kind = $1 AND at > $2 AND ($3::text IS NULL OR (method = $3 AND route = $4))
     ORDER BY at DESC LIMIT $5`,
    [kind, new Date(since), filter?.method ?? null, filter?.route ?? null, limit],
  )
  return rows.map((row) => ({
    at: row.at as Date,
    kind: row.kind as string,
    method: row.method as string,
    route: row.route as string,
    fingerprint: row.fingerprint as string,
    fingerprintId: row.fingerprint_id as string,
    callSite: (row.call_site as string | null) ?? null,
    count: Number(row.count),
    ms: Number(row.ms),
    requestId: row.request_id as string,
    tags: (row.tags as Record<string, string> | null) ?? {},
  }))
}

/** Events per hour of each issue over the last 24 h (the sparklines), by issue id. */
export async function issueHours(pool: QueryPool, now: number): Promise<Map<string, number[]>> {
  const since = now - 86_400_000
  const rows = await rowsOf(
    pool,
    `SELECT issue_id, floor((extract(epoch FROM received_at) * 1000 - $2) / 3600000)::int AS hour, count(*) AS n
     FROM shipshape_events WHERE received_at > $1 GROUP BY issue_id, hour`,
    [new Date(since), since],
  )
  const hours = new Map<string, number[]>()
  for (const row of rows) {
    const id = row.issue_id as string
    const series = hours.get(id) ?? Array.from({ length: 24 }, () => 0)
    const hour = Math.min(23, Math.max(0, Number(row.hour)))
    series[hour] = (series[hour] ?? 0) + Number(row.n)
    hours.set(id, series)
  }
  return hours
}

export interface IssueRow {
  id: string
  title: string
  culprit: string
  level: string
  status: string
  firstSeen: Date
  lastSeen: Date
  count: number
  release: string | null
  /** It was resolved, and came back. */
  regressed: boolean
  resolvedIn: string | null
}

/** Issues seen since `since`, most recent first: with the latest event's release and the regression mark. */
/** The latest issues; with `tag`, only those with an event carrying that tag value. */
export async function issueRows(
  pool: QueryPool,
  limit = 200,
  tag?: { key: string; value: string },
): Promise<IssueRow[]> {
  const rows = await rowsOf(
    pool,
    `SELECT id, title, culprit, level, status, first_seen, last_seen, count, resolved_in,
       latest_event->>'release' AS release, (resolved_at IS NOT NULL AND status = 'unresolved') AS regressed
     FROM shipshape_issues i
     WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM shipshape_issue_tags t WHERE t.issue_id = i.id AND t.key = $2 AND t.value = $3)
     ORDER BY last_seen DESC LIMIT $1`,
    [limit, tag?.key ?? null, tag?.value ?? null],
  )
  return rows.map((row) => ({
    id: row.id as string,
    title: row.title as string,
    culprit: row.culprit as string,
    level: row.level as string,
    status: row.status as string,
    firstSeen: row.first_seen as Date,
    lastSeen: row.last_seen as Date,
    count: Number(row.count),
    release: (row.release as string | null) ?? null,
    regressed: row.regressed === true,
    resolvedIn: (row.resolved_in as string | null) ?? null,
  }))
}
