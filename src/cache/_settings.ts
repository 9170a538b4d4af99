/**
 * The cache settings group of `shipshape serve` (see docs/cache.md) and the options each worker
 * builds its cache from, once, when it starts.
 */
import { z } from 'zod'
import { bytes, duration, group, type Infer, setting } from '../config/index.js'

const seconds = () => duration({ bareUnit: 's' })

export const cacheSettings = group(
  {
    size: setting(bytes(), {
      default: '64MiB',
      description:
        "The memory tier's budget per worker, counted as the serialized size of values and keys. Least recently used values go first past it; one value larger than a quarter of it is not kept (and is logged).",
    }),
    ttl: setting(seconds(), {
      default: '5m',
      description: 'How long a value stays fresh when a call gives no ttl (a bare number is seconds).',
    }),
    grace: setting(seconds(), {
      default: '0s',
      description:
        'How long after its TTL a stale value may still be served, while one caller refreshes it or while the source fails, when a call gives no grace. 0: gone at its TTL.',
    }),
    redisUrl: setting(z.string().regex(/^rediss?:\/\//, { error: 'a redis:// or rediss:// URL' }), {
      env: 'REDIS_URL',
      secret: true,
      shownDefault: 'none: memory in each worker, invalidations relayed by the primary',
      description:
        'Redis as the shared tier for every worker and instance, with a memory tier in front kept coherent over pub/sub. Use rediss:// and a password for a Redis on another machine.',
      example: 'rediss://:password@redis.internal:6380',
    }),
    prefix: setting(z.string().regex(/^[\w.:-]{1,64}$/, { error: '1 to 64 letters, digits or _ . : -' }), {
      default: 'shipshape',
      description:
        'Put before every Redis key, so apps (or staging and production) sharing one Redis do not read each other.',
    }),
    lease: setting(seconds(), {
      default: '10s',
      description:
        "With Redis: the longest one instance's factory holds a key's lease; the others wait for its value at most this long, then run the factory themselves.",
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_CACHE_',
    flagPrefix: 'cache-',
    description: 'The cache: memory per worker by default, Redis with REDIS_URL. See [cache.md](cache.md).',
  },
)

export type CacheSettings = Infer<typeof cacheSettings.shape>

/** What the cache settings become for `shipshape serve`'s workers (plain values, sent as JSON). */
export interface CacheServeOptions {
  cache: {
    maxBytes: number
    ttlMs: number
    graceMs: number
    redisUrl: string | undefined
    prefix: string
    leaseMs: number
  }
}

export function cacheOptions(settings: CacheSettings): CacheServeOptions {
  return {
    cache: {
      maxBytes: settings.size,
      ttlMs: settings.ttl,
      graceMs: settings.grace,
      redisUrl: settings.redisUrl,
      prefix: settings.prefix,
      leaseMs: settings.lease,
    },
  }
}
