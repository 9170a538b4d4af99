/**
 * The APM's tables, created on first use: each worker's per-route windows (kept `retentionDays`),
 * each with its latency sketch's non-empty buckets (`latency_index`, `latency_count`: about 40
 * of each for a route whose requests span 1–100 ms) so that windows merge into exact percentiles
 * (the hourly rollup, _rollup.ts, whose tables are made here too); the index hints (one row per
 * table and columns, with when it was first and last seen); the reports and the plans.
 * Every statement here runs through the pool uncounted, outside any request.
 */
import { hostname } from 'node:os'
import type { InternalQuery } from './_instrument.js'
import type { WindowStats } from './_routes.js'

export const routesTable = 'shipshape_apm_routes'
/** The hourly rollup of routesTable (_rollup.ts), and its mark: every hour before it is rolled. */
export const hoursTable = 'shipshape_apm_route_hours'
export const rollupMarkTable = 'shipshape_apm_rollup'
export const hintsTable = 'shipshape_apm_index_hints'
/** N+1 loops, slow queries and slow requests, each with its route and call site (the ops console reads them). */
const reportsTable = 'shipshape_apm_reports'
/** The latest plan of each slow query's fingerprint. */
const plansTable = 'shipshape_apm_plans'

const schema = [
  `CREATE TABLE IF NOT EXISTS ${routesTable} (
    window_start timestamptz NOT NULL, window_end timestamptz NOT NULL, host text NOT NULL, pid integer NOT NULL,
    method text NOT NULL, route text NOT NULL, requests integer NOT NULL, throughput double precision NOT NULL,
    error_rate double precision NOT NULL, p50_ms double precision NOT NULL, p95_ms double precision NOT NULL,
    p99_ms double precision NOT NULL, mean_ms double precision NOT NULL, db_share double precision NOT NULL,
    mean_queries double precision NOT NULL, n_plus_ones integer NOT NULL,
    latency_index smallint[], latency_count integer[])`,
  // Tables made before the sketch was stored: their old rows count in requests, errors and
  // database time, but not in the percentiles (they have no buckets to merge).
  `ALTER TABLE ${routesTable} ADD COLUMN IF NOT EXISTS latency_index smallint[]`,
  `ALTER TABLE ${routesTable} ADD COLUMN IF NOT EXISTS latency_count integer[]`,
  `CREATE INDEX IF NOT EXISTS ${routesTable}_window_end ON ${routesTable} (window_end)`,
  `CREATE TABLE IF NOT EXISTS ${hintsTable} (
    schema_name text NOT NULL, table_name text NOT NULL, columns text[] NOT NULL, statement text NOT NULL,
    table_rows bigint NOT NULL, fingerprint text NOT NULL, fingerprint_id text NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT now(), last_seen timestamptz NOT NULL DEFAULT now(),
    seen integer NOT NULL DEFAULT 1, PRIMARY KEY (schema_name, table_name, columns))`,
  `CREATE TABLE IF NOT EXISTS ${reportsTable} (
    at timestamptz NOT NULL, kind text NOT NULL, method text NOT NULL, route text NOT NULL,
    fingerprint text NOT NULL, fingerprint_id text NOT NULL, call_site text, count integer NOT NULL,
    ms double precision NOT NULL, request_id text NOT NULL, host text NOT NULL, tags jsonb)`,
  `ALTER TABLE ${reportsTable} ADD COLUMN IF NOT EXISTS tags jsonb`,
  `CREATE INDEX IF NOT EXISTS ${reportsTable}_at ON ${reportsTable} (at)`,
  `CREATE TABLE IF NOT EXISTS ${plansTable} (
    fingerprint_id text PRIMARY KEY, fingerprint text NOT NULL, plan jsonb NOT NULL, at timestamptz NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS ${hoursTable} (
    hour timestamptz NOT NULL, method text NOT NULL, route text NOT NULL, requests bigint NOT NULL,
    errors double precision NOT NULL, sum_ms double precision NOT NULL, db_ms double precision NOT NULL,
    queries double precision NOT NULL, n_plus_ones bigint NOT NULL, latency_index smallint[], latency_count bigint[],
    PRIMARY KEY (hour, method, route))`,
  `CREATE TABLE IF NOT EXISTS ${rollupMarkTable} (id boolean PRIMARY KEY DEFAULT true CHECK (id), rolled_until timestamptz NOT NULL)`,
]

/**
 * What the APM found in one request: an N+1 loop (`count` runs of one fingerprint), a slow query,
 * or a slow request (`count` queries in all). Never a query's parameters, never a request body.
 */
