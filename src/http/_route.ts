/**
 * The route a request belongs to, for metric labels and error reports: its path with the parts
 * that vary per request (numbers, UUIDs, hashes, long tokens, e-mail addresses) collapsed to
 * `:id`, so `/users/42/posts/7` and `/users/9/posts/1` are one route. The smallest function that
 * does it, with no knowledge of the app's router.
 */
import type { RequestContext } from '../types.js'

const number = /^\d+$/
/** A run of 8+ hex digits with a digit in it: a UUID part, a content hash (app.3f2a9c1b.js), an ObjectId. */
const hexRun = /(?=[0-9a-f]*\d)[0-9a-f]{8,}/i
const token = /^[\w-]{24,}$/
/** Segments kept per route: deeper paths are cut, so an endless path is one route. */
const maxSegments = 8

/** `/users/:id/posts/:id` for `/users/42/posts/7`. */
export function routeName(ctx: Pick<RequestContext, 'path'>): string {
  const segments = ctx.path.split('/').slice(1, maxSegments + 1)
  let route = ''
  for (const segment of segments) {
    const variable =
      number.test(segment) || hexRun.test(segment) || token.test(segment) || segment.includes('@')
    route += `/${variable ? ':id' : segment.slice(0, 64)}`
  }
  return route || '/'
}
