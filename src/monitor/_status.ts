/**
 * The public status page: each check's latest state from each vantage point, its uptime over
 * 24 h, 7 d and 30 d, and its recent days (one bar a day, its uptime in the bar's title), rendered
 * on the server. No script at all; its one style element carries the request's CSP nonce, so it
 * passes the strict policy every response gets.
 */
import { escapeHtml } from '../http/index.js'
import type { Check } from './_checks.js'
import type { ProbeResult } from './_probe.js'
import type { DayUptime, Uptime } from './_store.js'

/** How many days the page shows: a month, as the uptime figures go back (and the default retention). */
export const historyDays = 30
const dayMs = 86_400_000

const percent = (value: number | undefined) => (value === undefined ? '–' : `${(value * 100).toFixed(2)} %`)

export function statusPage(
  checks: readonly Check[],
  latest: readonly ProbeResult[],
  uptime: readonly Uptime[],
  history: readonly DayUptime[],
  nonce: string,
  now: number,
): string {
  const days = Array.from({ length: historyDays }, (_, index) =>
    new Date(now - (historyDays - 1 - index) * dayMs).toISOString().slice(0, 10),
  )
  const rows = checks.map((check) => {
    const results = latest.filter((result) => result.check === check.name)
    const up = results.length === 0 ? undefined : results.every((result) => result.ok)
    const state = up === undefined ? 'unknown' : up ? 'up' : 'down'
    const figures = uptime.find((entry) => entry.check === check.name)
    const vantages = results
      .map((result) => `${escapeHtml(result.vantage)}: ${result.ok ? 'up' : 'down'}, ${result.ms} ms`)
      .join('<br>')
    const bars = days.map((day) => {
      const entry = history.find((candidate) => candidate.check === check.name && candidate.day === day)
      if (entry === undefined) return `<li class="none" title="${day}: no probes"></li>`
      const kind = entry.up === 1 ? 'up' : entry.up >= 0.99 ? 'partial' : 'down'
      return `<li class="${kind}" title="${day}: ${percent(entry.up)} of ${entry.probes} probes"></li>`
    })
    return `<tr><td>${escapeHtml(check.name)}</td><td class="${state}">${state}</td><td>${percent(figures?.day)}</td><td>${percent(figures?.week)}</td><td>${percent(figures?.month)}</td><td>${vantages || '–'}</td></tr>
<tr class="history"><td colspan="6"><ol aria-label="${escapeHtml(check.name)}, the last ${historyDays} days">${bars.join('')}</ol></td></tr>`
  })
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status</title>
<style nonce="${escapeHtml(nonce)}">
body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.up{color:#1a7f37}.down{color:#cf222e;font-weight:bold}.unknown{color:#777}
ol{display:flex;gap:2px;list-style:none;margin:0;padding:0}ol li{flex:1;height:1.5rem;border-radius:2px}
li.up{background:#1a7f37}li.partial{background:#d4a72c}li.down{background:#cf222e}li.none{background:#ddd}
</style></head>
<body><h1>Status</h1>
<table><thead><tr><th>Check</th><th>Now</th><th>24 h</th><th>7 days</th><th>30 days</th><th>Vantage points</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<p>One bar a day (UTC), oldest first: green all probes passed, amber 99 % or more, red less. Updated ${new Date(now).toISOString()}</p>
</body></html>`
}
