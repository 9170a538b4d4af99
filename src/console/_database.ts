/**
 * Database: N+1 loops with their call sites, slow queries with their plans, index hints with the
 * statement to run, and this worker's pool. Grouped by fingerprint: the queries' text has its
 * values replaced by placeholders, so nothing a user typed is shown.
 */
import { rowsOf } from './_data.js'
import { routeHref } from './_endpoints.js'
import { card, esc, ms, page, table, when } from './_layout.js'
import { dayMs, type View } from './_view.js'

interface PoolState {
  totalCount?: number
  idleCount?: number
  waitingCount?: number
  options?: { max?: number }
}

export async function databasePage(view: View): Promise<string> {
  const { pool, now, prefix, ctx } = view
  const since = new Date(now - 7 * dayMs)
  const [loops, slow, hints] = await Promise.all([
    rowsOf(
      pool,
      `SELECT fingerprint, call_site, count(*) AS seen, max(count) AS runs, avg(ms) AS ms, max(at) AS last,
         (array_agg(method ORDER BY at DESC))[1] AS method, (array_agg(route ORDER BY at DESC))[1] AS route
       FROM shipshape_apm_reports WHERE kind = 'n+1' AND at > $1 GROUP BY fingerprint, call_site ORDER BY max(at) DESC LIMIT 50`,
      [since],
    ),
    rowsOf(
      pool,
      `SELECT r.fingerprint_id, max(r.fingerprint) AS fingerprint, count(*) AS seen, max(r.ms) AS worst, avg(r.ms) AS ms,
         max(r.at) AS last, (array_agg(r.call_site ORDER BY r.at DESC))[1] AS call_site,
         (SELECT p.plan FROM shipshape_apm_plans p WHERE p.fingerprint_id = r.fingerprint_id) AS plan
       FROM shipshape_apm_reports r WHERE r.kind = 'slow-query' AND r.at > $1 GROUP BY r.fingerprint_id ORDER BY max(r.ms) DESC LIMIT 30`,
      [since],
    ),
    rowsOf(
      pool,
      `SELECT schema_name, table_name, columns, statement, table_rows, fingerprint, seen, last_seen
       FROM shipshape_apm_index_hints ORDER BY last_seen DESC LIMIT 50`,
    ),
  ])
  const state = (ctx.worker.db?.pool ?? {}) as PoolState
  const poolCards = `<div class="cards">
${card('Connections open (this worker)', String(state.totalCount ?? 0), `at most ${state.options?.max ?? view.host.database?.poolSize ?? '?'}`)}
${card('Idle', String(state.idleCount ?? 0))}
${card('Requests waiting for one', String(state.waitingCount ?? 0), '', (state.waitingCount ?? 0) > 0 ? 'warn' : 'ok')}
</div>`
  const body = `<h2>Pool</h2>${poolCards}
<h2>N+1 loops, last 7 days</h2>
${table(
  ['Query', 'Call site', 'Runs per request', 'Time per loop', 'Seen', 'Last', 'Route'],
  loops.map((row) => [
    `<code>${esc(String(row.fingerprint))}</code>`,
    `<code>${esc(String(row.call_site ?? 'unknown'))}</code>`,
    String(row.runs),
    ms(Number(row.ms)),
    String(row.seen),
    when(row.last as Date, now),
    `<a href="${esc(routeHref(prefix, String(row.method), String(row.route)))}">${esc(`${row.method} ${row.route}`)}</a>`,
  ]),
  [2, 3, 4],
)}
<h2>Slow queries, last 7 days</h2>
${
  slow.length === 0
    ? '<p class="muted">Nothing recorded yet.</p>'
    : slow
        .map(
          (row) => `<h3><code>${esc(String(row.fingerprint))}</code></h3>
<p>${row.seen} times · worst ${ms(Number(row.worst))} · mean ${ms(Number(row.ms))} · last ${when(row.last as Date, now)} · from <code>${esc(String(row.call_site ?? 'unknown'))}</code></p>
${row.plan ? `<details open><summary>Plan (generic: no parameter values)</summary><pre>${esc(JSON.stringify(row.plan, null, 2))}</pre></details>` : '<p class="muted">No plan yet (only SELECTs are explained, in the background).</p>'}`,
        )
        .join('\n')
}
<h2>Index hints</h2>
${table(
  ['Table', 'Columns', 'Rows', 'Statement to run', 'For', 'Seen', 'Last'],
  hints.map((row) => [
    esc(`${row.schema_name}.${row.table_name}`),
    esc((row.columns as string[]).join(', ')),
    String(row.table_rows),
    `<code>${esc(String(row.statement))}</code>`,
    `<code>${esc(String(row.fingerprint))}</code>`,
    String(row.seen),
    when(row.last_seen as Date, now),
  ]),
  [2, 5],
)}`
  return page(view, 'Database', body)
}
