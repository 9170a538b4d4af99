import { type Html, html } from './html.ts'

const nav = [
  ['/', 'Home'],
  ['/guestbook', 'Guestbook'],
  ['/api/status', 'Status (JSON)'],
] as const

/** The page shell every page shares; later features add their links to `nav`. */
export function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · shipshape demo</title>
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
