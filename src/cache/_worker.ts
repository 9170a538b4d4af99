/**
 * The worker's cache: built once when a `shipshape serve` worker starts, from the cache settings,
 * and reached by cache() and fragment() through the worker state, in a request or outside one.
 */
import { ShipshapeError } from '../errors/index.js'
import { workerState } from '../http/index.js'
import type { Logger } from '../observe/index.js'
import type { Relay } from '../types.js'
import { type Cache, createCache } from './_cache.js'
import type { CacheServeOptions } from './_settings.js'
import type { Duration } from './types.js'

declare module '../types.js' {
  interface WorkerState {
    /** The worker's default cache (cache: memory, or Redis with REDIS_URL). */
    readonly cache?: Cache
  }
}

/** The cache a serve worker puts in its state; `relay` carries memory-mode invalidations. */
export function workerCache(
  options: CacheServeOptions['cache'],
  { relay, logger }: { relay?: Relay; logger?: Logger },
): Promise<Cache> {
  return createCache({
    maxBytes: options.maxBytes,
    ttl: options.ttlMs / 1000,
    grace: options.graceMs / 1000,
    lease: options.leaseMs / 1000,
    redisUrl: options.redisUrl,
    prefix: options.prefix,
    relay,
    logger,
  })
}

/** The serve worker's cache (throws outside one: create your own with createCache()). */
export function cache(): Cache {
  const found = workerState()?.cache
  if (found === undefined)
    throw new ShipshapeError(
      'SHIPSHAPE_E_CACHE_UNAVAILABLE',
      'cache() and fragment() read the worker’s cache',
    )
  return found
}

/** The worker cache's fragment(): a piece of HTML rendered at most once per `ttl`. */
export function fragment(
  key: string,
  ttl: Duration,
  render: () => unknown,
  options?: { varyOn?: readonly unknown[]; tags?: readonly string[] },
): Promise<string> {
  return cache().fragment(key, ttl, render, options)
}
