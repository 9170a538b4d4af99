/**
 * Uptime and alerts: every check by vantage point with its uptime over 24 h, 7 d and 30 d, the
 * incidents (runs of failed probes), silences (an admin creates and ends them here), and the
 * notification history with the sends that failed.
 */
import { MonitorStore } from '../monitor/index.js'
import { csrfField } from '../security/index.js'
import { rowsOf } from './_data.js'
import { actionButton, esc, ms, page, percent, table, when } from './_layout.js'
import { dayMs, type View } from './_view.js'

export async function uptimePage(view: View): Promise<string> {
  const { pool, now, prefix, host, user } = view
  const store = new MonitorStore(pool)
  const [latest, uptime, added, silences, notifications, incidents] = await Promise.all([
    store.latest(),
    store.uptime(now),
    store.apiChecks(),
    store.silences(now),
    store.notifications(50),
    rowsOf(
      pool,
      `SELECT check_name, vantage, min(at) AS started, max(at) AS last_failed, count(*) AS failures, max(error) AS error
       FROM (SELECT check_name, vantage, at, ok, error,
               sum(ok::int) OVER (PARTITION BY check_name, vantage ORDER BY at) AS run
             FROM shipshape_monitor_results WHERE at > $1) results
       WHERE NOT ok GROUP BY check_name, vantage, run ORDER BY min(at) DESC LIMIT 50`,
      [new Date(now - 7 * dayMs)],
    ),
  ])
  const checks = [...host.monitor.checks, ...added]
  const checkRows = checks.flatMap((check) => {
    const own = latest.filter((result) => result.check === check.name)
    const up = uptime.find((entry) => entry.check === check.name)
    const figures = [percent(up?.day), percent(up?.week), percent(up?.month)]
    if (own.length === 0)
      return [
        [
          esc(check.name),
          esc(check.target),
          '—',
          '<span class="muted">no result yet</span>',
          '—',
          ...figures,
        ],
      ]
    return own.map((result) => [
      esc(check.name),
      esc(check.target),
      esc(result.vantage),
      result.ok
        ? '<span class="tag ok">up</span>'
        : `<span class="tag bad">down</span> ${esc(result.error ?? '')}`,
      `${ms(result.ms)} · ${when(result.at, now)}`,
      ...figures,
    ])
  })
  const ongoing = (row: Record<string, unknown>) =>
    latest.some((result) => result.check === row.check_name && result.vantage === row.vantage && !result.ok)
  const incidentRows = incidents.map((row) => [
    esc(String(row.check_name)),
    esc(String(row.vantage)),
    when(row.started as Date, now),
    ongoing(row) ? '<span class="tag bad">ongoing</span>' : when(row.last_failed as Date, now),
    String(row.failures),
    esc(String(row.error ?? '')),
  ])
  const admin = user.role === 'admin'
  const silenceRows = silences.map((silence) => [
    `<code>${esc(
      Object.entries(silence.match)
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    )}</code>`,
    when(silence.from, now),
    Number.isFinite(silence.until) && silence.until < Date.UTC(9999, 0)
      ? `${new Date(silence.until).toISOString().slice(0, 16)}Z`
      : 'until resolved',
    esc(silence.comment),
    admin && !silence.id.startsWith('config-')
      ? actionButton(`${prefix}/uptime/silences/${encodeURIComponent(silence.id)}/end`, 'End now')
      : '',
  ])
  const form = admin
    ? `<form method="post" action="${esc(`${prefix}/uptime/silences`)}">${csrfField()}
<label>Check <select name="check">${checks.map((check) => `<option>${esc(check.name)}</option>`).join('')}</select></label>
<label>For <select name="hours"><option value="1">1 hour</option><option value="4">4 hours</option><option value="24">24 hours</option></select></label>
<label>Comment <input name="comment" maxlength="200" required></label>
<button type="submit">Create silence</button></form>`
    : '<p class="muted">An admin creates and ends silences.</p>'
  const sent = notifications.map((entry) => [
    when(entry.at, now),
    esc(entry.title),
    esc(entry.status),
    esc(entry.channel),
    entry.ok
      ? '<span class="tag ok">sent</span>'
      : `<span class="tag bad">failed</span> ${esc(entry.error ?? '')}`,
  ])
  const body = `<h2>Checks</h2>
${table(['Check', 'Target', 'From', 'Now', 'Last probe', 'Uptime 24 h', '7 d', '30 d'], checkRows, [5, 6, 7])}
<h2>Incidents, last 7 days</h2>
${table(['Check', 'From', 'Started', 'Ended', 'Failed probes', 'Error'], incidentRows, [4])}
<h2>Silences</h2>
${table(['Matches', 'From', 'Until', 'Comment', ''], silenceRows)}
${form}
<h2>Notifications</h2>
${table(['When', 'Notification', 'Status', 'Channel', 'Delivery'], sent)}`
  return page(view, 'Uptime and alerts', body)
}
