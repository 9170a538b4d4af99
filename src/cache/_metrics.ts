/**
 * The cache's metrics, by cache name. As in http/_metrics.ts, the hot path bumps plain numbers;
 * the worker's heartbeat collects them (contributeMetrics) and the primary sums every worker's
 * on /metrics. The counters live at module level because the process counts them, whichever
 * cache object does.
 */
import { contributeMetrics } from '../observe/index.js'

export interface CacheStats {
  hits: number
  misses: number
  /** Stale values served during grace (after the TTL, while a refresh runs or the factory fails). */
  stale: number
  /** Callers that joined a factory already running for their key instead of running it again. */
  prevented: number
  evictions: number
  /** Bytes the memory tier holds now (each value's serialized length). */
  bytes: number
  /** Shared-tier (Redis) operations that failed and fell back to the memory tier and the factory. */
  errors: number
}

const byCache = new Map<string, CacheStats>()

/** The counters of the cache called `name`; caches that share a name add up. */
export function statsOf(name: string): CacheStats {
  let stats = byCache.get(name)
  if (stats === undefined) {
    stats = { hits: 0, misses: 0, stale: 0, prevented: 0, evictions: 0, bytes: 0, errors: 0 }
    byCache.set(name, stats)
  }
  return stats
}

const counters = [
  ['hits', 'shipshape_cache_hits_total', 'Cache reads answered with a fresh value.'],
  ['misses', 'shipshape_cache_misses_total', 'Cache reads that found no usable value.'],
  ['stale', 'shipshape_cache_stale_total', 'Stale values served within their grace period.'],
  [
    'prevented',
    'shipshape_cache_stampedes_prevented_total',
    'Callers that waited for a factory already running for the same key instead of running it again.',
  ],
  ['evictions', 'shipshape_cache_evictions_total', 'Values the memory tier dropped to stay within its size.'],
  ['errors', 'shipshape_cache_errors_total', 'Shared-tier (Redis) operations that failed and fell back.'],
] as const

contributeMetrics(
  ...counters.map(([field, name, help]) => ({
    name,
    help,
    type: 'counter' as const,
    collect: () =>
      [...byCache]
        .filter(([, stats]) => stats[field] > 0)
        .map(([cache, stats]) => ({ labels: { cache }, value: stats[field] })),
  })),
  {
    name: 'shipshape_cache_bytes',
    help: 'Bytes held by the memory tier of each cache, over every worker.',
    type: 'gauge',
    collect: () => [...byCache].map(([cache, stats]) => ({ labels: { cache }, value: stats.bytes })),
  },
)
