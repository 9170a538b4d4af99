/**
 * Background EXPLAINs of slow queries, at most once per fingerprint per interval: the plan is
 * asked for (never EXPLAIN ANALYZE, so nothing runs), only for plain SELECTs, with a short
 * statement timeout, and read for index hints. The plan is a generic one: the slow query's
 * parameters are never sent again, logged or stored.
 */
import type { Logger } from '../observe/index.js'
import type { IndexHint } from './_apm-store.js'
import type { Fingerprint } from './_fingerprint.js'
import { filteredScans, indexStatement } from './_hints.js'
import type { InternalQuery } from './_instrument.js'

export interface ExplainOptions {
  intervalMs: number
  /** Tables with fewer rows (pg_class.reltuples; the live-tuple count if never analysed) get no hint: a scan of them is cheap. */
  hintMinRows: number
  logger: Logger
  onHint(hint: IndexHint): Promise<void>
  /** The plan of a slow query, stored for the ops console's Database page. */
  onPlan(fingerprintId: string, fingerprint: string, plan: unknown): Promise<void>
}

/** How many fingerprints' last EXPLAIN times are remembered; an older one may be explained again early. */
const remembered = 1000
/** The session-level prepared statement an EXPLAIN uses, deallocated straight after. */
const statementName = 'shipshape_apm_explain'
/** An EXPLAIN plans, it does not run: a planner that takes this long is stuck on locks. */
const explainTimeoutMs = 2000

export class Explainer {
  private readonly last = new Map<string, number>()
  private readonly running = new Set<Promise<void>>()
  constructor(
    private readonly internal: InternalQuery,
    private readonly options: ExplainOptions,
  ) {}

  /** Explains `sql` in the background if it is a plain SELECT not explained within the interval. */
  consider(fingerprint: Fingerprint, sql: string): void {
    if (fingerprint.operation !== 'select' || /\b(insert|update|delete|merge|into)\b/.test(fingerprint.text))
      return
    const now = Date.now()
    const last = this.last.get(fingerprint.id)
    if (last !== undefined && now - last < this.options.intervalMs) return
    if (this.last.size >= remembered) this.last.clear()
    this.last.set(fingerprint.id, now)
    const task = this.explain(fingerprint, sql).catch((error: unknown) => {
      this.options.logger.warn(
        { err: error, fingerprint: fingerprint.text, fingerprintId: fingerprint.id },
        'could not EXPLAIN a slow query',
      )
    })
    this.running.add(task)
    void task.finally(() => this.running.delete(task))
  }

  /** Resolves once every EXPLAIN started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.running)
  }

  private async explain(fingerprint: Fingerprint, sql: string): Promise<void> {
    const hints: IndexHint[] = []
    let plan: unknown
    // A generic plan (as EXPLAIN (GENERIC_PLAN) gives from Postgres 16, done here the way that
    // works on older ones too): the parameters stay $1, $2 in the plan, so none of the query's
    // values is sent, logged or stored; NULLs stand in for them.
    const parameters = Math.max(0, ...[...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])))
    const nulls = parameters === 0 ? '' : `(${Array.from({ length: parameters }, () => 'NULL').join(', ')})`
    await this.internal(async (query) => {
      await query('BEGIN READ ONLY')
      try {
        await query(`SET LOCAL statement_timeout = ${explainTimeoutMs}`)
        await query("SET LOCAL plan_cache_mode = 'force_generic_plan'")
        await query(`PREPARE ${statementName} AS ${sql}`)
        let rows: { 'QUERY PLAN': unknown }[]
        try {
          ;({ rows } = await query<{ 'QUERY PLAN': unknown }>(
            `EXPLAIN (FORMAT JSON, VERBOSE) EXECUTE ${statementName}${nulls}`,
          ))
        } finally {
          await query(`DEALLOCATE ${statementName}`).catch(() => {})
        }
        plan = rows[0]?.['QUERY PLAN']
        this.options.logger.info(
          { fingerprint: fingerprint.text, fingerprintId: fingerprint.id, plan },
          'plan of a slow query',
        )
        for (const scan of filteredScans(plan)) {
          const sized = await query<{ rows: string }>(
            `SELECT (CASE WHEN c.reltuples >= 0 THEN c.reltuples ELSE COALESCE(s.n_live_tup, 0) END)::bigint AS rows
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
             WHERE n.nspname = $1 AND c.relname = $2`,
            [scan.schema, scan.table],
          )
          const tableRows = Number(sized.rows[0]?.rows ?? 0)
          if (tableRows < this.options.hintMinRows) continue
          const hint = {
            ...scan,
            statement: indexStatement(scan),
            tableRows,
            fingerprint: fingerprint.text,
            fingerprintId: fingerprint.id,
          }
          this.options.logger.warn(hint, `missing index? ${hint.statement}`)
          hints.push(hint)
        }
      } finally {
        await query('ROLLBACK')
      }
    })
    // Stored once the EXPLAIN's connection is back: storing takes one of its own.
    if (plan !== undefined) await this.options.onPlan(fingerprint.id, fingerprint.text, plan)
    for (const hint of hints) await this.options.onHint(hint)
  }
}
