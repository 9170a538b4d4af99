/**
 * Route names: the template a request matched (`/posts/:id`), never the raw path, so per-route
 * statistics and metrics stay a bounded set whatever ids clients send. The framework's own name
 * is used where it knows one; otherwise the path is collapsed: numbers, UUIDs, hex strings and
 * other digit-bearing segments become `:id`, `:uuid`, `:hex`.
 */
import type { RequestContext } from '../types.js'
import { fillSlot, newSlot, slotOf } from './_slots.js'

/** Routes the adapters learnt from the framework during the request: a name, or how to find it. */
const noted = newSlot<string | (() => string | undefined)>('route')

/** Longest route name kept; a longer collapsed path is cut (its tail is rarely what tells routes apart). */
const maxLength = 200

/**
 * Records the route the framework matched for this request (adapters call it: Fastify's
 * `routeOptions.url`, Koa router's `_matchedRoute`, Hono's matched path). An app on a router
 * shipshape does not know can call it too; `route` may be a function, evaluated only if asked.
 */
export function noteRoute(ctx: RequestContext | undefined, route: string | (() => string | undefined)): void {
  if (ctx !== undefined) fillSlot(ctx, noted, route)
}

/**
 * The route of a request: the framework's template where it knows one (Express `req.route.path`
 * under its `baseUrl`, and what adapters noted), else the path collapsed (see `collapsePath`).
 */
export function routeName(ctx: RequestContext): string {
  const note = slotOf(ctx, noted)
  const known = typeof note === 'function' ? note() : note
  // Asked more than once per request (the metrics, the APM): a function's answer (Hono's second
  // routing) is kept once it has one.
  if (typeof note === 'function' && known) fillSlot(ctx, noted, known)
  if (known) return known.slice(0, maxLength)
  // Express puts the matched route on the request itself (its request is node's, re-prototyped).
  const { route, baseUrl } = ctx.req as { route?: { path?: unknown }; baseUrl?: unknown }
  if (route?.path !== undefined && (typeof route.path === 'string' || route.path instanceof RegExp)) {
    return `${typeof baseUrl === 'string' ? baseUrl : ''}${String(route.path)}`.slice(0, maxLength)
  }
  return collapsedOf(ctx.path)
}

/**
 * Collapsed paths by path, so a path seen again gets the same string back: the Maps keyed by
 * route (the metrics, the APM's routes) then find it by the hash V8 keeps on the string instead
 * of hashing a new one. Emptied when full: ids in paths would otherwise grow it without bound.
 */
const collapsed = new Map<string, string>()
const maxCollapsed = 1000

function collapsedOf(path: string): string {
  let route = collapsed.get(path)
  if (route === undefined) {
    if (collapsed.size >= maxCollapsed) collapsed.clear()
    route = collapsePath(path)
    collapsed.set(path, route)
  }
  return route
}

const uuid = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i
const hex = /^(?=.*\d)[0-9a-f]{8,}$/i
const version = /^v\d{1,2}$/i

/** `/users/42/posts/9f1c…` → `/users/:id/posts/:hex`; a segment with a digit in it is an id (bar `v1`, `v2`). */
export function collapsePath(path: string): string {
  let out = ''
  for (const segment of path.split('/')) {
    if (out !== '' || segment !== '') out += '/'
    if (segment === '') continue
    if (/^\d+$/.test(segment)) out += ':id'
    else if (uuid.test(segment)) out += ':uuid'
    else if (hex.test(segment)) out += ':hex'
    else if (/\d/.test(segment) && !version.test(segment)) out += ':id'
    else out += segment
    if (out.length >= maxLength) return out.slice(0, maxLength)
  }
  return out || '/'
}
