/**
 * shipshape/auth: protection for admin areas. `protect('/admin', { mfa: 'required', allowIps })`
 * puts a path prefix behind an IP allow-list, argon2id passwords, TOTP with recovery codes and
 * sessions, with a brute-force lockout shared by every worker (and every instance, with Redis).
 * `currentUser()` is who is signed in. Users are managed with `shipshape admin`. See docs/auth.md.
 */
export { countersStore, Limiter, type LockStore, redisStore, signInKeys } from './_limiter.js'
export {
  checkPasswordPolicy,
  hashPassword,
  isCommonPassword,
  needsRehash,
  passwordParams,
  verifyPassword,
} from './_password.js'
export {
  currentUser,
  type ProtectMiddleware,
  type ProtectOptions,
  protect,
  type SignedInUser,
  servedAreaOptions,
} from './_protect.js'
export { closeRedis, connectRedis } from './_redis.js'
export { type SessionStore, sessionStore, sessionsIn } from './_session-stores.js'
export type { LockoutTier } from './_settings.js'
export { type AdminRole, type AdminUser, AuthStore, type QueryPool } from './_store.js'
export { otpauthUri, totpStep } from './_totp.js'
