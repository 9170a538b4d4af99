import { fragment } from 'shipshape/cache'
import { staticUrl } from 'shipshape/static'
import { Html, html } from './html.ts'
import { settings } from './settings.ts'

const nav = [
  ['/', 'Home'],
  ['/guestbook', 'Guestbook'],
  ['/profile', 'Profile'],
  ['/api/status', 'Status (JSON)'],
  ['/admin', 'Admin'],
] as const

/**
 * The page shell every page shares; later features add their links to `nav`. Assets are linked
 * through staticUrl(), which gives their content-hashed names from collectstatic's manifest. The
 * navigation is a cached fragment (the talk's "unsung hero"): rendered once per worker every two
 * minutes, not on every page. Here it is cheap; in a real shop it queries the categories.
 */
export async function layout(title: string, body: Html): Promise<string> {
  const menu = await fragment('nav', '2m', () =>
    html`<nav>${nav.map(([href, label]) => html`<a href="${href}">${label}</a> `)}</nav>`.toString(),
  )
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · shipshape demo</title>
<link rel="icon" href="${staticUrl('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${staticUrl('build/style.css')}">
<link rel="stylesheet" href="${staticUrl('css/print.css')}" media="print">
${settings.frontendErrorsKey ? html`<meta name="errors-dsn-key" content="${settings.frontendErrorsKey}">` : ''}
<script type="module" src="${staticUrl('build/main.js')}"></script>
</head>
<body>
<header>${new Html(menu)}</header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer><p>Served by shipshape.</p></footer>
</body>
</html>
`.toString()
}
