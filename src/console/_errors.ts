/**
 * Errors: the issues with their counts, a 24-hour sparkline, first and last seen, release and
 * regression marks; and an issue's page: the stack (source-mapped where the tracker mapped it),
 * the request (headers that carry secrets redacted), breadcrumbs, the log lines' request id, and
 * resolve / mute / unmute for admins.
 */
import { ErrorStore, redactedKeys } from '../observe/index.js'
import { issueHours, issueRows } from './_data.js'
import { actionButton, esc, page, table, when } from './_layout.js'
import { sparkline } from './_svg.js'
import type { View } from './_view.js'

const statusTag = (status: string) =>
  `<span class="tag ${status === 'unresolved' ? 'bad' : status === 'muted' ? 'warn' : 'ok'}">${esc(status)}</span>`

export async function errorsPage(view: View): Promise<string> {
  const { pool, now, prefix } = view
  const [issues, hours] = await Promise.all([issueRows(pool, 200), issueHours(pool, now)])
  const rows = issues.map((issue) => [
    `<a href="${esc(`${prefix}/errors/${encodeURIComponent(issue.id)}`)}">${esc(issue.title)}</a><br><span class="muted">${esc(issue.culprit)}</span>`,
    `${statusTag(issue.status)}${issue.regressed ? ' <span class="tag bad" title="resolved, then seen again">regression</span>' : ''}`,
    String(issue.count),
    sparkline(
      hours.get(issue.id) ?? Array.from({ length: 24 }, () => 0),
      `${issue.title}: events per hour, 24 h`,
    ),
    when(issue.firstSeen, now),
    when(issue.lastSeen, now),
    esc(issue.release ?? '—'),
  ])
  return page(
    view,
    'Errors',
    table(['Issue', 'Status', 'Events', 'Last 24 h', 'First seen', 'Last seen', 'Release'], rows, [2]),
  )
}

/** Header names whose values are never shown, whatever the tracker stored. */
const secretHeader = new RegExp(`^(${redactedKeys.join('|')}|x-api-key|x-csrf-token)$`, 'i')

export async function issuePage(view: View, id: string): Promise<string | undefined> {
  const store = new ErrorStore(view.pool)
  const issue = await store.issue(id)
  if (issue === undefined) return undefined
  const events = await store.events(id)
  const event = events.at(-1)
  const { prefix, now, user } = view
  const base = `${prefix}/errors/${encodeURIComponent(id)}`
  const actions =
    user.role !== 'admin'
      ? '<p class="muted">Viewers read; an admin resolves, mutes and unmutes.</p>'
      : `<p>${[
          issue.status !== 'resolved' ? actionButton(`${base}/resolve`, 'Resolve') : '',
          issue.status === 'unresolved'
            ? actionButton(`${base}/mute`, 'Mute for 24 hours', { hours: '24' })
            : '',
          issue.status === 'muted' ? actionButton(`${base}/unmute`, 'Unmute') : '',
        ].join(' ')}</p>`
  const exception = event?.exception?.values.at(-1)
  const frames = [...(exception?.stacktrace?.frames ?? [])].reverse()
  const stack = frames
    .map(
      (frame) =>
        `${frame.in_app ? '' : '  '}at ${frame.function || '<anonymous>'} (${frame.filename}:${frame.lineno ?? '?'}:${frame.colno ?? '?'})${frame.context_line ? `\n      ${frame.context_line.trim()}` : ''}`,
    )
    .join('\n')
  const request = event?.request
  const headers = Object.entries(request?.headers ?? {}).map(([name, value]) => [
    esc(name),
    secretHeader.test(name) ? '<span class="muted">[redacted]</span>' : esc(value),
  ])
  const crumbs = (event?.breadcrumbs?.values ?? []).map((crumb) => [
    when(crumb.timestamp * 1000, now),
    esc(crumb.category),
    esc(crumb.level),
    esc(crumb.message),
  ])
  const releases = Object.entries(issue.releases).map(([release, count]) => [
    esc(release || '(none)'),
    String(count),
  ])
  const body = `<p>${statusTag(issue.status)} · ${issue.count} events · first seen ${when(issue.firstSeen, now)} · last seen ${when(issue.lastSeen, now)}${issue.resolvedIn ? ` · resolved in ${esc(issue.resolvedIn)}` : ''}</p>
<p class="muted">${esc(issue.culprit)}</p>
${actions}
<h2>Stack</h2>
<pre>${esc(exception ? `${exception.type}: ${exception.value}\n${stack}` : (event?.message?.formatted ?? 'no event stored'))}</pre>
<h2>Request</h2>
${
  request
    ? `<p><code>${esc(request.method)} ${esc(request.url)}${request.query_string ? `?${esc(request.query_string)}` : ''}</code> · request id <code>${esc(event?.tags.request_id ?? '—')}</code> (its log lines carry <code>"requestId"</code> with it) · release ${esc(event?.release ?? '—')}</p>
${table(['Header', 'Value'], headers)}<p class="muted">Request bodies are never stored.</p>`
    : '<p class="muted">No request: the error happened outside one.</p>'
}
<h2>Breadcrumbs</h2>
${table(['When', 'Category', 'Level', 'Message'], crumbs)}
<h2>Releases</h2>
${table(['Release', 'Events'], releases, [1])}
<p><a href="${esc(`${prefix}/errors`)}">All issues</a></p>`
  return page({ ...view, current: '/errors' }, issue.title, body)
}
