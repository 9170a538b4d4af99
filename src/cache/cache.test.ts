/** The memory tier and the rules on top: stampede, grace, tags, bad input, the byte budget. */
import { Eta } from 'eta'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { contributedMetrics } from '../_test/metrics.js'
import type { LogLine } from '../_test/pipeline.js'
import { createCache, type Serializer } from './index.js'

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms))

function capturingLogger() {
  const logs: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  return { logs, logger }
}

describe('memory cache', () => {
  it('gets, sets, deletes, deletes by tag and clears', async () => {
    const cache = await createCache({ name: 'basic' })
    expect(await cache.get('a')).toBeUndefined()
    await cache.set('a', { n: 1 }, { tags: ['t1'] })
    await cache.set('b', [1, 2], { tags: ['t1', 't2'] })
    await cache.set('c', 'three', { tags: ['t2'] })
    expect(await cache.get('a')).toEqual({ n: 1 })
    await cache.delete('a')
    expect(await cache.get('a')).toBeUndefined()
    await cache.deleteByTag('t1')
    expect(await cache.get('b')).toBeUndefined()
    expect(await cache.get('c')).toBe('three')
    await cache.clear()
    expect(await cache.get('c')).toBeUndefined()
  })

  it('hands out what the serializer reads back, and takes a serializer of your own', async () => {
    const cache = await createCache({ name: 'serial' })
    await cache.set('when', { at: new Date(0) })
    expect(await cache.get('when')).toEqual({ at: '1970-01-01T00:00:00.000Z' })
    const dates: Serializer = {
      serialize: (value) => JSON.stringify(value, (_k, v) => (typeof v === 'string' ? `s:${v}` : v)),
      deserialize: (text) => JSON.parse(text, (_k, v) => (typeof v === 'string' ? v.slice(2) : v)),
    }
    const own = await createCache({ name: 'serial-own', serializer: dates })
    await own.set('x', { a: 'b' })
    expect(await own.get('x')).toEqual({ a: 'b' })
  })

  it('runs the factory once for 10,000 concurrent misses on one key', async () => {
    const cache = await createCache({ name: 'stampede' })
    let runs = 0
    const factory = async () => {
      runs++
      await sleep(50)
      return 'value'
    }
    const values = await Promise.all(Array.from({ length: 10_000 }, () => cache.getOrSet('hot', factory)))
    expect(runs).toBe(1)
    expect(new Set(values)).toEqual(new Set(['value']))
    expect(await cache.getOrSet('hot', factory)).toBe('value')
    expect(runs).toBe(1)
    const text = await contributedMetrics()
    expect(text).toContain('shipshape_cache_stampedes_prevented_total{cache="stampede"} 9999')
    expect(text).toContain('shipshape_cache_misses_total{cache="stampede"} 10000')
    expect(text).toContain('shipshape_cache_hits_total{cache="stampede"} 1')
  })

  it('serves the stale value while one caller refreshes it in the background', async () => {
    const cache = await createCache({ name: 'swr', jitter: 0 })
    let version = 0
    let release: () => void = () => {}
    const factory = async () => {
      version++
      if (version > 1) await new Promise<void>((wake) => (release = wake))
      return `v${version}`
    }
    expect(await cache.getOrSet('k', factory, { ttl: 0.05, grace: 60 })).toBe('v1')
    await sleep(80)
    const stale = await Promise.all(
      Array.from({ length: 50 }, () => cache.getOrSet('k', factory, { ttl: 0.05, grace: 60 })),
    )
    expect(new Set(stale)).toEqual(new Set(['v1']))
    expect(version).toBe(2) // one refresh, started by the first stale read
    release()
    await sleep(10)
    expect(await cache.getOrSet('k', factory, { ttl: 60, grace: 60 })).toBe('v2')
  })

  it('serves stale up to grace while the factory fails, then fails', async () => {
    const { logs, logger } = capturingLogger()
    const cache = await createCache({ name: 'grace', jitter: 0, graceBackoff: 0, logger })
    await cache.set('k', 'good', { ttl: 0.05, grace: 0.3 })
    await sleep(80)
    const failing = async (): Promise<string> => {
      throw new Error('database down')
    }
    expect(await cache.getOrSet('k', failing, { ttl: 0.05, grace: 0.3 })).toBe('good')
    await sleep(20)
    expect(logs.some((line) => line.msg.includes('serving the stale value'))).toBe(true)
    await sleep(400)
    await expect(cache.getOrSet('k', failing)).rejects.toThrow('database down')
  })

  it('waits for a slow refresh up to its soft timeout, then serves stale', async () => {
    const cache = await createCache({ name: 'soft', jitter: 0 })
    await cache.set('k', 'old', { ttl: 0.02, grace: 60 })
    await sleep(40)
    const slow = async () => {
      await sleep(300)
      return 'new'
    }
    const fast = async () => 'fresh'
    expect(await cache.getOrSet('k', slow, { timeout: 0.05, grace: 60 })).toBe('old')
    await cache.set('j', 'old', { ttl: 0.02, grace: 60 })
    await sleep(40)
    expect(await cache.getOrSet('j', fast, { timeout: 1, grace: 60 })).toBe('fresh')
  })

  it('spreads expiries by the jitter', async () => {
    const cache = await createCache({ name: 'jitter', jitter: 0.5 })
    for (let i = 0; i < 40; i++) await cache.set(`k${i}`, i, { ttl: 0.2 })
    await sleep(150)
    let alive = 0
    for (let i = 0; i < 40; i++) if ((await cache.get(`k${i}`)) !== undefined) alive++
    // TTLs fall between 100 and 200 ms: at 150 ms some are gone and some are not.
    expect(alive).toBeGreaterThan(0)
    expect(alive).toBeLessThan(40)
  })

  it('stays within its byte budget, evicting the least recently used', async () => {
    const cache = await createCache({ name: 'budget', maxBytes: 10_000 })
    for (let i = 0; i < 100; i++) await cache.set(`k${i}`, 'x'.repeat(500))
    expect(await cache.get('k0')).toBeUndefined()
    expect(await cache.get('k99')).toBe('x'.repeat(500))
    const text = await contributedMetrics()
    const bytes = Number(/shipshape_cache_bytes\{cache="budget"\} (\d+)/.exec(text)?.[1])
    expect(bytes).toBeGreaterThan(5000)
    expect(bytes).toBeLessThanOrEqual(10_000)
    expect(text).toMatch(/shipshape_cache_evictions_total\{cache="budget"\} [1-9]/)
  })

  it('does not keep a value larger than the budget allows, and evicts nothing for it', async () => {
    const { logs, logger } = capturingLogger()
    const cache = await createCache({ name: 'huge', maxBytes: 10_000, logger })
    await cache.set('small', 'kept')
    await cache.set('huge', 'x'.repeat(20_000))
    expect(await cache.get('huge')).toBeUndefined()
    expect(await cache.get('small')).toBe('kept')
    expect(logs.some((line) => line.msg.includes('was not cached') && line.key === 'huge')).toBe(true)
    // getOrSet still answers with the value, without keeping it.
    expect(await cache.getOrSet('huge2', () => 'y'.repeat(20_000))).toHaveLength(20_000)
  })

  it('refuses bad input with errors that name the call', async () => {
    const cache = await createCache({ name: 'input' })
    await expect(cache.get('k'.repeat(513))).rejects.toThrow(/SHIPSHAPE|cache key/)
    await expect(cache.get('k'.repeat(513))).rejects.toMatchObject({ code: 'SHIPSHAPE_E_CACHE_KEY' })
    await expect(cache.set('', 1)).rejects.toThrow('cache.set(): the key must be a string of 1 to 512')
    const circular: Record<string, unknown> = {}
    circular.self = circular
    await expect(cache.set('c', circular)).rejects.toMatchObject({ code: 'SHIPSHAPE_E_CACHE_VALUE' })
    await expect(cache.set('c', 10n)).rejects.toThrow('cache.set()')
    await expect(cache.getOrSet('u', () => undefined)).rejects.toThrow('return null')
    await expect(cache.set('t', 1, { ttl: '5 minutes' })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_CACHE_TTL',
      message: expect.stringContaining('cache.set(): ttl must be seconds'),
    })
    await expect(cache.getOrSet('t', () => 1, { ttl: -1 })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_CACHE_TTL',
    })
    await expect(cache.set('t', 1, { tags: ['has space'] })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_CACHE_TAG',
    })
    await expect(cache.deleteByTag(['a,b'])).rejects.toThrow('cache.deleteByTag()')
    await expect(createCache({ ttl: 'soon' })).rejects.toThrow('createCache(): ttl')
  })

  it('renders a fragment once per TTL, per varyOn', async () => {
    const cache = await createCache({ name: 'fragment' })
    let renders = 0
    const nav = (locale: string) =>
      cache.fragment(
        'nav',
        '2m',
        () => {
          renders++
          return `<nav lang="${locale}">…</nav>`
        },
        { varyOn: [locale], tags: ['nav'] },
      )
    expect(await nav('en')).toBe('<nav lang="en">…</nav>')
    expect(await nav('en')).toBe('<nav lang="en">…</nav>')
    expect(await nav('fr')).toBe('<nav lang="fr">…</nav>')
    expect(renders).toBe(2)
    await cache.deleteByTag('nav')
    await nav('en')
    expect(renders).toBe(3)
  })

  it('caches a fragment from an Eta template, as docs/cache.md shows', async () => {
    const cache = await createCache({ name: 'eta' })
    const eta = new Eta()
    let renders = 0
    const template = '<header><%~ await it.cached("nav", "2m", () => it.renderNav()) %></header>'
    const data = {
      cached: (key: string, ttl: string, render: () => unknown) => cache.fragment(key, ttl, render),
      renderNav: async () => `<nav>${++renders}</nav>`,
    }
    expect(await eta.renderStringAsync(template, data)).toBe('<header><nav>1</nav></header>')
    expect(await eta.renderStringAsync(template, data)).toBe('<header><nav>1</nav></header>')
    expect(renders).toBe(1)
  })

  it('does not keep a value computed across an invalidation of it', async () => {
    const cache = await createCache({ name: 'epoch' })
    let release: () => void = () => {}
    const pending = cache.getOrSet('k', async () => {
      await new Promise<void>((wake) => (release = wake))
      return 'before delete'
    })
    await sleep(5)
    await cache.delete('k')
    release()
    expect(await pending).toBe('before delete')
    expect(await cache.get('k')).toBeUndefined()
  })
})
