/**
 * The demo app: a plain Express 5 app, exactly as its author would write it without shipshape.
 * `shipshape serve examples/demo/app.ts` runs it in production: workers, timeouts, logs, health.
 */
import express, { type Request, type Response } from 'express'
import { cdn } from 'shipshape/cache'
import { heartbeat } from 'shipshape/monitor'
import { createLogger, setTag } from 'shipshape/observe'
import { csrfField } from 'shipshape/security'
import { adminArea } from './admin.ts'
import { Guestbook, validate } from './guestbook.ts'
import { Html, html } from './html.ts'
import { layout } from './layout.ts'
import { profile } from './profile.ts'
import { settings } from './settings.ts'

const guestbook = new Guestbook()
const startedAt = Date.now()
const log = createLogger()

const app = express()
app.disable('x-powered-by')
app.use(express.urlencoded({ extended: false, limit: '16kb' }))

/**
 * The home page is the same for every visitor: a CDN in front may keep it 5 minutes (browsers
 * revalidate), serve it stale for a minute while refetching, or a day while this server is down;
 * `purge(['home'])` clears it at once.
 */
const publicPage = cdn({
  maxAge: 0,
  sMaxAge: '5m',
  staleWhileRevalidate: '1m',
  staleIfError: '1d',
  tags: ['home'],
})

app.get('/', publicPage, async (_req: Request, res: Response) => {
  res.send(
    await layout(
      settings.siteName,
      html`<p>This small app runs under <code>shipshape serve</code>: a supervised pool of workers with
request timeouts, graceful reloads, health checks and structured logs.</p>
<ul>
<li><a href="/guestbook">Sign the guestbook</a> — a form that posts; <a href="/guestbook/signers">its signers</a>, a page with a deliberate N+1 the APM reports.</li>
<li><a href="/profile">Your profile</a> — an avatar upload (public media) and a report behind an expiring link (private media).</li>
<li><a href="/api/status">/api/status</a> — a JSON endpoint.</li>
<li><form method="post" action="/boom">${new Html(csrfField())}<button type="submit">Throw an error</button></form> — shipshape groups it into an issue in the database and notifies once (docs/observe.md).</li>
<li><button type="button" data-throws>Throw a front-end error</button> — the page's own script throws; @sentry/browser reports it to this app, which groups it the same way.</li>
<li><a href="/guestbook/search?q=hello">Search the guestbook</a> — a slow query on purpose (the APM reports it, with its plan).</li>
<li><a href="/readyz">/readyz</a> and <a href="/livez">/livez</a> — health checks answered by shipshape.</li>
<li><a href="/_shipshape/">The ops console</a> — errors, endpoints, database, uptime, servers and the deploy checklist, behind sign-in with TOTP (README: “See the demo's console”).</li>
</ul>`,
    ),
  )
})

function guestbookPage(
  entries: Awaited<ReturnType<Guestbook['recent']>>,
  problems: Record<string, string> = {},
  values: Record<string, string> = {},
) {
  return layout(
    'Guestbook',
    html`<form method="post" action="/guestbook">${new Html(csrfField())}
<p><label>Name <input name="name" maxlength="60" value="${values.name ?? ''}" required></label> ${problems.name ?? ''}</p>
<p><label>Message <textarea name="message" maxlength="500" required>${values.message ?? ''}</textarea></label> ${problems.message ?? ''}</p>
<p><button type="submit">Sign</button></p>
</form>
<ul class="entries">${entries.map((entry) => html`<li><strong>${entry.name}</strong>: ${entry.message} <time datetime="${entry.at}">${entry.at.slice(0, 16).replace('T', ' ')}</time></li>`)}</ul>`,
  )
}

// The error button: every press is the same issue, whatever the time in its message. The tag
// and the log line show on the issue's page in the ops console: how many presses came from a
// browser, and what the request logged before it failed.
app.post('/boom', (req: Request) => {
  const client = /Mozilla\//.test(req.get('user-agent') ?? '') ? 'browser' : 'script'
  setTag('client', client)
  log.info({ client, referer: req.get('referer') ?? null }, 'the error button was pressed')
  throw new Error(`the demo's error button was pressed at ${new Date().toISOString()}`)
})

app.get('/guestbook', async (_req: Request, res: Response) => {
  res.send(await guestbookPage(await guestbook.recent(settings.guestbookPageSize)))
})

app.get('/guestbook/signers', async (_req: Request, res: Response) => {
  const signers = await guestbook.signers()
  res.send(
    await layout(
      'Signers',
      html`<p>Everyone who signed, with their number of messages. This page runs one query per signer
on purpose (an N+1): shipshape's APM reports it in the log.</p>
<ul>${signers.map((signer) => html`<li><strong>${signer.name}</strong>: ${String(signer.messages)}</li>`)}</ul>`,
    ),
  )
})

app.get('/guestbook/search', async (req: Request, res: Response) => {
  const text = typeof req.query.q === 'string' ? req.query.q : ''
  const found = await guestbook.search(text)
  res.send(
    await layout(
      'Search',
      html`<p>Messages containing “${text}”: this page's query is slow on purpose.</p>
<ul class="entries">${found.map((entry) => html`<li><strong>${entry.name}</strong>: ${entry.message}</li>`)}</ul>`,
    ),
  )
})

app.post('/guestbook', async (req: Request, res: Response) => {
  const body = (req.body ?? {}) as Record<string, string>
  const problems = validate(body)
  if (Object.keys(problems).length > 0) {
    res
      .status(422)
      .send(await guestbookPage(await guestbook.recent(settings.guestbookPageSize), problems, body))
    return
  }
  await guestbook.add(body)
  // Post/redirect/get: a reload of the page does not post the entry twice.
  res.redirect(303, '/guestbook')
})

app.use(profile)
app.use(adminArea(guestbook))

app.get('/api/status', async (_req: Request, res: Response) => {
  res.json({
    status: 'ok',
    site: settings.siteName,
    worker: process.pid,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    guestbookEntries: await guestbook.count(),
  })
})

/**
 * A partner's API the demo depends on, down ON PURPOSE: shipshape.yaml's `partner-api` check
 * probes it, so the console's Uptime page has an outage to show (and the alert to silence).
 */
app.get('/api/partner', (_req: Request, res: Response) => {
  res.status(503).json({ status: 'down', detail: 'the partner API is down on purpose, for the console' })
})

/**
 * A job beside the requests, as apps have (a digest, a cleanup): every minute it counts the
 * guestbook and pings its heartbeat, so a job that stops running is noticed (shipshape.yaml's
 * monitor.heartbeats alerts when a minute and a half pass without a ping).
 */
setInterval(() => {
  guestbook
    .count()
    .then(() => heartbeat('guestbook-count'))
    .catch((error: unknown) => heartbeat('guestbook-count', 'fail').catch(() => console.error(error)))
}, 60_000).unref()

app.use(async (_req: Request, res: Response) => {
  res
    .status(404)
    .send(await layout('Not found', html`<p>There is no page here. <a href="/">Go home</a>.</p>`))
})

export default app
