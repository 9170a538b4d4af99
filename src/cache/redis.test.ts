/**
 * The Redis tier on the real Redis (a key prefix of each test's own), and a cache whose Redis is
 * down from the start or goes down mid-test: requests still get their values.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import pino from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { contributedMetrics } from '../_test/metrics.js'
import type { LogLine } from '../_test/pipeline.js'
import { eventually } from '../_test/pipeline.js'
import { closedPort } from '../_test/sites.js'
import { type Cache, type CacheOptions, createCache } from './index.js'

const url = 'redis://127.0.0.1:6379'
const prefix = `cache-test-${randomUUID()}`
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms))
const open: Cache[] = []
const admin = new Redis(url)

afterEach(() => {
  for (const cache of open.splice(0)) cache.close()
})
afterAll(async () => {
  const keys = await admin.keys(`${prefix}:*`)
  if (keys.length > 0) await admin.del(...keys)
  admin.disconnect()
})

/** Two caches on one Redis stand for two instances (each has its memory tier and bus). */
async function instance(options: CacheOptions = {}): Promise<Cache> {
  const cache = await createCache({ redisUrl: url, prefix, name: 'shared', ...options })
  open.push(cache)
  return cache
}

function capturingLogger() {
  const logs: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  return { logs, logger }
}

describe('Redis tier', () => {
  it('stores values in Redis under the prefix, readable by another instance', async () => {
    const [a, b] = [await instance(), await instance()]
    expect(a.mode).toBe('redis')
    await a.set('user:1', { name: 'Ada' }, { ttl: 60, tags: ['users'] })
    expect(await admin.exists(`${prefix}:shared:v:user:1`)).toBe(1)
    expect(await admin.smembers(`${prefix}:shared:t:users`)).toEqual([`${prefix}:shared:v:user:1`])
    expect(await b.get('user:1')).toEqual({ name: 'Ada' })
    const ttl = await admin.pttl(`${prefix}:shared:v:user:1`)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('keeps the memory tiers coherent: set, delete, deleteByTag and clear reach the other instance', async () => {
    const [a, b] = [await instance(), await instance()]
    await a.set('k', 'one', { tags: ['t'] })
    expect(await b.get('k')).toBe('one') // now in b's memory tier too
    await a.set('k', 'two', { tags: ['t'] })
    await eventually(async () => (await b.get('k')) === 'two', 'the new value in b')
    await a.deleteByTag('t')
    await eventually(async () => (await b.get('k')) === undefined, 'the tag invalidation in b')
    expect(await admin.exists(`${prefix}:shared:v:k`)).toBe(0)
    await b.set('x', 1)
    expect(await a.get('x')).toBe(1)
    await b.delete('x')
    await eventually(async () => (await a.get('x')) === undefined, 'the delete in a')
    await a.set('y', 2)
    expect(await b.get('y')).toBe(2)
    await a.clear()
    await eventually(async () => (await b.get('y')) === undefined, 'the clear in b')
  })

  it('runs the factory at most once across instances for concurrent misses', async () => {
    const caches = [await instance(), await instance(), await instance()]
    let runs = 0
    const factory = async () => {
      runs++
      await sleep(200)
      return 'computed'
    }
    const values = await Promise.all(
      caches.flatMap((cache) => Array.from({ length: 3000 }, () => cache.getOrSet('storm', factory))),
    )
    expect(runs).toBe(1)
    expect(new Set(values)).toEqual(new Set(['computed']))
  })

  it('waits for a lease holder at most the lease, then runs the factory itself', async () => {
    const a = await instance({ lease: 0.3 })
    // Another instance took the lease and died: nobody will write the value.
    await admin.set(`${prefix}:shared:l:orphan`, '999999999', 'PX', 10_000)
    expect(await a.getOrSet('orphan', () => 'mine')).toBe('mine')
  })

  it('fences out a writer whose lease was taken over', async () => {
    const a = await instance({ lease: 0.1 })
    const b = await instance({ lease: 5 })
    let releaseA: () => void = () => {}
    const slow = a.getOrSet('fenced', async () => {
      await new Promise<void>((wake) => (releaseA = wake))
      return 'from the expired lease'
    })
    await sleep(200) // a's lease has expired
    expect(await b.getOrSet('fenced', () => 'from the current lease')).toBe('from the current lease')
    releaseA()
    expect(await slow).toBe('from the expired lease') // its caller still gets its own value
    const c = await instance()
    expect(await c.get('fenced')).toBe('from the current lease')
  })

  it('serves stale across instances while one refreshes', async () => {
    const a = await instance({ jitter: 0 })
    const b = await instance({ jitter: 0 })
    await a.set('page', 'old', { ttl: 0.05, grace: 60 })
    await sleep(80)
    let refreshes = 0
    const refresh = async () => {
      refreshes++
      await sleep(100)
      return 'new'
    }
    const options = { ttl: 60, grace: 60 }
    expect(await b.getOrSet('page', refresh, options)).toBe('old')
    expect(await a.getOrSet('page', refresh, options)).toBe('old')
    await eventually(async () => (await a.get('page')) === 'new', 'the refreshed value')
    expect(refreshes).toBe(1)
  })
})

describe('Redis down', () => {
  it('falls back to memory and the factory when Redis cannot be reached, logging once', async () => {
    const { logs, logger } = capturingLogger()
    const port = await closedPort()
    const cache = await createCache({ redisUrl: `redis://127.0.0.1:${port}`, name: 'down', logger })
    open.push(cache)
    let runs = 0
    for (let i = 0; i < 20; i++) expect(await cache.getOrSet('k', () => ++runs)).toBe(1)
    expect(runs).toBe(1) // the memory tier still works
    await cache.set('s', 'v')
    expect(await cache.get('s')).toBe('v')
    await cache.deleteByTag('t')
    const warnings = logs.filter((line) => line.msg.includes('the shared cache (Redis) failed'))
    expect(warnings).toHaveLength(1)
    const text = await contributedMetrics()
    expect(Number(/shipshape_cache_errors_total\{cache="down"\} (\d+)/.exec(text)?.[1])).toBeGreaterThan(1)
  })

  it('keeps answering when its Redis stops mid-test', async () => {
    const port = await closedPort()
    let server: ChildProcess | undefined = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    )
    try {
      const own = `redis://127.0.0.1:${port}`
      await eventually(async () => {
        const probe = new Redis(own, { lazyConnect: true, retryStrategy: () => null })
        probe.on('error', () => {}) // refused until the server listens
        const up = await probe.ping().then(
          () => true,
          () => false,
        )
        probe.disconnect()
        return up
      }, 'the redis-server to start')
      const { logs, logger } = capturingLogger()
      const a = await createCache({ redisUrl: own, name: 'stops', logger })
      const b = await createCache({ redisUrl: own, name: 'stops' })
      open.push(a, b)
      await a.set('before', 'shared')
      expect(await b.get('before')).toBe('shared')
      const exited = new Promise((done) => server?.once('exit', done))
      server.kill('SIGKILL')
      await exited
      server = undefined
      let runs = 0
      expect(await a.getOrSet('after', () => `run ${++runs}`)).toBe('run 1')
      expect(await a.getOrSet('after', () => `run ${++runs}`)).toBe('run 1')
      expect(await b.getOrSet('other', () => 'b still answers')).toBe('b still answers')
      expect(await a.get('before')).toBe('shared') // still in a's memory tier
      await a.deleteByTag('anything')
      expect(logs.filter((line) => line.msg.includes('the shared cache (Redis) failed')).length).toBe(1)
    } finally {
      server?.kill('SIGKILL')
    }
  })
})
