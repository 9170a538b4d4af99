/**
 * Sessions: an opaque 128-bit token in a `__Host-` cookie (HttpOnly, Secure over HTTPS,
 * SameSite=Lax), stored only as its SHA-256, so a leaked table opens no session. A session ends
 * after `idleMs` unused or `absoluteMs` after sign-in; signing in and passing MFA each start a
 * new one (no fixation).
 */
import { randomBytes } from 'node:crypto'
import { readCookie, setCookie } from '../security/index.js'
import type { RequestContext } from '../types.js'
import { type AdminUser, type AuthStore, type SessionRow, sha256 } from './_store.js'

const cookie = 'shipshape-admin'
/** last_seen_at is written at most this often: idle timeouts are that precise, and a page view costs no write. */
const touchEveryMs = 60_000

export interface SessionTimes {
  idleMs: number
  absoluteMs: number
}

export interface ActiveSession extends SessionRow {
  tokenHash: Buffer
  user: AdminUser
}

/** Over plain HTTP (development) the cookie cannot be Secure, and so cannot be `__Host-`. */
const cookieOptions = (ctx: RequestContext) => ({
  secure: ctx.protocol === 'https',
  httpOnly: true,
  sameSite: 'Lax' as const,
})

function tokenHashOf(ctx: RequestContext): Buffer | undefined {
  const token = readCookie(cookie, cookieOptions(ctx))
  return token !== undefined && /^[A-Za-z0-9_-]{22}$/.test(token) ? sha256(token) : undefined
}

/** The request's live session with its user, or undefined (none, expired, or its user is gone). */
export async function activeSession(
  ctx: RequestContext,
  store: AuthStore,
  times: SessionTimes,
): Promise<ActiveSession | undefined> {
  const tokenHash = tokenHashOf(ctx)
  if (tokenHash === undefined) return undefined
  const row = await store.session(tokenHash)
  if (row === undefined) return undefined
  const now = Date.now()
  if (now - row.lastSeenAt.getTime() > times.idleMs || now - row.createdAt.getTime() > times.absoluteMs) {
    await store.deleteSession(tokenHash)
    return undefined
  }
  const user = await store.userById(row.userId)
  if (user === undefined) return undefined
  if (now - row.lastSeenAt.getTime() > touchEveryMs) await store.touchSession(tokenHash)
  return { ...row, tokenHash, user }
}

/** Ends the request's session (if any) and starts a new one for `user`, setting its cookie. */
export async function startSession(
  ctx: RequestContext,
  store: AuthStore,
  user: AdminUser,
  mfa: boolean,
): Promise<void> {
  const old = tokenHashOf(ctx)
  if (old !== undefined) await store.deleteSession(old)
  const token = randomBytes(16).toString('base64url')
  await store.createSession(sha256(token), user.id, mfa)
  setCookie(cookie, token, cookieOptions(ctx))
}

export async function endSession(ctx: RequestContext, store: AuthStore): Promise<void> {
  const tokenHash = tokenHashOf(ctx)
  if (tokenHash !== undefined) await store.deleteSession(tokenHash)
  setCookie(cookie, '', { ...cookieOptions(ctx), maxAge: 0 })
}
