/**
 * Per-route slow-request thresholds (apm.routeThresholds): a pattern is a route as the console's
 * Endpoints page names it (`/api/users/:id`), optionally after a method (`GET /api/users/:id`),
 * and may end in `*` to match every route that starts with what comes before it (`/api/*`).
 * The most specific pattern that matches wins: the longest path, then an exact path before a
 * prefix, then one with a method before one without; a route no pattern matches gets the
 * default (apm.slowRequest). Matching walks every pattern, so callers that see a route often
 * (the APM, once per request) keep each route's answer: see `Apm.thresholdOf`.
 */
import { METHODS } from 'node:http'
import { ShipshapeError } from '../errors/index.js'

/** One pattern, parsed. */
interface Rule {
  pattern: string
  /** Upper case; undefined: any method. */
  method: string | undefined
  /** The path, without its trailing `*`. */
  path: string
  prefix: boolean
  ms: number
}

/** What a route's threshold is, and where it comes from (the pattern; undefined: the default). */
export interface Threshold {
  ms: number
  pattern: string | undefined
}

const methods = new Set(METHODS)

/** The parsed pattern, or why it is not one (the words of the config error). */
export function parsePattern(pattern: string): Omit<Rule, 'ms'> | string {
  const text = pattern.trim()
  if (text === '') return 'a pattern such as /api/*, not an empty string'
  const space = text.indexOf(' ')
  const method = space < 0 ? undefined : text.slice(0, space)
  const path = space < 0 ? text : text.slice(space + 1).trim()
  if (method !== undefined && !methods.has(method))
    return `a known HTTP method before the path (GET, POST, PUT, DELETE…), not ${JSON.stringify(method)}`
  if (!path.startsWith('/')) return `a path starting with /, not ${JSON.stringify(path)}`
  if (/\s/.test(path)) return 'one space at most, between the method and the path'
  const star = path.indexOf('*')
  if (star >= 0 && star !== path.length - 1) return '* only at the end of the pattern, as in /api/*'
  return { pattern: text, method, path: star < 0 ? path : path.slice(0, -1), prefix: star >= 0 }
}

/** Whether `a` is more specific than `b` (both match the route). */
const moreSpecific = (a: Rule, b: Rule) =>
  a.path.length !== b.path.length
    ? a.path.length > b.path.length
    : a.prefix !== b.prefix
      ? !a.prefix
      : a.method !== undefined && b.method === undefined

/**
 * The thresholds of a set of APM options (apm.slowRequest's default, 500 ms, is
 * django-debug-toolbar's slow-query threshold, which requests were held to before it).
 */
export function routeThresholdsOf(options: {
  slowRequestMs?: number
  routeThresholds?: Readonly<Record<string, number>>
}): RouteThresholds {
  return new RouteThresholds(options.routeThresholds ?? {}, options.slowRequestMs ?? 500)
}

export class RouteThresholds {
  private readonly rules: Rule[]

  /** `thresholds`: pattern → milliseconds. Throws SHIPSHAPE_E_ARGUMENT for a pattern that is not one. */
  constructor(
    thresholds: Readonly<Record<string, number>>,
    readonly defaultMs: number,
  ) {
    this.rules = Object.entries(thresholds).map(([pattern, ms]) => {
      const parsed = parsePattern(pattern)
      if (typeof parsed === 'string' || !(ms >= 0))
        throw new ShipshapeError(
          'SHIPSHAPE_E_ARGUMENT',
          `route threshold ${JSON.stringify(pattern)}: expected ${typeof parsed === 'string' ? parsed : 'milliseconds, 0 or more'}`,
        )
      return { ...parsed, ms }
    })
  }

  /** The threshold of requests to `method route`. */
  of(method: string, route: string): Threshold {
    let best: Rule | undefined
    for (const rule of this.rules) {
      if (rule.method !== undefined && rule.method !== method) continue
      if (rule.prefix ? !route.startsWith(rule.path) : route !== rule.path) continue
      if (best === undefined || moreSpecific(rule, best)) best = rule
    }
    return best ? { ms: best.ms, pattern: best.pattern } : { ms: this.defaultMs, pattern: undefined }
  }
}
