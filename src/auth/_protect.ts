/**
 * protect(prefix, options): a protected area in front of any kind of app. A client outside the
 * allow-list gets a 404, as if the area did not exist; inside it, every path under the prefix
 * needs a session that passed sign-in (and MFA), except the area's own pages, which this
 * middleware answers itself: `<prefix>/sign-in`, `/mfa`, `/enrol` and `/sign-out`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { BlockList, isIP } from 'node:net'
import { ShipshapeError } from '../errors/index.js'
import { getContext, plainAnswer } from '../http/index.js'
import { createLogger, type Logger, type Notification } from '../observe/index.js'
import type { Middleware, Next, RequestContext, SharedCounters } from '../types.js'
import { countersStore, Limiter, type LockStore, mfaTiers, redisStore } from './_limiter.js'
import { countAuthEvent } from './_metrics.js'
import { connectRedis } from './_redis.js'
import { type AreaRoutes, areaRoutes } from './_routes.js'
import { totpSealer } from './_sealed.js'
import { type SessionStore, type SessionTimes, sessionStore, sessionsIn } from './_session-stores.js'
import { type AuthServeOptions, type LockoutTier, parseTiers } from './_settings.js'
import { type AdminRole, AuthStore, type QueryPool } from './_store.js'

export interface ProtectOptions {
  /** `required` (default): every sign-in passes a second factor, enrolling at sign-in if need be. `optional`: only users who enrolled. */
  mfa?: 'required' | 'optional'
  /** Addresses or CIDR ranges that may reach the area; others get a 404. Default: none, every address. */
  allowIps?: readonly string[]
  /** With `mfa: 'required'`, how long a new user may enter without enrolling. Default 0. */
  mfaGraceMs?: number
  /** Default 30 minutes. */
  idleTimeoutMs?: number
  /** Default 12 hours. */
  absoluteTimeoutMs?: number
  /** Lockout tiers. Default 3 failures → 15 min, 6 → 2 h, 10 → 24 h. */
  tiers?: readonly LockoutTier[]
  /** Seals TOTP secrets at rest with AES-256-GCM under this key (see docs/auth.md). Default: none, stored as they are. */
  totpKey?: string
  /** The name authenticator apps show. Default `shipshape`. */
  issuer?: string
  /** Where audit lines go. Default: a logger of its own. */
  logger?: Logger
  /** Redis for the lockout counters (and the sessions), shared by instances. Default REDIS_URL; without it, the primary's counters. */
  redisUrl?: string
  /** Where sessions live. Default `redis` when there is a redisUrl, else `database` (beside the users). */
  sessions?: 'database' | 'redis'
  /** Where a lockout is notified, without being waited for. Default: the channels of the worker's error tracker (observe's notify-email, notify-webhook, notify-slack). */
  notify?: (notification: Notification) => void
  /** Put before the limiter's Redis keys. Default `shipshape`. */
  redisPrefix?: string
  /** Counters of your own (a CounterTable in a server of your own). Default: the `shipshape serve` primary's. */
  counters?: SharedCounters
  /** The users and sessions database. Default: the worker's pool (shipshape/db). */
  pool?: QueryPool
}

/** The user signed in to a protected area, as the app sees it. */
export interface SignedInUser {
  id: string
  email: string
  /** A second factor was given in this session. */
  mfa: boolean
  /** The area's prefix, for links to `<prefix>/sign-out` and `<prefix>/enrol`. */
  area: string
  /** `admin` or `viewer` (`shipshape admin create --role`). */
  role: AdminRole
}

const userSlot = 'shipshape.auth.user'

/** The user signed in for this request, in code behind protect(); undefined elsewhere. */
export function currentUser(ctx: RequestContext | undefined = getContext()): SignedInUser | undefined {
  return ctx?.state[userSlot] as SignedInUser | undefined
}

/** The parts built on the first request, once the worker's pool and counters are known. */
export interface AreaParts {
  store: AuthStore
  sessions: SessionStore
  signIn: Limiter
  mfa: Limiter
  /** Applies the unlocks `shipshape admin unlock` asked for since the last look (at most every few seconds). */
  applyUnlocks(): Promise<void>
}

/** How often a worker looks for unlocks asked by `shipshape admin unlock`: one small query at most this often. */
const unlockPollMs = 5000

/**
 * What `shipshape serve`'s settings give every protected area, the auth.protect one and the
 * console's alike: session timeouts and store, lockout tiers, the TOTP key, Redis. Each area
 * adds its own `mfa` and `allowIps`.
 */
export function servedAreaOptions(
  auth: AuthServeOptions['auth'],
  cache: { redisUrl?: string | undefined; prefix: string },
  logger: Logger | undefined,
): ProtectOptions {
  return {
    idleTimeoutMs: auth.idleTimeoutMs,
    absoluteTimeoutMs: auth.absoluteTimeoutMs,
    tiers: auth.tiers,
    issuer: auth.issuer,
    logger,
    redisUrl: cache.redisUrl ?? '',
    redisPrefix: cache.prefix,
    ...(auth.sessions === 'auto' ? {} : { sessions: auth.sessions }),
    totpKey: auth.totpKey,
  }
}

