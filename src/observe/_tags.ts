/**
 * Tags the app sets on what shipshape records (`setTag('tenant', 'acme')`): during a request they
 * belong to that request, and mark its error events and its APM reports; outside one (at start-up)
 * they mark everything this worker records. The console counts an issue's events per tag value and
 * filters issues by one.
 *
 * Tags are for a few values with few distinct values each (tenant, plan, region, feature flag): each
 * distinct value of an issue is a row in the database. Limits are Sentry's, so the same calls work
 * with a Sentry server as the destination: keys of 1 to 32 characters of letters, digits and
 * `_ . : -`; values of 1 to 200 characters without a line break; 20 tags per request.
 */

import { ShipshapeError } from '../errors/index.js'
import { fillSlot, getContext, newSlot, slotOf } from '../http/index.js'
import type { RequestContext } from '../types.js'

const keyPattern = /^[A-Za-z0-9_.:-]{1,32}$/
const maxValue = 200
const maxTags = 20
/** Set by shipshape itself on every event: an app's own would make them lie. */
const reserved = new Set(['request_id', 'route', 'kind', 'code'])
/**
 * A tag whose key names a secret is kept with its value masked, as log lines are. `auth` alone or
 * `authoriz…`, not any key starting with it: `author` is a tag, not a credential.
 */
const secretKey = /pass(word|wd)?$|secret|token|api_?key|^auth$|authoriz|session|cookie|credential|jwt|otp$/i

const tagsSlot = newSlot<Record<string, string>>('tags')
/** The worker's own tags, set outside any request. */
const worker: Record<string, string> = {}

/** Why a tag cannot be set, or undefined when it can. */
function tagProblem(key: string, value: string): string | undefined {
  if (!keyPattern.test(key))
    return `the key ${JSON.stringify(key.slice(0, 40))} is not 1 to 32 letters, digits, _ . : or -`
  if (reserved.has(key)) return `the key ${key} is set by shipshape on every event`
  if (value.length === 0 || value.length > maxValue || /[\r\n]/.test(value))
    return `the value of ${key} is not 1 to ${maxValue} characters on one line`
  return undefined
}

/**
 * Sets a tag on the current request, or on every later record of this worker when called outside
 * a request. Numbers and booleans are kept as text. A tag that breaks the limits above is not set,
 * and the call throws SHIPSHAPE_E_TAG saying why, so it shows in development rather than vanishing.
 */
export function setTag(key: string, value: string | number | boolean): void {
  const text = String(value)
  const problem = tagProblem(key, text)
  if (problem) throw new ShipshapeError('SHIPSHAPE_E_TAG', `setTag: ${problem}`)
  const ctx = getContext()
  let tags = ctx ? slotOf(ctx, tagsSlot) : worker
  if (tags === undefined && ctx) {
    tags = {}
    fillSlot(ctx, tagsSlot, tags)
  }
  const target = tags as Record<string, string>
  if (!(key in target) && Object.keys(target).length >= maxTags)
    throw new ShipshapeError(
      'SHIPSHAPE_E_TAG',
      `setTag: ${key} would be tag ${maxTags + 1}; at most ${maxTags} are kept`,
    )
  target[key] = secretKey.test(key) ? '[Redacted]' : text
}

/** The worker's tags and those of request `ctx` (which win), or undefined when there are none. */
export function tagsOf(ctx: RequestContext | undefined): Record<string, string> | undefined {
  const own = ctx ? slotOf(ctx, tagsSlot) : undefined
  if (own === undefined) return hasAny(worker) ? { ...worker } : undefined
  return { ...worker, ...own }
}

function hasAny(record: Record<string, string>): boolean {
  for (const _ in record) return true
  return false
}
