/**
 * One cache: the memory tier of this worker, optionally Redis behind it, and the rules on top —
 * stampede protection (one factory run per key at a time, per worker, and with Redis a lease
 * across instances), grace (stale values served while one caller refreshes, or while the factory
 * fails), TTL jitter, and invalidations that reach every other worker or instance.
 */
import { getContext } from '../http/index.js'
import type { Relay } from '../types.js'
import { entryOf, type Settled, settle } from './_entry.js'
import { checkDuration, checkKey, checkTags } from './_input.js'
import { Invalidations } from './_invalidations.js'
import { type Entry, MemoryTier } from './_memory.js'
import { type CacheStats, statsOf } from './_metrics.js'
import { type Invalidation, RedisTier } from './_redis.js'
import { Warnings } from './_warnings.js'
import type { CacheOptions, Duration, EntryOptions, Serializer } from './types.js'
import { jsonSerializer } from './types.js'

/** How often a waiter looks for the value another instance's lease holder is computing. */
const pollMs = 20

/** The time a getOrSet spent in its own factory run, which is not the cache's time. */
interface Clock {
  factoryMs: number
}

export class Cache {
  readonly name: string
  private readonly memory: MemoryTier
  private readonly stats: CacheStats
  private readonly serializer: Serializer
  private readonly defaults: Settled
  private readonly graceBackoffMs: number
  private readonly leaseMs: number
  private readonly jitter: number
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly warnings: Warnings
  private readonly relay: Relay | undefined
  private shared: RedisTier | undefined
  private unsubscribe: (() => void) | undefined
  private readonly invalidations: Invalidations

