/**
 * How each framework tells which route a request matched, read by the adapters once at start-up
 * and noted per request (see `noteRoute`). Express needs nothing here: it leaves `req.route` on
 * the request itself.
 */

import type { RequestContext } from '../types.js'
import { getContext } from './_context.js'
import { noteRoute } from './_route.js'

type Any = Record<string, unknown>

/** Fastify: an onRequest hook reads `request.routeOptions.url` (undefined for a 404). */
export function fastifyRoute(app: Any): void {
  const addHook = app.addHook as (name: string, fn: (...args: never[]) => void) => void
  addHook.call(
    app,
    'onRequest',
    (request: { routeOptions?: { url?: string } }, _reply: unknown, done: () => void) => {
      const url = request.routeOptions?.url
      if (url) noteRoute(getContext(), url)
      done()
    },
  )
}

/** Koa: @koa/router (and koa-router) leave `ctx._matchedRoute`; a first middleware reads it afterwards. */
export function koaRoute(app: Any): void {
  const middleware = app.middleware as unknown[] | undefined
  if (!Array.isArray(middleware)) return
  middleware.unshift(async function shipshapeRoute(
    koa: { _matchedRoute?: unknown },
    next: () => Promise<void>,
  ) {
    const ctx = getContext()
    noteRoute(ctx, () => (typeof koa._matchedRoute === 'string' ? koa._matchedRoute : undefined))
    await next()
  })
}

type HonoMatch = [[unknown, { method: string; path: string }], unknown][]

/**
 * Hono: its router is asked again, only when a route name is wanted, which route the request
 * matched (its last match that is not an all-methods middleware); undefined for other fetch apps.
 */
export function honoRoute(app: Any): ((ctx: RequestContext) => void) | undefined {
  const router = app.router as { match?: (method: string, path: string) => [HonoMatch] } | undefined
  if (typeof router?.match !== 'function' || !Array.isArray(app.routes)) return undefined
  return (ctx) =>
    noteRoute(ctx, () => {
      // Called as a method each time: Hono's SmartRouter replaces its own match() on first use.
      const [matches] = (router.match as NonNullable<typeof router.match>)(
        ctx.method === 'HEAD' ? 'GET' : ctx.method,
        ctx.path,
      )
      for (let i = matches.length - 1; i >= 0; i--) {
        const route = matches[i]?.[0]?.[1]
        if (route && route.method !== 'ALL') return route.path
      }
      return undefined
    })
}
