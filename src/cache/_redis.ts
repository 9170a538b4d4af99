/**
 * The shared tier on Redis (ioredis): values with their times and tags, tag sets for
 * deleteByTag, a lease lock with fencing tokens for stampede protection across instances, and a
 * pub/sub channel that keeps every instance's memory tier coherent (bentocache's design).
 *
 * Layout under `<prefix>:<cache>:` — `v:<key>` the value, `t:<tag>` the keys of a tag, `l:<key>`
 * the lease, `w:<key>` the highest fencing token written, `fence` the token counter, `bus` the
 * channel. Every value and tag set expires with its grace, so Redis never keeps what nobody can read.
 */
import type { Redis } from 'ioredis'
import type { Entry } from './_memory.js'

/** What one instance tells the others: keys, tags, or everything, dropped from their memory tier. */
export interface Invalidation {
  /** The sender, so it ignores its own message. */
  o: string
  k?: string[]
  t?: string[]
  c?: true
}

/** A lease is taken: `false`. A fencing token: ours. */
export type Lease = string | false

// Writes a value unless a newer lease holder has written or holds the lease (fencing).
const setFenced = `
local token = ARGV[1]
if token ~= '' then
  local written = tonumber(redis.call('GET', KEYS[3]) or '0')
  if tonumber(token) <= written then return 0 end
  local holder = redis.call('GET', KEYS[2])
  if holder and holder ~= token then return 0 end
  redis.call('SET', KEYS[3], token, 'PX', ARGV[3])
  if holder then redis.call('DEL', KEYS[2]) end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[i], ARGV[3]) end
end
return 1`

const takeLease = `
local token = redis.call('INCR', KEYS[2])
if redis.call('SET', KEYS[1], token, 'NX', 'PX', ARGV[1]) then return tostring(token) end
return false`

const dropTags = `
local dropped = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members do dropped = dropped + redis.call('DEL', members[j]) end
  redis.call('DEL', KEYS[i])
end
return dropped`

interface Scripts {
  setFenced(...args: (string | number)[]): Promise<number>
  takeLease(lock: string, fence: string, leaseMs: number): Promise<string | null>
  dropTags(...args: (string | number)[]): Promise<number>
}

export interface RedisTierOptions {
  url: string
  /** Before the cache's name in every key. */
  prefix: string
  name: string
  /** Every failure of the connections, for counting and throttled logging. */
  onError(error: unknown): void
  onInvalidation(message: Invalidation): void
  /** The bus reconnected: messages may have been missed while it was down. */
  onReconnect(): void
}

export class RedisTier {
  private readonly base: string
  private readonly channel: string

  private constructor(
    private readonly client: Redis & Scripts,
    private readonly subscriber: Redis,
    options: RedisTierOptions,
  ) {
    this.base = `${options.prefix}:${options.name}:`
    this.channel = `${this.base}bus`
  }

  /** Connects, waiting at most `connectMs`: a Redis that is down leaves the cache working, on memory. */
  static async connect(options: RedisTierOptions, connectMs = 1000): Promise<RedisTier> {
    const { Redis } = await import('ioredis')
    const client = new Redis(options.url, {
      // A command while disconnected fails at once instead of queueing: the cache falls back
      // to memory and the factory, and a request never waits on a Redis that is down.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Long enough for a busy Redis (or machine); a Redis that is down fails at once instead.
      commandTimeout: 1500,
      connectTimeout: connectMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    })
    client.defineCommand('setFenced', { lua: setFenced })
    client.defineCommand('takeLease', { numberOfKeys: 2, lua: takeLease })
    client.defineCommand('dropTags', { lua: dropTags })
    // The subscriber queues its SUBSCRIBE until connected, and ioredis subscribes again after a
    // reconnect.
    const subscriber = new Redis(options.url, {
      connectTimeout: connectMs,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    })
    const tier = new RedisTier(client as Redis & Scripts, subscriber, options)
    client.on('error', options.onError)
    subscriber.on('error', options.onError)
    let connectedOnce = false
    subscriber.on('ready', () => {
      if (connectedOnce) options.onReconnect()
      connectedOnce = true
    })
    subscriber.on('message', (_channel: string, text: string) => {
      try {
        options.onInvalidation(JSON.parse(text) as Invalidation)
      } catch (error) {
        options.onError(error)
      }
    })
    subscriber.subscribe(tier.channel).catch(options.onError)
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, connectMs)
      client.once('ready', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    return tier
  }

  async get(key: string): Promise<Entry | undefined> {
    const text = await this.client.get(`${this.base}v:${key}`)
    if (text === null) return undefined
    const stored = JSON.parse(text) as { f: number; s: number; t: string[]; v: string }
    return { value: undefined, fresh: stored.f, stale: stored.s, tags: stored.t, text: stored.v }
  }

  /** Stores `entry` until its stale time; with a lease `token`, only if no newer holder wrote. */
  async set(key: string, entry: Entry, token = ''): Promise<boolean> {
    const ms = Math.max(1, entry.stale - Date.now())
    const envelope = JSON.stringify({ f: entry.fresh, s: entry.stale, t: entry.tags, v: entry.text })
    const tagKeys = entry.tags.map((tag) => `${this.base}t:${tag}`)
    const keys = [`${this.base}v:${key}`, `${this.base}l:${key}`, `${this.base}w:${key}`, ...tagKeys]
    return (await this.client.setFenced(keys.length, ...keys, token, envelope, ms)) === 1
  }

  /** A fencing token if the lease on `key` is ours for `leaseMs`, false if another holds it. */
  async lease(key: string, leaseMs: number): Promise<Lease> {
    const token = await this.client.takeLease(`${this.base}l:${key}`, `${this.base}fence`, leaseMs)
    return token ?? false
  }

  async leased(key: string): Promise<boolean> {
    return (await this.client.exists(`${this.base}l:${key}`)) === 1
  }

  async delete(key: string): Promise<void> {
    await this.client.del(`${this.base}v:${key}`)
  }

  async deleteTags(tags: readonly string[]): Promise<void> {
    const keys = tags.map((tag) => `${this.base}t:${tag}`)
    await this.client.dropTags(keys.length, ...keys)
  }

  /** Deletes every key of this cache (and only this cache's), in batches as SCAN finds them. */
  async clear(): Promise<void> {
    let cursor = '0'
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', `${this.base}*`, 'COUNT', 500)
      cursor = next
      if (keys.length > 0) await this.client.unlink(...keys)
    } while (cursor !== '0')
  }

  async publish(message: Invalidation): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify(message))
  }

  close(): void {
    this.client.disconnect()
    this.subscriber.disconnect()
  }
}
