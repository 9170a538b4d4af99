/**
 * Signed URLs for the local driver's private files: an HMAC-SHA256 over the storage, the key
 * and the expiry. The expiry is part of every signature, so no link is valid forever. Several
 * keys can be active: the first signs, all of them verify, so a key is rotated by putting the
 * new one first and dropping the old one once the longest-lived link signed with it expired.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { ShipshapeError } from '../errors/index.js'

/** SigV4's own maximum, applied to every driver so a link behaves the same wherever it points. */
export const maxExpiresIn = 7 * 24 * 3600
/** Used when signedUrl() is given no expiry: long enough to click, short enough to be useless if leaked. */
export const defaultExpiresIn = 3600
/** 256 bits, as much as HMAC-SHA256 can use; shorter keys are refused at start-up. */
export const minSigningKeyLength = 32

export interface Signer {
  /** The query string (without `?`) that makes the link to `key` valid for `expiresIn` seconds. */
  sign(storage: string, key: string, expiresIn: number, now?: number): string
  /** True only for an unexpired link signed with an active key, with nothing added or repeated. */
  verify(storage: string, key: string, query: string, now?: number): boolean
}

/** Refuses expiries that are not whole seconds between 1 and 7 days. */
export function checkExpiresIn(expiresIn: number): number {
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > maxExpiresIn) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_STORAGE_EXPIRY',
      `expiresIn must be a whole number of seconds from 1 to ${maxExpiresIn} (7 days), got ${expiresIn}`,
    )
  }
  return expiresIn
}

export function createSigner(keys: readonly string[]): Signer {
  if (keys.length === 0) throw new ShipshapeError('SHIPSHAPE_E_STORAGE_CONFIG', 'no signing key is set')
  for (const key of keys) {
    if (key.length < minSigningKeyLength) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_STORAGE_CONFIG',
        `a media signing key is ${key.length} characters long; each needs at least ${minSigningKeyLength}`,
      )
    }
  }
  const secrets = keys.map((key) => Buffer.from(key))
  const mac = (secret: Buffer, storage: string, key: string, expires: string) =>
    createHmac('sha256', secret)
      .update(`shipshape-media-v1\n${storage}\n${key}\n${expires}`)
      .digest('base64url')

  return {
    sign(storage, key, expiresIn, now = Date.now()) {
      const expires = String(Math.floor(now / 1000) + checkExpiresIn(expiresIn))
      const signature = mac(secrets[0] as Buffer, storage, key, expires)
      return `expires=${expires}&signature=${signature}`
    },
    verify(storage, key, query, now = Date.now()) {
      // Exactly `expires=…&signature=…`: a link with anything added, repeated or reordered was
      // not made by sign(), so it is refused rather than interpreted.
      const match = /^expires=(\d{1,12})&signature=([A-Za-z0-9_-]{43})$/.exec(query)
      if (!match) return false
      const [, expires, signature] = match as unknown as [string, string, string]
      if (Number(expires) * 1000 <= now) return false
      // Compared as text, not decoded bytes: base64url has spare bits in its last character, and
      // a signature must have exactly one spelling.
      const given = Buffer.from(signature)
      let valid = false
      // Every key is tried, whatever the outcome, so timing does not tell which key matched.
      for (const secret of secrets) {
        if (timingSafeEqual(given, Buffer.from(mac(secret, storage, key, expires)))) valid = true
      }
      return valid
    },
  }
}
