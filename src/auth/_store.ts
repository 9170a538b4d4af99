/**
 * Admin users and their sessions, in Postgres (the embedded database or DATABASE_URL) through
 * anything with pg.Pool's query(). Every rule several workers could race on is one statement:
 * a TOTP time step is accepted by an UPDATE that only succeeds past the last one, a recovery code
 * is spent by an UPDATE that removes it, so two workers can never both accept the same code.
 */
import { createHash } from 'node:crypto'
import { schemaOnce } from '../db/index.js'
import { ShipshapeError } from '../errors/index.js'

/** What the store needs of a pool: pg.Pool, a pg Client, or anything with the same query(). */
export interface QueryPool {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

export interface AdminUser {
  id: string
  email: string
  passwordHash: string
  /** The confirmed TOTP secret (base32), when enrolled. */
  totpSecret: string | null
  /** A secret shown for enrolment, not yet confirmed by a first code. */
  totpPending: string | null
  recoveryLeft: number
  createdAt: Date
  /** `admin` may act (resolve, mute, silence) in the ops console; `viewer` only reads it. */
  role: AdminRole
}

/** The roles of admin users; rows made before roles existed are admins, as they were. */
export type AdminRole = 'viewer' | 'admin'

export interface SessionRow {
  userId: string
  /** The second factor was given in this session (or none is needed). */
  mfa: boolean
  createdAt: Date
  lastSeenAt: Date
}

const schema = `
BEGIN;
SELECT pg_advisory_xact_lock(7265432);
CREATE TABLE IF NOT EXISTS shipshape_admin_users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  password_hash text NOT NULL,
  totp_secret text,
  totp_pending text,
  totp_last_step bigint NOT NULL DEFAULT 0,
  recovery_codes text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS shipshape_admin_sessions (
  token_hash bytea PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES shipshape_admin_users (id) ON DELETE CASCADE,
  mfa boolean NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS shipshape_admin_sessions_user ON shipshape_admin_sessions (user_id);
-- Added with the ops console: existing rows keep the admin rights they had.
ALTER TABLE shipshape_admin_users ADD COLUMN IF NOT EXISTS role text NOT NULL DEFAULT 'admin';
CREATE TABLE IF NOT EXISTS shipshape_admin_unlocks (
  id bigserial PRIMARY KEY,
  key text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
COMMIT;
`

/** SHA-256 of a token or recovery code: both are random and long, so no slow hash is needed. */
export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** Emails are compared as written, case aside. */
const normalEmail = (email: string) => email.trim().toLowerCase()

const userColumns = `id::text, email, password_hash, totp_secret, totp_pending,
  cardinality(recovery_codes) AS recovery_left, created_at, role`

function asUser(row: Record<string, unknown>): AdminUser {
  return {
    id: row.id as string,
    email: row.email as string,
    passwordHash: row.password_hash as string,
    totpSecret: (row.totp_secret as string | null) ?? null,
    totpPending: (row.totp_pending as string | null) ?? null,
    recoveryLeft: Number(row.recovery_left),
    createdAt: row.created_at as Date,
    role: row.role === 'viewer' ? 'viewer' : 'admin',
  }
}

export class AuthStore {
  /** Creates the tables once (a lock makes concurrent workers and instances wait for the first). */
  readonly migrate: () => Promise<void>
  constructor(private readonly pool: QueryPool) {
    this.migrate = schemaOnce(pool, schema)
  }

  private async query(text: string, values: unknown[] = []) {
    await this.migrate()
    return (await this.pool.query(text, values)).rows
  }

  async createUser(email: string, passwordHash: string, role: AdminRole = 'admin'): Promise<AdminUser> {
    const rows = await this.query(
      `INSERT INTO shipshape_admin_users (email, password_hash, role) VALUES ($1, $2, $3)
       ON CONFLICT (email) DO NOTHING RETURNING ${userColumns}`,
      [normalEmail(email), passwordHash, role],
    )
    if (rows[0] === undefined) throw new ShipshapeError('SHIPSHAPE_E_AUTH_USER_EXISTS', normalEmail(email))
    return asUser(rows[0])
  }

  async userByEmail(email: string): Promise<AdminUser | undefined> {
    const rows = await this.query(`SELECT ${userColumns} FROM shipshape_admin_users WHERE email = $1`, [
      normalEmail(email),
    ])
    return rows[0] && asUser(rows[0])
  }

  async userById(id: string): Promise<AdminUser | undefined> {
    const rows = await this.query(`SELECT ${userColumns} FROM shipshape_admin_users WHERE id = $1`, [id])
    return rows[0] && asUser(rows[0])
  }

  /** Throws SHIPSHAPE_E_AUTH_NO_USER when there is none: for the CLI's commands. */
  async requireUser(email: string): Promise<AdminUser> {
    const user = await this.userByEmail(email)
    if (user === undefined) throw new ShipshapeError('SHIPSHAPE_E_AUTH_NO_USER', normalEmail(email))
    return user
  }

  async listUsers(): Promise<(AdminUser & { sessions: number })[]> {
    const rows = await this.query(
      `SELECT ${userColumns}, (SELECT count(*) FROM shipshape_admin_sessions s WHERE s.user_id = u.id)::int AS sessions
       FROM shipshape_admin_users u ORDER BY email`,
    )
    return rows.map((row) => ({ ...asUser(row), sessions: Number(row.sessions) }))
  }