/** Middleware in shipshape's shape `(ctx, next)` that Express and Connect can also `use()` as `(req, res, next)`. */
export type ProtectMiddleware = Middleware &
  ((req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => Promise<void>)

function allowList(entries: readonly string[]): (ip: string) => boolean {
  if (entries.length === 0) return () => true
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.trim().split('/')
    const family = isIP(address)
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits)
    if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32))
      throw new ShipshapeError(
        'SHIPSHAPE_E_BAD_OPTION',
        `protect(): allowIps entry "${entry}" is not an address or a CIDR range`,
      )
    list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4')
  }
  return (ip) => {
    const family = isIP(ip)
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4')
  }
}

export function protect(prefix: string, options: ProtectOptions = {}): ProtectMiddleware {
  if (!/^\/[\w./-]*$/.test(prefix) || prefix.endsWith('/'))
    throw new ShipshapeError(
      'SHIPSHAPE_E_ARGUMENT',
      `protect(): the prefix is a path such as /admin, got ${JSON.stringify(prefix)}`,
    )
  const allowed = allowList(options.allowIps ?? [])
  const tiers = options.tiers ?? parseTiers('3:15m,6:2h,10:24h')
  const logger = options.logger ?? createLogger()
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL
  const sessionsAt = sessionsIn(options.sessions ?? 'auto', redisUrl)
  if (sessionsAt === 'redis' && !redisUrl)
    throw new ShipshapeError(
      'SHIPSHAPE_E_BAD_OPTION',
      `protect('${prefix}'): sessions in Redis need a Redis (REDIS_URL, or the redisUrl option)`,
    )
  const times: SessionTimes = {
    idleMs: options.idleTimeoutMs ?? 30 * 60_000,
    absoluteMs: options.absoluteTimeoutMs ?? 12 * 3_600_000,
  }
  let parts: Promise<AreaParts> | undefined

  async function build(ctx: RequestContext): Promise<AreaParts> {
    const pool = options.pool ?? ctx.worker.db?.pool
    if (pool === undefined)
      throw new ShipshapeError(
        'SHIPSHAPE_E_DB_NO_POOL',
        `protect('${prefix}') needs a database for its users and sessions`,
      )
    const counters = options.counters ?? ctx.worker.counters
    const redisPrefix = options.redisPrefix ?? 'shipshape'
    const redis = redisUrl ? await connectRedis(redisUrl) : undefined
    let store: LockStore
    if (redis) store = await redisStore(redis, redisPrefix)
    else if (counters) store = countersStore(counters)
    else throw new ShipshapeError('SHIPSHAPE_E_AUTH_NO_COUNTERS', `protect('${prefix}')`)
    const users = new AuthStore(pool)
    const signIn = new Limiter(store, tiers)
    let lastUnlock = await users.lastUnlockId()
    let lookedAt = Date.now()
    async function applyUnlocks(): Promise<void> {
      if (Date.now() - lookedAt < unlockPollMs) return
      lookedAt = Date.now()
      const { lastId, unlocks } = await users.unlocksSince(lastUnlock)
      lastUnlock = lastId
      const keys: string[] = []
      for (const { id, key } of unlocks) if (await signIn.clearOnce(`unlock:${id}`, [key])) keys.push(key)
      if (keys.length === 0) return
      countAuthEvent('unlock', 'success')
      logger.info(
        { audit: 'auth', action: 'unlock', outcome: 'success', keys, area: prefix },
        'auth unlock: success',
      )
    }
    return {
      store: users,
      sessions: sessionStore(
        users,
        times,
        redis && sessionsAt === 'redis' ? { client: redis, prefix: redisPrefix } : undefined,
      ),
      signIn,
      mfa: new Limiter(store, mfaTiers(tiers)),
      applyUnlocks,
    }
  }

  const routes: AreaRoutes = areaRoutes({
    prefix,
    mfa: options.mfa ?? 'required',
    mfaGraceMs: options.mfaGraceMs ?? 0,
    times,
    sealer: totpSealer(options.totpKey),
    notify: (ctx, notification) =>
      options.notify ? options.notify(notification) : ctx.worker.errors?.notify(notification),
    issuer: options.issuer ?? 'shipshape',
    logger,
    userSlot,
  })

  async function guard(ctx: RequestContext, next: Next): Promise<void> {
    const { path } = ctx
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return next()
    // Not revealed: the same 404 as a path that does not exist, never the sign-in page.
    if (!allowed(ctx.clientIp)) return void plainAnswer(ctx.res, 404, 'Not Found\n')
    parts ??= build(ctx).catch((error: unknown) => {
      parts = undefined // the database or Redis may come back: try again on the next request
      throw error
    })
    const area = await parts
    await area.applyUnlocks()
    if (await routes.answer(ctx, area)) return
    return next()
  }

  async function protectedArea(_first: unknown, second: unknown, third?: unknown): Promise<void> {
    const ctx = getContext()
    if (ctx === undefined) throw new ShipshapeError('SHIPSHAPE_E_OUTSIDE_REQUEST', 'protect()')
    if (typeof third !== 'function') return guard(ctx, second as Next)
    // Express and Connect: next() continues their chain; an error goes to their error handler.
    const connectNext = third as (error?: unknown) => void
    return guard(ctx, async () => connectNext()).catch(connectNext)
  }
  return protectedArea as ProtectMiddleware
}