  /** Use createCache(), which connects the shared tier first. */
  constructor(options: CacheOptions = {}) {
    const call = 'createCache()'
    this.name = options.name ?? 'default'
    this.stats = statsOf(this.name)
    this.serializer = options.serializer ?? jsonSerializer
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024
    this.memory = new MemoryTier(maxBytes, options.maxEntryBytes ?? Math.floor(maxBytes / 4), this.stats)
    this.invalidations = new Invalidations(this.memory, (key) => this.inflight.has(key))
    this.defaults = {
      ttlMs: checkDuration(call, 'ttl', options.ttl ?? 300),
      graceMs: checkDuration(call, 'grace', options.grace ?? 0),
      timeoutMs: checkDuration(call, 'timeout', options.timeout ?? 0),
      tags: [],
    }
    this.graceBackoffMs = checkDuration(call, 'graceBackoff', options.graceBackoff ?? 10)
    this.leaseMs = checkDuration(call, 'lease', options.lease ?? 10)
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.1))
    this.warnings = new Warnings(this.name, options.logger)
    if (options.relay && !options.redisUrl)
      this.unsubscribe = options.relay.subscribe(`cache:${this.name}`, (data) =>
        this.invalidations.received(data as Invalidation),
      )
    this.relay = options.redisUrl ? undefined : options.relay
  }

  /** @internal createCache() connects Redis once the cache exists. */
  async connect(url: string, prefix: string): Promise<void> {
    this.shared = await RedisTier.connect({
      url,
      prefix,
      name: this.name,
      onError: (error) => this.sharedFailed(error),
      onInvalidation: (message) => this.invalidations.received(message),
      // Invalidations sent while the bus was down are lost: what memory holds may be stale.
      onReconnect: () => {
        this.invalidations.bump()
        this.memory.clear()
      },
    })
  }

  /** Memory only, or Redis behind memory. */
  get mode(): 'memory' | 'redis' {
    return this.shared ? 'redis' : 'memory'
  }

  /** The fresh value of `key`, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined> {
    // Not async, so a hit costs no extra promise; a bad key still rejects rather than throws.
    try {
      checkKey('cache.get()', key)
      const now = Date.now()
      const entry = this.memory.get(key, now)
      if (entry !== undefined && entry.fresh > now) {
        this.stats.hits++
        return Promise.resolve(entry.value as T)
      }
      return this.getShared<T>(key)
    } catch (error) {
      return Promise.reject(error)
    }
  }

  private async getShared<T>(key: string): Promise<T | undefined> {
    const remote = this.shared ? await this.fromShared(key) : undefined
    if (remote !== undefined && remote.fresh > Date.now()) {
      this.stats.hits++
      return remote.value as T
    }
    this.stats.misses++
    return undefined
  }

  /**
   * The value of `key`; on a miss, `factory`'s, stored for `ttl`. Concurrent misses on one key run
   * the factory once (with Redis: once across instances, under a lease). A stale value within
   * `grace` is served while one caller refreshes it, and while the factory fails.
   */
  getOrSet<T>(key: string, factory: () => T | Promise<T>, options?: EntryOptions): Promise<T> {
    // Not async, so a hit costs no extra promise; bad arguments still reject rather than throw.
    try {
      checkKey('cache.getOrSet()', key)
      const now = Date.now()
      const entry = this.memory.get(key, now)
      if (entry !== undefined && entry.fresh > now) {
        this.stats.hits++
        return Promise.resolve(entry.value as T)
      }
      const settled = settle(this.defaults, 'cache.getOrSet()', options)
      const ctx = getContext()
      if (ctx === undefined) return this.resolve(key, entry, factory, settled, { factoryMs: 0 })
      // The cache's share of the request's time, on its access line: the factory's own time is the app's.
      const started = performance.now()
      const clock = { factoryMs: 0 }
      const work = this.resolve(key, entry, factory, settled, clock)
      const done = () => ctx.addTiming('cache', performance.now() - started - clock.factoryMs)
      work.then(done, done)
      return work
    } catch (error) {
      return Promise.reject(error)
    }
  }

  /** Stores `value` under `key`; the other workers and instances drop their copy of the key. */
  async set(key: string, value: unknown, options?: EntryOptions): Promise<void> {
    checkKey('cache.set()', key)
    const entry = entryOf(
      this.serializer,
      this.jitter,
      'cache.set()',
      value,
      settle(this.defaults, 'cache.set()', options),
    )
    this.invalidations.overtake(key)
    this.keep(key, entry)
    if (this.shared) await this.guard(this.shared.set(key, entry))
    this.broadcast({ o: this.invalidations.origin, k: [key] })
  }

  async delete(key: string): Promise<void> {
    checkKey('cache.delete()', key)
    this.invalidations.overtake(key)
    this.memory.delete(key)
    if (this.shared) await this.guard(this.shared.delete(key))
    this.broadcast({ o: this.invalidations.origin, k: [key] })
  }

  /** Deletes every value stored with any of `tags`, in this worker, the others, and Redis. */
  async deleteByTag(tags: string | readonly string[]): Promise<void> {
    const list = checkTags('cache.deleteByTag()', typeof tags === 'string' ? [tags] : tags)
    if (list.length === 0) return
    this.invalidations.bump()
    this.memory.deleteTags(list)
    if (this.shared) await this.guard(this.shared.deleteTags(list))
    this.broadcast({ o: this.invalidations.origin, t: [...list] })
  }

  async clear(): Promise<void> {
    this.invalidations.bump()
    this.memory.clear()
    if (this.shared) await this.guard(this.shared.clear())
    this.broadcast({ o: this.invalidations.origin, c: true })
  }

  /**
   * A piece of HTML (or any text) rendered at most once per `ttl`: `render`'s result is kept as
   * a string. `varyOn` adds to the key what the piece depends on (a locale, a user's role).
   */
  fragment(
    key: string,
    ttl: Duration,
    render: () => unknown,
    options: { varyOn?: readonly unknown[]; tags?: readonly string[] } = {},
  ): Promise<string> {
    const vary = options.varyOn?.length ? `:${options.varyOn.map(String).join(':')}` : ''
    return this.getOrSet(`fragment:${key}${vary}`, async () => String(await render()), {
      ttl,
      tags: options.tags,
    })
  }

  /** Stops listening for invalidations and closes the Redis connections. */
  close(): void {
    this.unsubscribe?.()
    this.shared?.close()
  }

  /** The slow path of getOrSet: Redis, then a stale value, then the factory (once per key). */
  private async resolve<T>(
    key: string,
    entry: Entry | undefined,
    factory: () => T | Promise<T>,
    settled: Settled,
    clock: Clock,
  ): Promise<T> {
    let stale = entry
    if (this.shared) {
      // Another instance may have refreshed what this memory tier holds stale.
      const remote = await this.fromShared(key)
      if (remote !== undefined && remote.fresh > Date.now()) {
        this.stats.hits++
        return remote.value as T
      }
      stale = remote ?? stale
    }
    if (stale !== undefined) return this.serveStale(key, stale, factory, settled)
    this.stats.misses++
    const running = this.inflight.get(key)
    if (running !== undefined) {
      this.stats.prevented++
      return running as Promise<T>
    }
    return this.track(key, this.compute(key, factory, settled, true, clock)) as Promise<T>
  }

  /** One caller refreshes in the background; everyone gets the stale value, or the fresh one within `timeout`. */
  private async serveStale<T>(
    key: string,
    stale: Entry,
    factory: () => T | Promise<T>,
    settled: Settled,
  ): Promise<T> {
    let refresh = this.inflight.get(key)
    if (refresh !== undefined) this.stats.prevented++
    else {
      refresh = this.track(
        key,
        this.compute(key, factory, settled, false, { factoryMs: 0 }).then(
          (value) => (value === undefined ? stale.value : value),
          (error: unknown) => {
            this.warnings.warn(
              'refresh',
              { err: error, key },
              'the cache factory failed; serving the stale value',
            )
            // No retry on every request while the source is down: stale is fresh for a while.
            this.memory.set(key, { ...stale, fresh: Math.min(stale.stale, Date.now() + this.graceBackoffMs) })
            return stale.value
          },
        ),
      )
    }
    if (settled.timeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<typeof stale>((wake) => {
        timer = setTimeout(() => wake(stale), settled.timeoutMs)
      })
      const first = await Promise.race([refresh, late])
      clearTimeout(timer)
      if (first !== stale) return first as T
    }
    this.stats.stale++
    return stale.value as T
  }

  private track(key: string, running: Promise<unknown>): Promise<unknown> {
    this.inflight.set(key, running)
    const done = () => this.inflight.delete(key)
    running.then(done, done)
    return running
  }

  /**
   * Runs the factory, under the key's lease when Redis is there. Another instance holding the
   * lease: `wait` polls for its value, at most the lease's length, then runs the factory anyway;
   * without `wait` (a refresh with a stale value to serve) it resolves undefined.
   */
  private async compute<T>(
    key: string,
    factory: () => T | Promise<T>,
    settled: Settled,
    wait: boolean,
    clock: Clock,
  ): Promise<T | undefined> {
    const shared = this.shared
    if (shared === undefined) return this.run(key, factory, settled, '', clock)
    const deadline = Date.now() + this.leaseMs
    for (;;) {
      const lease = await this.guard(shared.lease(key, this.leaseMs))
      if (lease !== false) return this.run(key, factory, settled, lease ?? '', clock)
      if (!wait) return undefined
      this.stats.prevented++
      for (;;) {
        if (Date.now() >= deadline) return this.run(key, factory, settled, '', clock)
        await new Promise((wake) => setTimeout(wake, pollMs))
        const landed = await this.fromShared(key)
        if (landed !== undefined && landed.fresh > Date.now()) return landed.value as T
        // The holder gave up (or died and its lease expired): try to take the lease ourselves.
        if ((await this.guard(shared.leased(key))) !== true) break
      }
    }
  }

  private async run<T>(
    key: string,
    factory: () => T | Promise<T>,
    settled: Settled,
    token: string,
    clock: Clock,
  ) {
    const keepable = this.invalidations.begin(key)
    const started = performance.now()
    let value: T
    try {
      value = await factory()
    } finally {
      clock.factoryMs = performance.now() - started
    }
    const entry = entryOf(this.serializer, this.jitter, 'cache.getOrSet()', value, settled)
    if (keepable()) this.keep(key, entry)
    if (this.shared) {
      await this.guard(this.shared.set(key, entry, token))
      this.broadcast({ o: this.invalidations.origin, k: [key] })
    }
    return entry.value as T
  }

  private keep(key: string, entry: Entry): void {
    if (!this.memory.set(key, entry))
      this.warnings.warn(
        'too-large',
        { key, bytes: entry.text.length, maxEntryBytes: this.memory.maxEntryBytes },
        'a value larger than the memory budget allows for one entry was not cached in memory',
      )
  }

  private async fromShared(key: string): Promise<Entry | undefined> {
    const stored = await this.guard((this.shared as RedisTier).get(key))
    if (stored === undefined || stored.stale <= Date.now()) return undefined
    try {
      stored.value = this.serializer.deserialize(stored.text)
    } catch (error) {
      this.sharedFailed(error)
      return undefined
    }
    this.memory.set(key, stored)
    return stored
  }

  private broadcast(message: Invalidation): void {
    if (this.shared) void this.guard(this.shared.publish(message))
    else this.relay?.publish(`cache:${this.name}`, message)
  }

  /** A Redis operation that never fails the caller: on error, undefined, counted and logged. */
  private async guard<T>(operation: Promise<T>): Promise<T | undefined> {
    try {
      return await operation
    } catch (error) {
      this.sharedFailed(error)
      return undefined
    }
  }

  private sharedFailed(error: unknown): void {
    this.stats.errors++
    this.warnings.warn(
      'redis',
      { err: error, cache: this.name },
      'the shared cache (Redis) failed; serving from memory and the factory',
    )
  }
}

/** A cache, with its Redis tier connected when `redisUrl` is given (a Redis that is down is not an error). */
export async function createCache(options: CacheOptions = {}): Promise<Cache> {
  const cache = new Cache(options)
  if (options.redisUrl) await cache.connect(options.redisUrl, options.prefix ?? 'shipshape')
  return cache
}
