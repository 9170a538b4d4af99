/**
 * The console's page shell: one stylesheet carrying the request's CSP nonce (no inline script
 * at all, no CDN), a navigation bar, and the small formatting helpers every page uses. Everything
 * interpolated goes through escapeHtml; a page's body is HTML already escaped.
 */

import type { SignedInUser } from '../auth/index.js'
import { escapeHtml } from '../http/index.js'
import { cspNonce, csrfField } from '../security/index.js'

const pages = [
  ['', 'Overview'],
  ['/errors', 'Errors'],
  ['/endpoints', 'Endpoints'],
  ['/database', 'Database'],
  ['/uptime', 'Uptime and alerts'],
  ['/servers', 'Servers'],
  ['/deploy', 'Deploy checklist'],
] as const

const style = `*{box-sizing:border-box}body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
header{background:#1d2633;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header nav{display:flex;gap:1rem;flex-wrap:wrap}header a{color:#cfd8e3;text-decoration:none}header a[aria-current]{color:#fff;font-weight:600;border-bottom:2px solid #6cb4ff}
header .who{margin-left:auto;font-size:.9em;color:#cfd8e3}header form{display:inline}header button{font:inherit;font-size:.85em}
main{padding:1rem 1.2rem;max-width:80rem}h1{font-size:1.4rem;margin:.4rem 0 1rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff;margin-bottom:1rem}th,td{text-align:left;padding:.35rem .55rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#eef1f4;font-weight:600}th a{color:inherit}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.8rem;margin-bottom:1rem}
.card{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.7rem .9rem}.card b{display:block;font-size:1.5rem}
.ok{color:#0a7d38}.bad{color:#b00020}.warn{color:#9a6700}.muted{color:#666}.tag{display:inline-block;padding:0 .4rem;border-radius:3px;background:#eef1f4;font-size:.85em}
.tag.bad{background:#fde7ea}.tag.ok{background:#e3f6ea}.tag.warn{background:#fff3d6}
pre{background:#fff;border:1px solid #e3e6ea;padding:.6rem;overflow:auto;font-size:12px;max-height:30rem}code{font-size:.92em;word-break:break-word}
form.inline{display:inline}button{padding:.25rem .7rem;font:inherit}label{margin-right:.6rem}input,select{font:inherit;padding:.2rem}
svg.spark{width:120px;height:24px}svg.chart{width:100%;max-width:40rem;height:120px;background:#fff;border:1px solid #e3e6ea}
.spark path,.chart path{fill:none;stroke:#2f6fbf;stroke-width:1.5}.chart .objective{stroke:#b00020;stroke-dasharray:4 3}`

export interface Shell {
  prefix: string
  /** The page's own path under the prefix ('' for the overview), for the navigation's mark. */
  current: string
  user: SignedInUser
}

export function page(shell: Shell, title: string, body: string): string {
  const nav = pages
    .map(
      ([path, name]) =>
        `<a href="${escapeHtml(shell.prefix + (path || '/'))}"${path === shell.current ? ' aria-current="page"' : ''}>${name}</a>`,
    )
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · shipshape console</title>
<style nonce="${cspNonce()}">${style}</style></head>
<body><header><strong>shipshape</strong><nav>${nav}</nav>
<span class="who">${escapeHtml(shell.user.email)} (${shell.user.role})
<form method="post" action="${escapeHtml(`${shell.prefix}/sign-out`)}">${csrfField()}<button type="submit">Sign out</button></form></span></header>
<main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`
}

export const esc = escapeHtml

/** A table from a header row and rows of cells already escaped; `numeric` columns align right. */
export function table(
  head: readonly string[],
  rows: readonly string[][],
  numeric: readonly number[] = [],
): string {
  const cls = (i: number) => (numeric.includes(i) ? ' class="n"' : '')
  if (rows.length === 0) return '<p class="muted">Nothing recorded yet.</p>'
  return `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${h}</th>`).join('')}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((cell, i) => `<td${cls(i)}>${cell}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
}

export function card(label: string, value: string, note = '', tone = ''): string {
  return `<div class="card"><span class="muted">${esc(label)}</span><b class="${tone}">${esc(value)}</b>${note ? `<span class="muted">${esc(note)}</span>` : ''}</div>`
}

export function ms(value: number): string {
  return value >= 1000
    ? `${(value / 1000).toFixed(2)} s`
    : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`
}

export function percent(fraction: number | undefined, digits = 2): string {
  return fraction === undefined || Number.isNaN(fraction) ? '—' : `${(fraction * 100).toFixed(digits)}%`
}

export function bytes(value: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let n = value
  let unit = 0
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024
    unit++
  }
  return `${n.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}

/** A date as UTC, to the second, and how long ago. */
export function when(at: Date | number, now = Date.now()): string {
  const date = new Date(at)
  const ago = Math.max(0, now - date.getTime())
  const rel =
    ago < 60_000
      ? `${Math.round(ago / 1000)} s ago`
      : ago < 3_600_000
        ? `${Math.round(ago / 60_000)} min ago`
        : ago < 86_400_000
          ? `${Math.round(ago / 3_600_000)} h ago`
          : `${Math.round(ago / 86_400_000)} d ago`
  return `<time datetime="${date.toISOString()}" title="${date.toISOString()}">${rel}</time>`
}

/** A POST button, with the CSRF field: the actions work with JavaScript off. */
export function actionButton(action: string, label: string, fields: Record<string, string> = {}): string {
  const hidden = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`)
    .join('')
  return `<form class="inline" method="post" action="${esc(action)}">${csrfField()}${hidden}<button type="submit">${esc(label)}</button></form>`
}
