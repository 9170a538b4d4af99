/**
 * The public status page: each check's latest state from each vantage point and its uptime over
 * 24 h, 7 d and 30 d, rendered on the server. No script at all; its one style element carries the
 * request's CSP nonce, so it passes the strict policy every response gets.
 */
import { escapeHtml } from '../http/index.js'
import type { Check } from './_checks.js'
import type { ProbeResult } from './_probe.js'
import type { Uptime } from './_store.js'

const percent = (value: number | undefined) => (value === undefined ? '–' : `${(value * 100).toFixed(2)} %`)

export function statusPage(
  checks: readonly Check[],
  latest: readonly ProbeResult[],
  uptime: readonly Uptime[],
  nonce: string,
): string {
  const rows = checks.map((check) => {
    const results = latest.filter((result) => result.check === check.name)
    const up = results.length === 0 ? undefined : results.every((result) => result.ok)
    const state = up === undefined ? 'unknown' : up ? 'up' : 'down'
    const figures = uptime.find((entry) => entry.check === check.name)
    const vantages = results
      .map((result) => `${escapeHtml(result.vantage)}: ${result.ok ? 'up' : 'down'}, ${result.ms} ms`)
      .join('<br>')
    return `<tr><td>${escapeHtml(check.name)}</td><td class="${state}">${state}</td><td>${percent(figures?.day)}</td><td>${percent(figures?.week)}</td><td>${percent(figures?.month)}</td><td>${vantages || '–'}</td></tr>`
  })
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status</title>
<style nonce="${escapeHtml(nonce)}">
body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.up{color:#1a7f37}.down{color:#cf222e;font-weight:bold}.unknown{color:#777}
</style></head>
<body><h1>Status</h1>
<table><thead><tr><th>Check</th><th>Now</th><th>24 h</th><th>7 days</th><th>30 days</th><th>Vantage points</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
<p>Updated ${new Date().toISOString()}</p>
</body></html>`
}
