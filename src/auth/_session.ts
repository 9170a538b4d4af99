/**
 * Sessions: an opaque 128-bit token in a `__Host-` cookie (HttpOnly, Secure over HTTPS,
 * SameSite=Lax), stored only as its SHA-256, so a leaked table opens no session. A session ends
 * after `idleMs` unused or `absoluteMs` after sign-in; signing in and passing MFA each start a
 * new one (no fixation).
 */
import { randomBytes } from 'node:crypto'
import { readCookie, setCookie } from '../security/index.js'
import type { RequestContext } from '../types.js'
import type { SessionStore, SessionTimes } from './_session-stores.js'
import { type AdminUser, type AuthStore, type SessionRow, sha256 } from './_store.js'

const cookie = 'shipshape-admin'
/** A session's last use is written at most this often (or half its idle timeout, if shorter): idle timeouts are that precise, and a page view costs no write. */
const touchEveryMs = 60_000

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
  users: AuthStore,
  sessions: SessionStore,
  times: SessionTimes,
): Promise<ActiveSession | undefined> {
  const tokenHash = tokenHashOf(ctx)
  if (tokenHash === undefined) return undefined
  const row = await sessions.get(tokenHash)
  if (row === undefined) return undefined
  const now = Date.now()
  if (now - row.lastSeenAt.getTime() > times.idleMs || now - row.createdAt.getTime() > times.absoluteMs) {
    await sessions.delete(tokenHash)
    return undefined
  }
  const user = await users.userById(row.userId)
  if (user === undefined) return undefined
  if (now - row.lastSeenAt.getTime() > Math.min(touchEveryMs, times.idleMs / 2))
    await sessions.touch(tokenHash, row)
  return { ...row, tokenHash, user }
}

/** Ends the request's session (if any) and starts a new one for `user`, setting its cookie. */
export async function startSession(
  ctx: RequestContext,
  sessions: SessionStore,
  user: AdminUser,
  mfa: boolean,
): Promise<void> {
  const old = tokenHashOf(ctx)
  if (old !== undefined) await sessions.delete(old)
  const token = randomBytes(16).toString('base64url')
  await sessions.create(sha256(token), user.id, mfa)
  setCookie(cookie, token, cookieOptions(ctx))
}

export async function endSession(ctx: RequestContext, sessions: SessionStore): Promise<void> {
  const tokenHash = tokenHashOf(ctx)
  if (tokenHash !== undefined) await sessions.delete(tokenHash)
  setCookie(cookie, '', { ...cookieOptions(ctx), maxAge: 0 })
}
