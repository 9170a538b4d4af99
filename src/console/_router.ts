/**
 * The console's pages by path, for a signed-in user (the auth capability's protect() has let the
 * request through): GETs render a page, POSTs are actions. Loaded on the first request to the
 * console, with everything the pages need.
 */
import type { SignedInUser } from '../auth/index.js'
import { plainAnswer } from '../http/index.js'
import type { Logger, QueryPool } from '../observe/index.js'
import type { RequestContext } from '../types.js'
import { act } from './_actions.js'
import { databasePage } from './_database.js'
import { type DeployMemo, deployPage } from './_deploy.js'
import { endpointsPage, routePage } from './_endpoints.js'
import { errorsPage, issuePage } from './_errors.js'
import { overviewPage } from './_overview.js'
import { serversPage } from './_servers.js'
import { uptimePage } from './_uptime.js'
import type { ConsoleHost, View } from './_view.js'

export interface Router {
  answer(ctx: RequestContext, user: SignedInUser, pool: QueryPool): Promise<void>
}

export function consoleRouter(host: ConsoleHost, logger: Logger): Router {
  const { prefix } = host.console
  const deployMemo: { current?: DeployMemo } = {}
  const pages: Record<string, (view: View) => Promise<string | undefined>> = {
    '': overviewPage,
    '/': overviewPage,
    '/errors': errorsPage,
    '/endpoints': endpointsPage,
    '/endpoints/route': routePage,
    '/database': databasePage,
    '/uptime': uptimePage,
    '/servers': serversPage,
    '/deploy': (view) => deployPage(view, deployMemo),
  }
  return {
    async answer(ctx, user, pool) {
      const sub = ctx.path.slice(prefix.length)
      const url = ctx.req.url ?? ''
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
      const current = sub === '/' ? '' : sub.startsWith('/errors/') ? '/errors' : sub
      const view: View = { ctx, pool, user, host, prefix, current, query, now: Date.now() }
      if (ctx.method === 'POST') {
        if (!(await act(view, sub, logger))) plainAnswer(ctx.res, 404, 'Not Found\n')
        return
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD')
        return void plainAnswer(ctx.res, 405, 'Method Not Allowed\n', { Allow: 'GET, HEAD, POST' })
      const issue = /^\/errors\/([^/]+)$/.exec(sub)
      const render = issue ? (v: View) => issuePage(v, decodeURIComponent(issue[1] as string)) : pages[sub]
      const html = render ? await render(view) : undefined
      if (html === undefined) return void plainAnswer(ctx.res, 404, 'Not Found\n')
      ctx.res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(html),
        'Cache-Control': 'no-store',
      })
      ctx.res.end(ctx.method === 'HEAD' ? undefined : html)
    },
  }
}