export interface ApmReport {
  at: Date
  kind: 'n+1' | 'slow-query' | 'slow-request'
  method: string
  route: string
  fingerprint: string
  fingerprintId: string
  callSite: string | undefined
  count: number
  ms: number
  requestId: string
  /** The app's tags on the request (setTag), and the worker's. */
  tags?: Record<string, string>
}

export interface IndexHint {
  schema: string
  table: string
  columns: string[]
  statement: string
  tableRows: number
  fingerprint: string
  fingerprintId: string
}

export class ApmStore {
  private ready: Promise<void> | undefined
  constructor(private readonly internal: InternalQuery) {}

  /** Creates the tables once per store; two workers racing on CREATE … IF NOT EXISTS may see a duplicate, which is success. */
  migrate(): Promise<void> {
    this.ready ??= this.internal(async (query) => {
      for (const statement of schema) {
        try {
          await query(statement)
        } catch (error) {
          if (!['23505', '42P07'].includes((error as { code?: string }).code ?? '')) throw error
        }
      }
    }).catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  async writeRoutes(since: Date, until: Date, stats: WindowStats[], retentionDays: number): Promise<void> {
    await this.migrate()
    await this.internal(async (query) => {
      if (stats.length > 0) {
        const columns = 18
        const values: unknown[] = []
        const rows = stats.map((s, i) => {
          const { index, count } = s.latency.sparse()
          values.push(since, until, hostname(), process.pid, s.method, s.route, s.requests, s.throughput)
          values.push(s.errorRate, s.p50Ms, s.p95Ms, s.p99Ms, s.meanMs, s.dbShare, s.meanQueries, s.nPlusOnes)
          values.push(index, count)
          return `(${Array.from({ length: columns }, (_, j) => `$${i * columns + j + 1}`).join(', ')})`
        })
        await query(`INSERT INTO ${routesTable} VALUES ${rows.join(', ')}`, values)
      }
      await query(`DELETE FROM ${routesTable} WHERE window_end < now() - make_interval(days => $1)`, [
        retentionDays,
      ])
    })
  }

  /** Appends a window's reports; the oldest past the retention go, and at most `maxRows` stay. */
  async writeReports(reports: readonly ApmReport[], retentionDays: number, maxRows: number): Promise<void> {
    if (reports.length === 0) return
    await this.migrate()
    await this.internal(async (query) => {
      await query(
        `INSERT INTO ${reportsTable} SELECT r.at, r.kind, r.method, r.route, r.fingerprint, r.fingerprint_id,
           r.call_site, r.count, r.ms, r.request_id, $2, r.tags
         FROM jsonb_to_recordset($1::jsonb) AS r(at timestamptz, kind text, method text, route text,
           fingerprint text, fingerprint_id text, call_site text, count integer, ms double precision, request_id text,
           tags jsonb)`,
        [
          JSON.stringify(
            reports.map((r) => ({
              at: r.at.toISOString(),
              kind: r.kind,
              method: r.method,
              route: r.route,
              fingerprint: r.fingerprint,
              fingerprint_id: r.fingerprintId,
              call_site: r.callSite ?? null,
              count: r.count,
              ms: r.ms,
              request_id: r.requestId,
              tags: r.tags ?? null,
            })),
          ),
          hostname(),
        ],
      )
      await query(`DELETE FROM ${reportsTable} WHERE at < now() - make_interval(days => $1)`, [retentionDays])
      await query(
        `DELETE FROM ${reportsTable} WHERE at < (SELECT at FROM ${reportsTable} ORDER BY at DESC OFFSET $1 LIMIT 1)`,
        [maxRows],
      )
    })
  }

  async savePlan(fingerprintId: string, fingerprint: string, plan: unknown): Promise<void> {
    await this.migrate()
    await this.internal((query) =>
      query(
        `INSERT INTO ${plansTable} (fingerprint_id, fingerprint, plan, at) VALUES ($1, $2, $3, now())
         ON CONFLICT (fingerprint_id) DO UPDATE SET plan = EXCLUDED.plan, at = now()`,
        [fingerprintId, fingerprint, JSON.stringify(plan)],
      ),
    )
  }

  async saveHint(hint: IndexHint): Promise<void> {
    await this.migrate()
    await this.internal((query) =>
      query(
        `INSERT INTO ${hintsTable} (schema_name, table_name, columns, statement, table_rows, fingerprint, fingerprint_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (schema_name, table_name, columns) DO UPDATE
         SET last_seen = now(), seen = ${hintsTable}.seen + 1, table_rows = EXCLUDED.table_rows,
             fingerprint = EXCLUDED.fingerprint, fingerprint_id = EXCLUDED.fingerprint_id`,
        [
          hint.schema,
          hint.table,
          hint.columns,
          hint.statement,
          hint.tableRows,
          hint.fingerprint,
          hint.fingerprintId,
        ],
      ),
    )
  }
}
