/**
 * The one Redis connection of a protected area, shared by the lockout's counters and the
 * sessions. ioredis loads only when Redis is configured.
 */
import type { Redis } from 'ioredis'

/** How long a start waits for Redis before going on; until it answers, each check fails (and refuses). */
const readyWaitMs = 2000

export async function connectRedis(url: string): Promise<Redis> {
  const { Redis: RedisClient } = await import('ioredis')
  const client: Redis = new RedisClient(url, {
    // rate-limiter-flexible's advice: fail at once while disconnected, never queue a request.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  })
  client.on('error', () => {}) // each failed command rejects; the connection retries by itself
  await new Promise<void>((resolve) => {
    if (client.status === 'ready') return resolve()
    client.once('ready', resolve)
    setTimeout(resolve, readyWaitMs).unref()
  })
  return client
}

/** Closes the connection, at once if Redis does not answer. */
export const closeRedis = async (client: Redis) => void (await client.quit().catch(() => client.disconnect()))
