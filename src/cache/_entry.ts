/** An entry's options settled against the cache's defaults, and the entry made from a value. */
import { ShipshapeError } from '../errors/index.js'
import { checkDuration, checkTags } from './_input.js'
import type { Entry } from './_memory.js'
import type { EntryOptions, Serializer } from './types.js'

export interface Settled {
  ttlMs: number
  graceMs: number
  timeoutMs: number
  tags: readonly string[]
}

export function settle(defaults: Settled, call: string, options: EntryOptions | undefined): Settled {
  if (options === undefined) return defaults
  return {
    ttlMs: options.ttl === undefined ? defaults.ttlMs : checkDuration(call, 'ttl', options.ttl),
    graceMs: options.grace === undefined ? defaults.graceMs : checkDuration(call, 'grace', options.grace),
    timeoutMs:
      options.timeout === undefined ? defaults.timeoutMs : checkDuration(call, 'timeout', options.timeout),
    tags: checkTags(call, options.tags),
  }
}

/** A value with its times: fresh for the TTL less up to `jitter` of it, then stale for `grace`. */
export function entryOf(
  serializer: Serializer,
  jitter: number,
  call: string,
  value: unknown,
  settled: Settled,
): Entry {
  let text: unknown
  try {
    text = serializer.serialize(value)
  } catch (error) {
    throw new ShipshapeError('SHIPSHAPE_E_CACHE_VALUE', `${call}: ${(error as Error).message}`, {
      cause: error,
    })
  }
  if (typeof text !== 'string') {
    throw new ShipshapeError(
      'SHIPSHAPE_E_CACHE_VALUE',
      `${call}: ${value === undefined ? 'undefined (return null for "nothing")' : `a ${typeof value}`} does not serialize`,
    )
  }
  const fresh = Date.now() + Math.round(settled.ttlMs * (1 - jitter * Math.random()))
  // Kept as the serializer reads it back, so memory and Redis hand out the same kind of value.
  return {
    value: serializer.deserialize(text),
    fresh,
    stale: fresh + settled.graceMs,
    tags: settled.tags,
    text,
  }
}
