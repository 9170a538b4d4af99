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
    // An incident starts at a failed probe whose previous probe (same check, same vantage point)
    // passed, and ends at the next that passes: index lookups from the failures, which are few,
    // rather than a window over every probe of the week.
    rowsOf(
      pool,
      `WITH starts AS (
         SELECT f.check_name, f.vantage, f.at, f.error FROM shipshape_monitor_results f
         WHERE f.at > $1 AND NOT f.ok AND coalesce((SELECT r.ok FROM shipshape_monitor_results r
           WHERE r.check_name = f.check_name AND r.vantage = f.vantage AND r.at < f.at ORDER BY r.at DESC LIMIT 1), true)
         ORDER BY f.at DESC LIMIT 50),
       ends AS (
         SELECT s.*, (SELECT min(r.at) FROM shipshape_monitor_results r
           WHERE r.check_name = s.check_name AND r.vantage = s.vantage AND r.at > s.at AND r.ok) AS ended FROM starts s)
       SELECT check_name, vantage, at AS started, ended, error,
         (SELECT count(*) FROM shipshape_monitor_results r WHERE r.check_name = e.check_name AND r.vantage = e.vantage
            AND r.at >= e.at AND (e.ended IS NULL OR r.at < e.ended) AND NOT r.ok) AS failures
       FROM ends e ORDER BY at DESC`,
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
  const incidentRows = incidents.map((row) => [
    esc(String(row.check_name)),
    esc(String(row.vantage)),
    when(row.started as Date, now),
    row.ended === null ? '<span class="tag bad">ongoing</span>' : when(row.ended as Date, now),
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
