/**
 * The console's actions, all POST forms (the security middleware's cross-site check applies to
 * each, and each form carries the CSRF field for browsers that send no Origin): resolve, mute and
 * unmute an issue, create and end a silence. Only admins act; a viewer's attempt is a 403. Every
 * attempt, allowed or refused, is a row in the audit table and a log line.
 */
import { randomUUID } from 'node:crypto'
import { plainAnswer } from '../http/index.js'
import { MonitorStore } from '../monitor/index.js'
import { ErrorStore, type Logger } from '../observe/index.js'
import { ConsoleStore } from './_store.js'
import type { View } from './_view.js'

/** A console form is a few fields: anything longer is cut here. */
const formLimit = 16 * 1024

async function readForm(view: View): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of view.ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > formLimit) break
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

interface Action {
  /** The audit log's name for it. */
  name: string
  target: string
  /** Does it; resolves to the page to go back to, or undefined when its subject does not exist. */
  run(form: URLSearchParams): Promise<string | undefined>
}

/** The action a POST to `sub` asks for, or undefined for none. */
function actionOf(view: View, sub: string): Action | undefined {
  const { pool, prefix, now } = view
  const issue = /^\/errors\/([^/]+)\/(resolve|mute|unmute)$/.exec(sub)
  if (issue) {
    const id = decodeURIComponent(issue[1] as string)
    const verb = issue[2] as 'resolve' | 'mute' | 'unmute'
    const back = `${prefix}/errors/${encodeURIComponent(id)}`
    return {
      name: verb,
      target: `issue:${id}`,
      async run(form) {
        const store = new ErrorStore(pool)
        if ((await store.issue(id)) === undefined) return undefined
        if (verb === 'resolve') await store.resolve(id)
        else if (verb === 'unmute') await store.unmute(id)
        else {
          const hours = Math.min(24 * 90, Math.max(1, Number(form.get('hours')) || 24))
          await store.mute(id, { date: new Date(now + hours * 3_600_000) })
        }
        return back
      },
    }
  }
  if (sub === '/uptime/silences')
    return {
      name: 'silence-create',
      target: 'silence:new',
      async run(form) {
        const check = (form.get('check') ?? '').slice(0, 200)
        const hours = Math.min(24 * 30, Math.max(1, Number(form.get('hours')) || 1))
        if (check === '') return undefined
        await new MonitorStore(pool).addSilence({
          id: randomUUID(),
          match: { check },
          from: now,
          until: now + hours * 3_600_000,
          comment: `${(form.get('comment') ?? '').slice(0, 200)} (by ${view.user.email})`,
        })
        this.target = `silence:check=${check}`
        return `${prefix}/uptime`
      },
    }
  const end = /^\/uptime\/silences\/([^/]+)\/end$/.exec(sub)
  if (end) {
    const id = decodeURIComponent(end[1] as string)
    return {
      name: 'silence-end',
      target: `silence:${id}`,
      run: async () =>
        (await new MonitorStore(pool).expireSilence(id, now)) ? `${prefix}/uptime` : undefined,
    }
  }
  return undefined
}

/** Answers a POST under the console; false when it names no action (the caller answers 404). */
export async function act(view: View, sub: string, logger: Logger): Promise<boolean> {
  const action = actionOf(view, sub)
  if (action === undefined) return false
  const { ctx, user } = view
  const record = async (outcome: string) => {
    const entry = {
      userId: user.id,
      email: user.email,
      role: user.role,
      action: action.name,
      target: action.target,
      outcome,
      ip: ctx.clientIp,
      requestId: ctx.id,
    }
    logger[outcome === 'success' ? 'info' : 'warn'](
      { audit: 'console', ...entry },
      `console ${action.name}: ${outcome}`,
    )
    await new ConsoleStore(view.pool).audit(entry)
  }
  if (user.role !== 'admin') {
    await record('refused-role')
    plainAnswer(ctx.res, 403, 'Forbidden: only an admin may do this\n')
    return true
  }
  const back = await action.run(await readForm(view))
  await record(back === undefined ? 'not-found' : 'success')
  if (back === undefined) plainAnswer(ctx.res, 404, 'Not Found\n')
  else {
    ctx.res.writeHead(303, { Location: back, 'Cache-Control': 'no-store', 'Content-Length': 0 })
    ctx.res.end()
  }
  return true
}
