/**
 * The auth settings group of `shipshape serve` (see docs/auth.md): the prefix it protects with no
 * code, who may reach it, MFA, session lifetimes, the lockout tiers and the password policy; and
 * the options each worker builds its protection from.
 */
import { z } from 'zod'
import { duration, group, type Infer, parseDuration, setting } from '../config/index.js'

/** `3:15m,6:2h,10:24h`: failures → lockout, in rising order. */
const tierPattern = /^\s*\d+\s*:\s*\d+(ms|s|m|h|d)\s*$/

export const authSettings = group(
  {
    protect: setting(z.string().regex(/^(|\/[\w./-]*[^/])$/, { error: 'a path prefix such as /admin' }), {
      default: '',
      shownDefault: 'none: only what the app protects with protect() in its own code',
      description:
        'A path prefix `shipshape serve` puts behind sign-in and MFA, in front of any kind of app, with no code. Its sign-in, MFA, enrolment and sign-out pages live under it.',
      example: '/admin',
    }),
    allowIps: setting(z.array(z.string().min(1)), {
      default: [],
      shownDefault: 'none: every address may reach the sign-in page',
      description:
        'Comma-separated addresses or CIDR ranges that may reach the protected area; any other client gets a 404, as if it did not exist. The client address is the one derived from trusted proxies only.',
      example: ['10.0.0.0/8', '2001:db8::/32'],
    }),
    behindVpn: setting(z.boolean(), {
      default: false,
      description:
        'Say the protected area is reachable only through a VPN or a firewall of your own, so `check --deploy` does not warn that it has no allow-list.',
    }),
    mfa: setting(z.enum(['required', 'optional']), {
      default: 'required',
      description:
        '`required`: a second factor (TOTP or a recovery code) for every sign-in; a user without one enrols at sign-in (after the grace period). `optional`: users who enrolled are asked, others are not.',
    }),
    mfaGrace: setting(duration(), {
      default: '0s',
      description:
        'With mfa `required`, how long after a user is created they may enter without enrolling (they are offered enrolment). 0: they enrol at their first sign-in.',
    }),
    idleTimeout: setting(duration(), {
      default: '30m',
      description: 'A session unused this long ends (OWASP: 15 to 30 minutes for high-value areas).',
    }),
    absoluteTimeout: setting(duration(), {
      default: '12h',
      description: 'A session ends this long after sign-in, however active: a stolen cookie works no longer.',
    }),
    lockout: setting(
      z.string().refine((value) => value.split(',').every((tier) => tierPattern.test(tier)), {
        error: 'comma-separated failures:duration pairs, such as 3:15m,6:2h,10:24h',
      }),
      {
        default: '3:15m,6:2h,10:24h',
        description:
          'Lockout tiers, by client IP and by username, whichever trips first: after this many failed sign-ins within 24 h, locked this long. Failures during a lockout do not extend it; from the last tier on, every failure locks again.',
      },
    ),
    sessions: setting(z.enum(['auto', 'database', 'redis']), {
      default: 'auto',
      description:
        '`auto`: sessions in Redis when REDIS_URL is set (every instance sees them without a query per page), else in the database beside the users. `database` keeps them there with REDIS_URL too: they then survive a Redis restart or flush, which in Redis without persistence signs everyone out. `redis` needs REDIS_URL.',
    }),
    totpKey: setting(z.string().min(32, { error: 'at least 32 characters (openssl rand -base64 32)' }), {
      secret: true,
      shownDefault: 'none: TOTP secrets stored as they are',
      description:
        'Seals each TOTP secret in the database with AES-256-GCM under this key, so a copy of the database alone gives no second factor away. Lose or change it and every enrolled user needs a recovery code or `shipshape admin reset-mfa`. Secrets stored before it was set stay readable.',
      example: '<32 random bytes, base64>',
    }),
    minPasswordLength: setting(z.number().int().min(8).max(128), {
      default: 12,
      description:
        'Shortest password `shipshape admin` accepts (OWASP ASVS asks for 12). Passwords in the bundled list of the 10,000 most common are refused whatever their length.',
    }),
    issuer: setting(z.string().min(1).max(64), {
      default: 'shipshape',
      description: 'The name authenticator apps show beside the account (the otpauth URI issuer).',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_AUTH_',
    flagPrefix: 'auth-',
    description:
      'Admin protection: sign-in with argon2id passwords, TOTP, sessions, an IP allow-list and a lockout shared by every worker. See [auth.md](auth.md).',
  },
)

export type AuthSettings = Infer<typeof authSettings.shape>

export interface LockoutTier {
  failures: number
  lockMs: number
}

/** What the auth settings become for the workers (plain values, sent as JSON). */
export interface AuthServeOptions {
  auth: {
    protect: string
    allowIps: string[]
    behindVpn: boolean
    mfa: 'required' | 'optional'
    mfaGraceMs: number
    idleTimeoutMs: number
    absoluteTimeoutMs: number
    tiers: LockoutTier[]
    minPasswordLength: number
    issuer: string
    sessions: 'auto' | 'database' | 'redis'
    totpKey: string | undefined
  }
}

/** `3:15m,6:2h` as tiers, sorted by failures. */
export function parseTiers(text: string): LockoutTier[] {
  return text
    .split(',')
    .map((tier) => {
      const [failures = '', span = ''] = tier.split(':').map((part) => part.trim())
      return { failures: Number(failures), lockMs: parseDuration(span) ?? 0 }
    })
    .sort((a, b) => a.failures - b.failures)
}

export function authOptions(settings: AuthSettings): AuthServeOptions {
  return {
    auth: {
      protect: settings.protect,
      allowIps: [...settings.allowIps],
      behindVpn: settings.behindVpn,
      mfa: settings.mfa,
      mfaGraceMs: settings.mfaGrace,
      idleTimeoutMs: settings.idleTimeout,
      absoluteTimeoutMs: settings.absoluteTimeout,
      tiers: parseTiers(settings.lockout),
      minPasswordLength: settings.minPasswordLength,
      issuer: settings.issuer,
      sessions: settings.sessions,
      totpKey: settings.totpKey,
    },
  }
}
