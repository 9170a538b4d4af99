import { staticUrl } from 'shipshape/static'
import { type Html, html } from './html.ts'

const nav = [
  ['/', 'Home'],
  ['/guestbook', 'Guestbook'],
  ['/profile', 'Profile'],
  ['/api/status', 'Status (JSON)'],
] as const

/**
 * The page shell every page shares; later features add their links to `nav`. Assets are linked
 * through staticUrl(), which gives their content-hashed names from collectstatic's manifest.
 */
export function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · shipshape demo</title>
<link rel="icon" href="${staticUrl('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${staticUrl('build/style.css')}">
<link rel="stylesheet" href="${staticUrl('css/print.css')}" media="print">
<script type="module" src="${staticUrl('build/main.js')}"></script>
</head>
<body>
<header><nav>${nav.map(([href, label]) => html`<a href="${href}">${label}</a> `)}</nav></header>
<main>
<h1>${title}</h1>
${body}
</main>
<footer><p>Served by shipshape.</p></footer>
</body>
</html>
`.toString()
}
