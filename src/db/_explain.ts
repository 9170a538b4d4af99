/**
 * Background EXPLAINs of slow queries, at most once per fingerprint per interval: the plan is
 * asked for (never EXPLAIN ANALYZE, so nothing runs), only for plain SELECTs, with a short
 * statement timeout, and read for index hints. The slow query's parameters are bound to the
 * EXPLAIN (the planner needs them) and are never logged or stored.
 */
import type { Logger } from '../observe/index.js'
import type { IndexHint } from './_apm-store.js'
import type { Fingerprint } from './_fingerprint.js'
import { filteredScans, indexStatement } from './_hints.js'
import type { InternalQuery } from './_instrument.js'

export interface ExplainOptions {
  intervalMs: number
  /** Tables with fewer rows (pg_class.reltuples, else the live-tuple count) get no hint: a scan of them is cheap. */
  hintMinRows: number
  logger: Logger
  onHint(hint: IndexHint): Promise<void>
}

/** How many fingerprints' last EXPLAIN times are remembered; an older one may be explained again early. */
const remembered = 1000
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
  consider(fingerprint: Fingerprint, sql: string, values: unknown): void {
    if (fingerprint.operation !== 'select' || /\b(insert|update|delete|merge|into)\b/.test(fingerprint.text))
      return
    const now = Date.now()
    const last = this.last.get(fingerprint.id)
    if (last !== undefined && now - last < this.options.intervalMs) return
    if (this.last.size >= remembered) this.last.clear()
    this.last.set(fingerprint.id, now)
    const task = this.explain(fingerprint, sql, Array.isArray(values) ? values : []).catch(
      (error: unknown) => {
        this.options.logger.warn(
          { err: error, fingerprint: fingerprint.text, fingerprintId: fingerprint.id },
          'could not EXPLAIN a slow query',
        )
      },
    )
    this.running.add(task)
    void task.finally(() => this.running.delete(task))
  }

  /** Resolves once every EXPLAIN started so far has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.running)
  }

  private async explain(fingerprint: Fingerprint, sql: string, values: unknown[]): Promise<void> {
    const hints: IndexHint[] = []
    await this.internal(async (query) => {
      await query('BEGIN READ ONLY')
      try {
        await query(`SET LOCAL statement_timeout = ${explainTimeoutMs}`)
        const { rows } = await query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON, VERBOSE) ${sql}`,
          values,
        )
        const plan = rows[0]?.['QUERY PLAN']
        this.options.logger.info(
          { fingerprint: fingerprint.text, fingerprintId: fingerprint.id, plan },
          'plan of a slow query',
        )
        for (const scan of filteredScans(plan)) {
          const sized = await query<{ rows: string }>(
            `SELECT GREATEST(c.reltuples, COALESCE(s.n_live_tup, 0))::bigint AS rows
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
    for (const hint of hints) await this.options.onHint(hint)
  }
}
