/**
 * Checks on the cache. Whether Redis is reached safely is services.ts's (redis-auth, redis-tls);
 * here: a memory cache on several instances, where each answers with its own copy.
 */
import { needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

export const cacheShared: DeployCheck = {
  id: 'cache-shared',
  subject: 'cache',
  severity: 'warning',
  title: 'Instances behind one load balancer share their cache',
  fix: 'Set REDIS_URL so every instance shares one cache (the memory tier stays in front, kept coherent over pub/sub); or, if no page or fragment is cached, silence this check.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    // How many machines run the app is not knowable from one of them: SHIPSHAPE_INSTANCES says it.
    const instances = settings.database?.instances ?? 1
    const redisUrl = settings.cache?.redisUrl
    if (instances <= 1 || redisUrl !== undefined) return []
    return [
      `SHIPSHAPE_INSTANCES is ${instances} without REDIS_URL: each instance caches pages and fragments in its own memory, so visitors see whichever copy their instance holds, and a delete or deleteByTag clears one instance only`,
    ]
  },
}
