/** The cache's deploy check, on settings resolved from a real environment as `shipshape check` does. */
import { afterEach, describe, expect, it } from 'vitest'
import { context, findings, production, removeProjects } from './_test/context.js'

afterEach(removeProjects)

describe('cache-shared', () => {
  it('warns about a memory cache on several instances, not with Redis or on one', async () => {
    const several = await findings('cache-shared', context({ ...production, SHIPSHAPE_INSTANCES: '3' }))
    expect(several).toEqual([expect.stringContaining('SHIPSHAPE_INSTANCES is 3 without REDIS_URL')])
    expect(await findings('cache-shared', context(production))).toEqual([])
    expect(
      await findings(
        'cache-shared',
        context({
          ...production,
          SHIPSHAPE_INSTANCES: '3',
          REDIS_URL: 'rediss://:pw@cache.internal:6380',
        }),
      ),
    ).toEqual([])
  })

  it('the Redis URL of the cache is judged by redis-auth and redis-tls', async () => {
    const plain = context({ ...production, REDIS_URL: 'redis://cache.internal:6379' })
    expect(await findings('redis-tls', plain)).toHaveLength(1)
    expect(await findings('redis-auth', plain)).toHaveLength(1)
  })
})
