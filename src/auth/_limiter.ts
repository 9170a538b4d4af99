/**
 * The brute-force limiter: failures counted by client IP and by username (or user, for the MFA
 * step), each key locked by tiers, whichever trips first. Counters are shared by every worker:
 * in the primary (ctx.worker.counters) by default, in Redis through rate-limiter-flexible's
 * RateLimiterRedis with REDIS_URL, so several instances share them too. A locked key is refused
 * before the password is hashed: a brute-force run costs the server one counter read per try.
 */
import type { Redis } from 'ioredis'
import type { RateLimiterRedis } from 'rate-limiter-flexible'
import type { SharedCounters } from '../types.js'
import type { LockoutTier } from './_settings.js'

/** Failures are counted over this window from a key's first failure. */
const failureWindowMs = 24 * 3_600_000

/** Where the counters live. */
export interface LockStore {
  /** Milliseconds left on the longest lock among `keys`; 0 when none is locked. */
  lockedFor(keys: string[]): Promise<number>
  /** Counts one failure of `key`; resolves to its failures within the window. */
  fail(key: string): Promise<number>
  lock(key: string, ms: number): Promise<void>
  /** Forgets the failures and lock of each key (a success, `shipshape admin unlock`). */
  clear(keys: string[]): Promise<void>
}

/** The primary's counters (or a CounterTable of the caller's own). */
export function countersStore(counters: SharedCounters): LockStore {
  return {
    async lockedFor(keys) {
      const reads = await counters.get(keys.map((key) => `auth:lock:${key}`))
      return Math.max(0, ...reads.map((read) => (read.value > 0 ? read.ttlMs : 0)))
    },
    fail: (key) => counters.add(`auth:fail:${key}`, 1, failureWindowMs),
    lock: (key, ms) => counters.set(`auth:lock:${key}`, 1, ms),
    clear: (keys) => counters.delete(keys.flatMap((key) => [`auth:lock:${key}`, `auth:fail:${key}`])),
  }
}

/** Redis, through rate-limiter-flexible: one limiter counts failures, another holds the locks (its block()). */
export async function redisStore(client: Redis, prefix: string): Promise<LockStore> {
  const { RateLimiterRedis: Limiter } = await import('rate-limiter-flexible')
  const failures: RateLimiterRedis = new Limiter({
    storeClient: client,
    keyPrefix: `${prefix}:auth-fail`,
    points: Number.MAX_SAFE_INTEGER,
    duration: failureWindowMs / 1000,
  })
  const locks: RateLimiterRedis = new Limiter({
    storeClient: client,
    keyPrefix: `${prefix}:auth-lock`,
    points: 1,
    duration: 1,
  })
  return {
    async lockedFor(keys) {
      const results = await Promise.all(keys.map((key) => locks.get(key)))
      return Math.max(
        0,
        ...results.map((res) => (res !== null && res.consumedPoints > 1 ? res.msBeforeNext : 0)),
      )
    },
    fail: async (key) => (await failures.penalty(key, 1)).consumedPoints,
    lock: async (key, ms) => void (await locks.block(key, Math.max(1, Math.ceil(ms / 1000)))),
    async clear(keys) {
      await Promise.all(keys.flatMap((key) => [failures.delete(key), locks.delete(key)]))
    },
  }
}

/** How long the `failures`-th failure locks a key: at each tier's count, and at every failure from the last tier on. */
function lockFor(tiers: readonly LockoutTier[], failures: number): number {
  const last = tiers.at(-1)
  if (last !== undefined && failures >= last.failures) return last.lockMs
  return tiers.find((tier) => tier.failures === failures)?.lockMs ?? 0
}

/** The MFA step's tiers: 3 tries per 10 s, then the sign-in tiers on top. */
export function mfaTiers(tiers: readonly LockoutTier[]): LockoutTier[] {
  return [{ failures: 3, lockMs: 10_000 }, ...tiers.map((tier) => ({ ...tier, failures: tier.failures + 3 }))]
}

export class Limiter {
  constructor(
    private readonly store: LockStore,
    private readonly tiers: readonly LockoutTier[],
  ) {}

  /** Milliseconds until every key may try again; 0 when none is locked. */
  retryAfter(keys: string[]): Promise<number> {
    return this.store.lockedFor(keys)
  }

  /** Counts a failure on each key; resolves to the longest lock it started (0: none) and the keys it locked. */
  async failed(keys: string[]): Promise<{ lockedMs: number; locked: string[] }> {
    const locks = await Promise.all(
      keys.map(async (key) => {
        const ms = lockFor(this.tiers, await this.store.fail(key))
        if (ms > 0) await this.store.lock(key, ms)
        return ms
      }),
    )
    return { lockedMs: Math.max(0, ...locks), locked: keys.filter((_key, i) => (locks[i] ?? 0) > 0) }
  }

  clear(keys: string[]): Promise<void> {
    return this.store.clear(keys)
  }

  /**
   * Clears `keys` for the first caller with this `id` among every worker (and instance) sharing
   * the counters; resolves to whether it was this one. A worker that looks for unlocks later must
   * not wipe the failures counted since the unlock.
   */
  async clearOnce(id: string, keys: string[]): Promise<boolean> {
    if ((await this.store.fail(`once:${id}`)) !== 1) return false
    await this.clear(keys)
    return true
  }
}

/** The limiter's keys for a sign-in: the client's address and the username tried. */
export const signInKeys = (ip: string, email: string) => [`ip:${ip}`, `user:${email.trim().toLowerCase()}`]
export const mfaKeys = (userId: string) => [`mfa:${userId}`]
