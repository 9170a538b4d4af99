/**
 * The checks every public call runs on its arguments, each failing with a catalogue error that
 * names the call: keys, tags and durations are validated here once, so the tiers can trust them.
 */
import { ShipshapeError } from '../errors/index.js'

/** Longer keys are usually a URL or a query pasted in: hash those (the response cache does). */
export const maxKeyLength = 512
/** Akamai's per-tag limit, the smallest of the CDNs', so a cache tag can always be a CDN tag. */
export const maxTagLength = 128
/** Printable ASCII without space (Fastly's separator) or comma (Cloudflare's and Akamai's). */
const tagPattern = /^[!-+\--~]+$/

export function checkKey(call: string, key: unknown): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > maxKeyLength) {
    const found =
      typeof key === 'string' ? `${key.length} characters` : key === undefined ? 'undefined' : typeof key
    throw new ShipshapeError(
      'SHIPSHAPE_E_CACHE_KEY',
      `${call}: the key must be a string of 1 to ${maxKeyLength} characters, got ${found}`,
    )
  }
  return key
}

export function checkTags(call: string, tags: unknown): readonly string[] {
  if (tags === undefined) return []
  if (!Array.isArray(tags))
    throw new ShipshapeError('SHIPSHAPE_E_CACHE_TAG', `${call}: tags must be an array of strings`)
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length > maxTagLength || !tagPattern.test(tag)) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_CACHE_TAG',
        `${call}: the tag ${JSON.stringify(tag)} is not 1 to ${maxTagLength} printable ASCII characters without spaces or commas`,
      )
    }
  }
  return tags as string[]
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * A duration in milliseconds: a number is seconds (as HTTP's max-age and Redis's EX count them), a
 * string is `500ms`, `30s`, `2m`, `1h30m`. Parsed here rather than with shipshape/config, which
 * would load zod into every worker that caches.
 */
export function checkDuration(call: string, name: string, value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value * 1000)
  if (typeof value === 'string') {
    const text = value.trim()
    if (/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text)) {
      let total = 0
      for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g))
        total += Number(amount) * (units[unit as string] as number)
      return Math.round(total)
    }
  }
  throw new ShipshapeError(
    'SHIPSHAPE_E_CACHE_TTL',
    `${call}: ${name} must be seconds (a number, 0 or more) or a duration such as 30s or 2m, got ${JSON.stringify(value) ?? String(value)}`,
  )
}

/** Whole seconds for HTTP headers; a duration that is not whole seconds is rounded down. */
export function checkSeconds(call: string, name: string, value: unknown): number {
  return Math.floor(checkDuration(call, name, value) / 1000)
}