  /** A new password: every session of the user ends, wherever it is. */
  async setPassword(userId: string, passwordHash: string): Promise<void> {
    await this.query(
      'UPDATE shipshape_admin_users SET password_hash = $2, password_changed_at = now() WHERE id = $1',
      [userId, passwordHash],
    )
    await this.revokeSessions(userId)
  }

  /** The same password under stronger parameters (at sign-in): sessions stay. */
  async rehashed(userId: string, passwordHash: string): Promise<void> {
    await this.query('UPDATE shipshape_admin_users SET password_hash = $2 WHERE id = $1', [
      userId,
      passwordHash,
    ])
  }

  async setPendingTotp(userId: string, secret: string): Promise<void> {
    await this.query('UPDATE shipshape_admin_users SET totp_pending = $2 WHERE id = $1', [userId, secret])
  }

  /** Enrolment confirmed by a first code at `step`: the pending secret becomes the user's, with fresh recovery codes. */
  async confirmTotp(userId: string, secret: string, step: number, recoveryCodes: string[]): Promise<boolean> {
    const rows = await this.query(
      `UPDATE shipshape_admin_users SET totp_secret = totp_pending, totp_pending = NULL,
         totp_last_step = $3, recovery_codes = $4
       WHERE id = $1 AND totp_pending = $2 RETURNING id`,
      [userId, secret, step, recoveryCodes.map((code) => sha256(code).toString('hex'))],
    )
    return rows.length === 1
  }

  /** True once per time step: a code already accepted (at that step or a later one) is refused. */
  async acceptTotpStep(userId: string, step: number): Promise<boolean> {
    const rows = await this.query(
      'UPDATE shipshape_admin_users SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2 RETURNING id',
      [userId, step],
    )
    return rows.length === 1
  }

  /** Spends a recovery code; false when it is not one of the user's (or was used). */
  async useRecoveryCode(userId: string, code: string): Promise<boolean> {
    const hashed = sha256(code).toString('hex')
    const rows = await this.query(
      `UPDATE shipshape_admin_users SET recovery_codes = array_remove(recovery_codes, $2)
       WHERE id = $1 AND $2 = ANY (recovery_codes) RETURNING id`,
      [userId, hashed],
    )
    return rows.length === 1
  }

  /** Forget the user's second factor (a lost phone): they enrol again at their next sign-in. */
  async resetMfa(userId: string): Promise<void> {
    await this.query(
      `UPDATE shipshape_admin_users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = 0,
         recovery_codes = '{}' WHERE id = $1`,
      [userId],
    )
    await this.revokeSessions(userId)
  }

  async createSession(tokenHash: Buffer, userId: string, mfa: boolean): Promise<void> {
    await this.query('INSERT INTO shipshape_admin_sessions (token_hash, user_id, mfa) VALUES ($1, $2, $3)', [
      tokenHash,
      userId,
      mfa,
    ])
  }

  async session(tokenHash: Buffer): Promise<SessionRow | undefined> {
    const rows = await this.query(
      'SELECT user_id::text, mfa, created_at, last_seen_at FROM shipshape_admin_sessions WHERE token_hash = $1',
      [tokenHash],
    )
    const row = rows[0]
    if (row === undefined) return undefined
    return {
      userId: row.user_id as string,
      mfa: row.mfa as boolean,
      createdAt: row.created_at as Date,
      lastSeenAt: row.last_seen_at as Date,
    }
  }

  async touchSession(tokenHash: Buffer): Promise<void> {
    await this.query('UPDATE shipshape_admin_sessions SET last_seen_at = now() WHERE token_hash = $1', [
      tokenHash,
    ])
  }

  async deleteSession(tokenHash: Buffer): Promise<void> {
    await this.query('DELETE FROM shipshape_admin_sessions WHERE token_hash = $1', [tokenHash])
  }

  /** Ends every session of the user; resolves to how many there were. */
  async revokeSessions(userId: string): Promise<number> {
    const rows = await this.query('DELETE FROM shipshape_admin_sessions WHERE user_id = $1 RETURNING 1', [
      userId,
    ])
    return rows.length
  }

  /** Deletes sessions past either timeout (they are refused anyway; this keeps the table small). */
  async deleteExpired(idleMs: number, absoluteMs: number): Promise<void> {
    await this.query(
      `DELETE FROM shipshape_admin_sessions
       WHERE last_seen_at < now() - $1 * interval '1 millisecond' OR created_at < now() - $2 * interval '1 millisecond'`,
      [idleMs, absoluteMs],
    )
  }

  /** `shipshape admin unlock`: asks every worker of every instance to clear these limiter keys. */
  async requestUnlock(keys: string[]): Promise<void> {
    await this.query("DELETE FROM shipshape_admin_unlocks WHERE at < now() - interval '1 day'")
    await this.query('INSERT INTO shipshape_admin_unlocks (key) SELECT unnest($1::text[])', [keys])
  }

  /** Unlocks asked for after `afterId`, with the newest id. */
  async unlocksSince(afterId: string): Promise<{ lastId: string; unlocks: { id: string; key: string }[] }> {
    const rows = await this.query(
      'SELECT id::text, key FROM shipshape_admin_unlocks WHERE id > $1 ORDER BY id',
      [afterId],
    )
    return {
      lastId: (rows.at(-1)?.id as string | undefined) ?? afterId,
      unlocks: rows.map((row) => ({ id: row.id as string, key: row.key as string })),
    }
  }

  async lastUnlockId(): Promise<string> {
    const rows = await this.query('SELECT coalesce(max(id), 0)::text AS id FROM shipshape_admin_unlocks')
    return rows[0]?.id as string
  }
}
