/**
 * The pages of a protected area, and the gate in front of the rest of it. Each answer that
 * concerns a sign-in is the same whether the account exists or not: the same text, the same
 * status, the same time (an unknown user's password is verified against a dummy hash).
 */
import type { OutgoingHttpHeaders } from 'node:http'
import { plainAnswer } from '../http/index.js'
import type { Logger, Notification } from '../observe/index.js'
import type { RequestContext } from '../types.js'
import { mfaKeys, signInKeys } from './_limiter.js'
import { countAuthEvent } from './_metrics.js'
import { enrolPage, lockedPage, mfaPage, recoveryPage, signInPage } from './_pages.js'
import { hashPassword, needsRehash, verifyPassword } from './_password.js'
import type { AreaParts, SignedInUser } from './_protect.js'
import type { TotpSealer } from './_sealed.js'
import { type ActiveSession, activeSession, endSession, startSession } from './_session.js'
import type { SessionTimes } from './_session-stores.js'
import type { AdminUser } from './_store.js'
import { newRecoveryCodes, newTotpSecret, normalRecoveryCode, otpauthUri, qrSvg, totpStep } from './_totp.js'

export interface AreaConfig {
  prefix: string
  /** Seals TOTP secrets before they are stored, opens them after (auth.totpKey; without one, as they are). */
  sealer: TotpSealer
  /** Sends a notification without waiting for it (the channels observe's errors use). */
  notify(ctx: RequestContext, notification: Notification): void
  mfa: 'required' | 'optional'
  mfaGraceMs: number
  times: SessionTimes
  issuer: string
  logger: Logger
  userSlot: string
}

export interface AreaRoutes {
  /** Answers the request (true), or lets it through to the app with its user set (false). */
  answer(ctx: RequestContext, parts: AreaParts): Promise<boolean>
}

/** A form body is read up to this size; a sign-in form is well under 1 KB. */
const formLimit = 16 * 1024

async function readForm(ctx: RequestContext): Promise<URLSearchParams> {
  // Express's urlencoded() may have read the body already.
  const parsed = (ctx.req as { body?: unknown }).body
  if (parsed !== null && typeof parsed === 'object')
    return new URLSearchParams(parsed as Record<string, string>)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > formLimit) break
    chunks.push(chunk)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function send(ctx: RequestContext, status: number, html: string, headers: OutgoingHttpHeaders = {}): void {
  const { res } = ctx
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    'Cache-Control': 'no-store',
  })
  res.end(ctx.method === 'HEAD' ? undefined : html)
}

function redirect(ctx: RequestContext, location: string): void {
  ctx.res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 })
  ctx.res.end()
}

