/**
 * Errors: the issues with their counts, a 24-hour sparkline, first and last seen, release and
 * regression marks; and an issue's page: the stack (source-mapped where the tracker mapped it),
 * the request (headers that carry secrets redacted), the log lines of its request with their
 * fields, the other breadcrumbs (queries), the
 * tags' distribution, and resolve / mute / unmute for admins. `?tag=key:value` lists only the
 * issues with an event carrying that tag value.
 */
import { ErrorStore, redactedKeys, type TagDistribution } from '../observe/index.js'
import { issueHours, issueRows } from './_data.js'
import { actionButton, esc, page, percent, table, when } from './_layout.js'
import { sparkline } from './_svg.js'
import type { View } from './_view.js'

const statusTag = (status: string) =>
  `<span class="tag ${status === 'unresolved' ? 'bad' : status === 'muted' ? 'warn' : 'ok'}">${esc(status)}</span>`

/** `tenant:acme` → { key, value }; the value may hold colons. */
function tagFilter(text: string | null): { key: string; value: string } | string | undefined {
  if (text === null || text === '') return undefined
  const colon = text.indexOf(':')
  if (colon <= 0 || colon === text.length - 1)
    return `The tag filter ${JSON.stringify(text.slice(0, 100))} is not key:value (tenant:acme, say); showing every issue.`
  return { key: text.slice(0, colon), value: text.slice(colon + 1) }
}

export async function errorsPage(view: View): Promise<string> {
  const { pool, now, prefix } = view
  const filter = tagFilter(view.query.get('tag'))
  const tag = typeof filter === 'object' ? filter : undefined
  const [issues, hours] = await Promise.all([issueRows(pool, 200, tag), issueHours(pool, now)])
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
  const form = `<form method="get" action="${esc(`${prefix}/errors`)}"><label>Tag <input name="tag" placeholder="tenant:acme" value="${esc(view.query.get('tag') ?? '')}"></label><button type="submit">Filter</button>${tag ? ` <a href="${esc(`${prefix}/errors`)}">every issue</a>` : ''}</form>`
  const notice =
    typeof filter === 'string'
      ? `<p class="bad">${esc(filter)}</p>`
      : tag
        ? `<p>Issues with an event tagged <code>${esc(tag.key)}:${esc(tag.value)}</code>; events and sparklines count all of each issue's events.</p>`
        : ''
  return page(
    view,
    'Errors',
    `${form}${notice}${table(['Issue', 'Status', 'Events', 'Last 24 h', 'First seen', 'Last seen', 'Release'], rows, [2])}`,
  )
}

/** Each tag key's most frequent values, as shares of the issue's events that carried the key. */
function tagTable(view: View, tags: TagDistribution): string {
  const rows = tags.flatMap(({ key, total, values }) =>
    values.map(({ value, count }, i) => [
      i === 0 ? `<code>${esc(key)}</code>` : '',
      `<a href="${esc(`${view.prefix}/errors?${new URLSearchParams({ tag: `${key}:${value}` })}`)}">${esc(value)}</a>`,
      String(count),
      percent(count / total, 0),
    ]),
  )
  return table(['Tag', 'Value', 'Events', 'Share'], rows, [2, 3])
}

/** Header names whose values are never shown, whatever the tracker stored. */
const secretHeader = new RegExp(`^(${redactedKeys.join('|')}|x-api-key|x-csrf-token)$`, 'i')

export async function issuePage(view: View, id: string): Promise<string | undefined> {
  const store = new ErrorStore(view.pool)
  const issue = await store.issue(id)
  if (issue === undefined) return undefined
  const [events, tags] = await Promise.all([store.events(id), store.tags(id)])
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
  const steps = event?.breadcrumbs?.values ?? []
  const logLines = steps
    .filter((crumb) => crumb.category === 'log')
    .map((crumb) => [
      when(crumb.timestamp * 1000, now),
      esc(crumb.level),
      esc(crumb.message),
      Object.entries(crumb.data ?? {})
        .map(([key, value]) => `<code>${esc(key)}=${esc(JSON.stringify(value))}</code>`)
        .join(' '),
    ])
  const crumbs = steps
    .filter((crumb) => crumb.category !== 'log')
    .map((crumb) => [
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
<h2>Tags</h2>
${tagTable(view, tags)}
<h2>Log lines</h2>
<p class="muted">What the app logged during the request, up to the error, with each line's fields (secrets masked as in the log). Lines logged after it carry <code>"requestId": "${esc(event?.tags.request_id ?? '')}"</code> in your log pipeline.</p>
${table(['When', 'Level', 'Message', 'Fields'], logLines)}
<h2>Breadcrumbs</h2>
${table(['When', 'Category', 'Level', 'Step'], crumbs)}
<h2>Releases</h2>
${table(['Release', 'Events'], releases, [1])}
<p><a href="${esc(`${prefix}/errors`)}">All issues</a></p>`
  return page({ ...view, current: '/errors' }, issue.title, body)
}
