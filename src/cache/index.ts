/**
 * shipshape/cache: values, HTML fragments and whole responses cached in memory per worker (the
 * default, invalidations relayed to the other workers by the primary) or in Redis with REDIS_URL,
 * with stampede protection and grace; CDN headers and purge by tag. See docs/cache.md.
 */
export { Cache, createCache } from './_cache.js'
export { type CdnName, type CdnOptions, cdn, cdnHeaders, cdnTagRules } from './_cdn.js'
export { maxKeyLength, maxTagLength } from './_input.js'
export { type CachePageOptions, cachePage } from './_page.js'
export { type CloudflarePurge, type FastlyPurge, type PurgeOptions, purger } from './_purge.js'
export { cache, fragment, workerCache } from './_worker.js'
export {
  type CacheOptions,
  type Duration,
  type EntryOptions,
  jsonSerializer,
  type Serializer,
} from './types.js'
