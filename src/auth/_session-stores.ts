/**
 * Where sessions live: the database (the default, next to the users), or Redis when configured
 * (auth.sessions, `auto` with REDIS_URL), so that a session made on one instance is valid on
 * every other without a query to the database per page. Either way only the token's SHA-256 is
 * stored. In Redis each session is one key whose TTL is the idle timeout (capped by what is left
 * of the absolute one), refreshed when its use is recorded; a set per user lists their sessions,
 * so that revoking all of them is one look-up.
 */
import type { Redis } from 'ioredis'
import type { AuthStore, SessionRow } from './_store.js'

export interface SessionStore {
  create(tokenHash: Buffer, userId: string, mfa: boolean): Promise<void>
  get(tokenHash: Buffer): Promise<SessionRow | undefined>
  /** Records a use of the session now (it was `row`), so that its idle timeout starts again. */
  touch(tokenHash: Buffer, row: SessionRow): Promise<void>
  delete(tokenHash: Buffer): Promise<void>
  /** Ends every session of the user; resolves to how many there were. */
  revokeAll(userId: string): Promise<number>
  /** The user's live sessions; `user.sessions` is what the database counted (AuthStore.listUsers()). */
  count(user: { id: string; sessions: number }): Promise<number>
  /** Forgets sessions past either timeout (Redis does it by itself, with the TTLs). */
  deleteExpired(): Promise<void>
}

export interface SessionTimes {
  idleMs: number
  absoluteMs: number
}

/** `auto` resolved: Redis when there is one, else the database. */
export function sessionsIn(
  choice: 'auto' | 'database' | 'redis',
  redisUrl: string | undefined,
): 'database' | 'redis' {
  return choice === 'auto' ? (redisUrl ? 'redis' : 'database') : choice
}

/** The sessions' store: in Redis when a client is given, else in the database beside the users. */
export function sessionStore(
  users: AuthStore,
  times: SessionTimes,
  redis?: { client: Redis; prefix: string },
): SessionStore {
  return redis ? redisSessions(redis.client, redis.prefix, times) : databaseSessions(users, times)
}

/** The sessions table beside the users (AuthStore's session statements). */
function databaseSessions(store: AuthStore, times: SessionTimes): SessionStore {
  return {
    create: (tokenHash, userId, mfa) => store.createSession(tokenHash, userId, mfa),
    get: (tokenHash) => store.session(tokenHash),
    touch: (tokenHash) => store.touchSession(tokenHash),
    delete: (tokenHash) => store.deleteSession(tokenHash),
    revokeAll: (userId) => store.revokeSessions(userId),
    count: async (user) => user.sessions,
    deleteExpired: () => store.deleteExpired(times.idleMs, times.absoluteMs),
  }
}

/** A session as Redis holds it: short names, since there is one per signed-in browser. */
interface Stored {
  u: string
  m: boolean
  c: number
  l: number
}

/** Sessions in Redis under `<prefix>:auth-session:<sha256 hex>`, and `<prefix>:auth-user-sessions:<id>` per user. */
function redisSessions(client: Redis, prefix: string, times: SessionTimes): SessionStore {
  const keyOf = (tokenHash: Buffer) => `${prefix}:auth-session:${tokenHash.toString('hex')}`
  const userKey = (userId: string) => `${prefix}:auth-user-sessions:${userId}`
  /** What is left of the session's life from `now`: the idle timeout, unless the absolute one ends first. */
  const ttl = (createdAt: number, now: number) =>
    Math.max(1, Math.min(times.idleMs, createdAt + times.absoluteMs - now))
  const members = async (userId: string) =>
    (await client.smembers(userKey(userId))).map((hex) => `${prefix}:auth-session:${hex}`)
  return {
    async create(tokenHash, userId, mfa) {
      const now = Date.now()
      await client
        .multi()
        .set(keyOf(tokenHash), JSON.stringify({ u: userId, m: mfa, c: now, l: now }), 'PX', ttl(now, now))
        .sadd(userKey(userId), tokenHash.toString('hex'))
        .pexpire(userKey(userId), times.absoluteMs)
        .exec()
    },
    async get(tokenHash) {
      const text = await client.get(keyOf(tokenHash))
      if (text === null) return undefined
      const stored = JSON.parse(text) as Stored
      return {
        userId: stored.u,
        mfa: stored.m,
        createdAt: new Date(stored.c),
        lastSeenAt: new Date(stored.l),
      }
    },
    async touch(tokenHash, row) {
      const now = Date.now()
      const created = row.createdAt.getTime()
      const stored: Stored = { u: row.userId, m: row.mfa, c: created, l: now }
      // XX: a session revoked meanwhile stays revoked.
      await client.set(keyOf(tokenHash), JSON.stringify(stored), 'PX', ttl(created, now), 'XX')
    },
    async delete(tokenHash) {
      await client.del(keyOf(tokenHash))
    },
    async revokeAll(userId) {
      const keys = await members(userId)
      if (keys.length === 0) return 0
      const [[, ended] = []] = ((await client
        .multi()
        .del(...keys)
        .del(userKey(userId))
        .exec()) ?? []) as [unknown, number][]
      return Number(ended ?? 0)
    },
    async count({ id }) {
      const keys = await members(id)
      return keys.length > 0 ? client.exists(...keys) : 0
    },
    deleteExpired: async () => {},
  }
}