export function areaRoutes(config: AreaConfig): AreaRoutes {
  const { prefix, logger, times } = config
  const page = (name: string) => `${prefix}/${name}`

  /** Where to go after signing in: a path inside the area only, never another site. */
  function nextOf(raw: string | null | undefined): string {
    if (typeof raw !== 'string') return prefix
    const inside = raw === prefix || raw.startsWith(`${prefix}/`) || raw.startsWith(`${prefix}?`)
    return inside && !/[\\\s]|\/\//.test(raw) ? raw : prefix
  }
  const withNext = (name: string, next: string) => `${page(name)}?next=${encodeURIComponent(next)}`

  function audit(
    ctx: RequestContext,
    action: string,
    outcome: string,
    fields: Record<string, unknown>,
  ): void {
    const level = outcome === 'success' ? 'info' : 'warn'
    countAuthEvent(action, outcome)
    logger[level](
      { audit: 'auth', action, outcome, ip: ctx.clientIp, requestId: ctx.id, area: prefix, ...fields },
      `auth ${action}: ${outcome}`,
    )
  }

  /**
   * A failure that started a lock: one audit line and one notification, sent in the background
   * (a slow channel never holds the answer). Failures while locked are refused before they are
   * counted, so each lockout is reported once, not each failure.
   */
  function lockedOut(
    ctx: RequestContext,
    step: 'sign-in' | 'mfa',
    email: string,
    locked: string[],
    lockedMs: number,
    userId?: string,
  ): void {
    audit(ctx, 'lockout', 'locked', { email, lockedMs, step, locked, ...(userId ? { userId } : {}) })
    const what = locked.map((key) => key.replace(/^(\w+):/, '$1 ')).join(' and ')
    config.notify(ctx, {
      title: `Lockout on ${prefix}: ${what} locked for ${spoken(lockedMs)}`,
      text: `Repeated ${step === 'mfa' ? 'wrong second-factor codes' : 'failed sign-ins'} locked ${what} for ${spoken(lockedMs)}. Attempts are refused until then; \`shipshape admin unlock <email|ip>\` lifts it early.`,
      fields: { area: prefix, step, 'client address': ctx.clientIp, email, 'request id': ctx.id },
      key: `auth-lockout:${locked.join(',')}`,
    })
  }

  /** What the user still owes after their password: the MFA step, enrolment, or nothing. */
  function secondStep(user: AdminUser): 'mfa' | 'enrol' | 'none' {
    if (user.totpSecret !== null) return 'mfa'
    const inGrace = Date.now() - user.createdAt.getTime() < config.mfaGraceMs
    return config.mfa === 'required' && !inGrace ? 'enrol' : 'none'
  }

  async function signIn(
    ctx: RequestContext,
    { store, sessions, signIn: limiter }: AreaParts,
    form: URLSearchParams,
    next: string,
  ) {
    const email = (form.get('email') ?? '').trim().toLowerCase().slice(0, 254)
    const password = form.get('password') ?? ''
    const keys = signInKeys(ctx.clientIp, email)
    const waitMs = await limiter.retryAfter(keys)
    if (waitMs > 0) {
      audit(ctx, 'sign-in', 'refused-locked', { email, retryAfterMs: waitMs })
      const seconds = Math.ceil(waitMs / 1000)
      return send(ctx, 429, lockedPage(page('sign-in'), next, seconds), { 'Retry-After': String(seconds) })
    }
    const user = await store.userByEmail(email)
    if (!(await verifyPassword(user?.passwordHash, password))) {
      const { lockedMs, locked } = await limiter.failed(keys)
      audit(ctx, 'sign-in', 'failure', { email, knownUser: user !== undefined })
      if (lockedMs > 0) {
        lockedOut(ctx, 'sign-in', email, locked, lockedMs)
        const seconds = Math.ceil(lockedMs / 1000)
        return send(ctx, 429, lockedPage(page('sign-in'), next, seconds), { 'Retry-After': String(seconds) })
      }
      return send(ctx, 401, signInPage(page('sign-in'), next, { error: 'Wrong email or password.', email }))
    }
    const signedIn = user as AdminUser
    await limiter.clear(keys)
    // Stronger parameters since this hash was made: the password is in hand, so it is hashed anew.
    if (needsRehash(signedIn.passwordHash)) await store.rehashed(signedIn.id, await hashPassword(password))
    const step = secondStep(signedIn)
    await startSession(ctx, sessions, signedIn, step === 'none')
    await sessions.deleteExpired()
    audit(ctx, 'sign-in', 'success', { email, userId: signedIn.id, nextStep: step })
    redirect(ctx, step === 'none' ? next : withNext(step, next))
  }

  /** The MFA step or enrolment's first code: throttled per user (3 tries per 10 s, then the tiers). */
  async function secondFactor(
    ctx: RequestContext,
    parts: AreaParts,
    session: ActiveSession,
    form: URLSearchParams,
    next: string,
    enrolling: boolean,
  ) {
    const { store, mfa: limiter } = parts
    const { user } = session
    const pending = enrolling ? opened(user, user.totpPending) : undefined
    if (enrolling && pending === undefined) return redirect(ctx, withNext('enrol', next))
    const render = (error: string) =>
      pending !== undefined ? enrolment(user, pending, next, error) : mfaPage(page('mfa'), next, error)
    const keys = mfaKeys(user.id)
    const waitMs = await limiter.retryAfter(keys)
    if (waitMs > 0) {
      audit(ctx, 'mfa', 'refused-locked', { userId: user.id, retryAfterMs: waitMs })
      const seconds = Math.ceil(waitMs / 1000)
      return send(ctx, 429, render(`Too many wrong codes. Try again in ${seconds} seconds.`), {
        'Retry-After': String(seconds),
      })
    }
    const code = (form.get('code') ?? '').trim()
    let accepted = false
    let codes: string[] | undefined
    if (pending !== undefined) {
      const step = await totpStep(pending, code)
      codes = newRecoveryCodes()
      accepted =
        step !== undefined && (await store.confirmTotp(user.id, user.totpPending as string, step, codes))
    } else {
      const secret = opened(user, user.totpSecret)
      const step = secret !== undefined && /^\d{6}$/.test(code) ? await totpStep(secret, code) : undefined
      // A code already used (at its step or a later one) is refused: codes work once.
      if (step !== undefined) accepted = await store.acceptTotpStep(user.id, step)
      else if (code !== '') accepted = await store.useRecoveryCode(user.id, normalRecoveryCode(code))
    }
    const action = enrolling ? 'mfa-enrol' : 'mfa'
    if (!accepted) {
      const { lockedMs, locked } = await limiter.failed(keys)
      audit(ctx, action, 'failure', { userId: user.id, email: user.email })
      if (lockedMs > 0) lockedOut(ctx, 'mfa', user.email, locked, lockedMs, user.id)
      const status = lockedMs > 0 ? 429 : 401
      const headers = lockedMs > 0 ? { 'Retry-After': String(Math.ceil(lockedMs / 1000)) } : {}
      return send(ctx, status, render('That code is not valid (or was used already).'), headers)
    }
    await limiter.clear(keys)
    await startSession(ctx, parts.sessions, user, true)
    audit(ctx, action, 'success', { userId: user.id, email: user.email })
    if (codes !== undefined) return send(ctx, 200, recoveryPage(codes, next))
    redirect(ctx, next)
  }

  function enrolment(user: AdminUser, secret: string, next: string, error?: string): string {
    const uri = otpauthUri(config.issuer, user.email, secret)
    return enrolPage(page('enrol'), next, uri, qrSvg(uri), secret, error)
  }

  /** A stored TOTP secret opened (auth.totpKey); one sealed under another key opens nothing, and says so. */
  function opened(user: AdminUser, stored: string | null): string | undefined {
    if (stored === null) return undefined
    const secret = config.sealer.open(user.id, stored)
    if (secret === undefined)
      logger.error(
        { userId: user.id, email: user.email, area: prefix },
        'auth: a TOTP secret could not be opened (auth.totpKey is not the key it was sealed with); the user needs a recovery code or `shipshape admin reset-mfa`',
      )
    return secret
  }

  return {
    async answer(ctx, parts) {
      const { store, sessions } = parts
      const url = ctx.req.url ?? prefix
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '')
      const post = ctx.method === 'POST'
      const read = ctx.method === 'GET' || ctx.method === 'HEAD'
      const sub = ctx.path.slice(prefix.length)
      // Only the area's own forms are read here: a POST that goes on to the app keeps its body.
      const ownPage = sub === '/sign-in' || sub === '/sign-out' || sub === '/mfa' || sub === '/enrol'
      const form = post && ownPage ? await readForm(ctx) : undefined
      const next = nextOf(form?.get('next') ?? query.get('next'))
      const session = await activeSession(ctx, store, sessions, times)
      if (sub === '/sign-in' && post) await signIn(ctx, parts, form as URLSearchParams, next)
      else if (sub === '/sign-in' && read) {
        if (session?.mfa) redirect(ctx, next)
        else send(ctx, 200, signInPage(page('sign-in'), next))
      } else if (sub === '/sign-out' && post) {
        await endSession(ctx, sessions)
        if (session) audit(ctx, 'sign-out', 'success', { userId: session.user.id, email: session.user.email })
        send(ctx, 200, signInPage(page('sign-in'), prefix, { note: 'You are signed out.' }))
      } else if ((sub === '/mfa' || sub === '/enrol') && (post || read)) {
        await secondStepPage(ctx, parts, session, sub, form, next)
      } else if (ownPage) {
        plainAnswer(ctx.res, 405, 'Method Not Allowed\n', {
          Allow: sub === '/sign-out' ? 'POST' : 'GET, HEAD, POST',
        })
      } else if (session?.mfa) {
        const { user } = session
        const signedIn: SignedInUser = {
          id: user.id,
          email: user.email,
          mfa: user.totpSecret !== null,
          area: prefix,
          role: user.role,
        }
        ctx.state[config.userSlot] = signedIn
        return false
      } else if (!read) {
        plainAnswer(ctx.res, 401, 'Unauthorized: sign in first\n')
      } else if (session) {
        redirect(ctx, withNext(session.user.totpSecret === null ? 'enrol' : 'mfa', url))
      } else {
        redirect(ctx, withNext('sign-in', url))
      }
      return true
    },
  }

  async function secondStepPage(
    ctx: RequestContext,
    parts: AreaParts,
    session: ActiveSession | undefined,
    sub: string,
    form: URLSearchParams | undefined,
    next: string,
  ): Promise<void> {
    if (session === undefined) return redirect(ctx, withNext('sign-in', next))
    const enrolled = session.user.totpSecret !== null
    // Enrolling again replaces the factor: only from a session that passed the current one.
    if (sub === '/enrol' && enrolled && !session.mfa) return redirect(ctx, withNext('mfa', next))
    if (sub === '/mfa' && session.mfa) return redirect(ctx, next)
    if (sub === '/mfa' && !enrolled) return redirect(ctx, withNext('enrol', next))
    if (form !== undefined) return secondFactor(ctx, parts, session, form, next, sub === '/enrol')
    if (sub === '/mfa') return send(ctx, 200, mfaPage(page('mfa'), next))
    const secret = newTotpSecret()
    await parts.store.setPendingTotp(session.user.id, config.sealer.seal(session.user.id, secret))
    send(ctx, 200, enrolment(session.user, secret, next))
  }
}

/** 900000 → `15 min`, 7200000 → `2 h`, 10000 → `10 s`. */
function spoken(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000} h`
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`
  return `${Math.ceil(ms / 1000)} s`
}
