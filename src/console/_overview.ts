/** Overview: is the site up from every vantage point, errors and latency against the objectives, open alerts, the last release. */
import { MonitorStore } from '../monitor/index.js'
import { routeSummaries, rowsOf, trafficSeries } from './_data.js'
import { card, esc, ms, page, percent, table, when } from './_layout.js'
import { ConsoleStore } from './_store.js'
import { lineChart } from './_svg.js'
import { dayMs, hourMs, type View } from './_view.js'

export async function overviewPage(view: View): Promise<string> {
  const { pool, now, host, prefix } = view
  const monitor = new MonitorStore(pool)
  const [latest, routes, series, firing, release, actions] = await Promise.all([
    monitor.latest(),
    routeSummaries(pool, prefix, now - hourMs, now),
    trafficSeries(pool, prefix, now - dayMs, hourMs),
    rowsOf(
      pool,
      `SELECT * FROM (SELECT DISTINCT ON (group_key) group_key, status, title, at FROM shipshape_monitor_notifications
       ORDER BY group_key, id DESC) latest WHERE status = 'firing' ORDER BY at DESC LIMIT 20`,
    ),
    rowsOf(
      pool,
      `SELECT r.release, min(r.first_seen) AS first_seen,
         (SELECT count(*) FROM shipshape_issues i WHERE i.first_seen >= min(r.first_seen)) AS new_issues
       FROM shipshape_issue_releases r GROUP BY r.release ORDER BY min(r.first_seen) DESC LIMIT 1`,
    ),
    new ConsoleStore(pool).auditLog(10),
  ])
  const vantages = [...new Set(latest.map((result) => result.vantage))].sort()
  const upCards = vantages.map((vantage) => {
    const results = latest.filter((result) => result.vantage === vantage)
    const down = results.filter((result) => !result.ok)
    return card(
      `From ${vantage}`,
      down.length === 0 ? 'Up' : 'Down',
      down.length === 0
        ? `${results.length} checks pass`
        : `failing: ${down.map((result) => result.check).join(', ')}`,
      down.length === 0 ? 'ok' : 'bad',
    )
  })
  const requests = routes.reduce((sum, route) => sum + route.requests, 0)
  const errorRate = requests > 0 ? routes.reduce((sum, r) => sum + r.errorRate * r.requests, 0) / requests : 0
  const p95 = requests > 0 ? routes.reduce((sum, r) => sum + r.p95Ms * r.requests, 0) / requests : 0
  const budget = 1 - host.monitor.objective
  const objectiveMs = host.console.latencyObjectiveMs
  const failing = latest.filter((result) => !result.ok)
  const last = release[0]
  const body = `<div class="cards">
${upCards.join('\n') || card('Uptime checks', 'None', 'no probe results in 24 h: add monitor.checks')}
${card('Error rate, last hour', percent(errorRate), `objective: under ${percent(budget, 3)}`, errorRate > budget ? 'bad' : 'ok')}
${card('p95 latency, last hour', requests > 0 ? ms(p95) : '—', `objective: ${ms(objectiveMs)}`, p95 > objectiveMs ? 'bad' : 'ok')}
${card('Requests, last hour', String(requests))}
${card('Last release', last ? String(last.release || '(none)') : '—', last ? `first seen ${new Date(last.first_seen as Date).toISOString().slice(0, 16)}Z; ${last.new_issues} new issues since` : 'no release reported with errors yet')}
</div>
<h2>Latency and errors, last 24 hours</h2>
${lineChart(
  series.map((point) => point.p95Ms),
  'p95 latency (ms)',
  { objective: objectiveMs, format: ms },
)}
${lineChart(
  series.map((point) => point.errorRate * 100),
  'error rate (%)',
  { objective: budget * 100, format: (value) => `${value.toFixed(2)}%` },
)}
<h2>Open alerts</h2>
${table(
  ['Alert', 'Since'],
  [
    ...failing.map((result) => [
      `<span class="tag bad">check failing</span> ${esc(result.check)} from ${esc(result.vantage)}: ${esc(result.error ?? 'failed')}`,
      when(result.at, now),
    ]),
    ...firing.map((row) => [
      `<span class="tag warn">firing</span> ${esc(String(row.title))}`,
      when(row.at as Date, now),
    ]),
  ],
)}
<h2>Recent actions</h2>
${table(
  ['When', 'Who', 'Action', 'On', 'Outcome', 'From'],
  actions.map((entry) => [
    when(entry.at, now),
    esc(`${entry.email} (${entry.role})`),
    esc(entry.action),
    `<code>${esc(entry.target)}</code>`,
    `<span class="tag ${entry.outcome === 'success' ? 'ok' : 'bad'}">${esc(entry.outcome)}</span>`,
    esc(entry.ip),
  ]),
)}
<p><a href="${esc(`${prefix}/uptime`)}">Uptime and alerts</a> · <a href="${esc(`${prefix}/errors`)}">Errors</a></p>`
  return page(view, 'Overview', body)
}
