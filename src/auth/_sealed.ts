/**
 * TOTP secrets sealed at rest (auth.totpKey): AES-256-GCM under a key derived from the setting
 * with HKDF, bound to the user's id, so a copy of the database alone does not give away anyone's
 * second factor, and a sealed secret moved to another user's row does not open. The server needs
 * the secret itself to check a code, so it cannot be hashed like a password.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'

const marker = 'enc1:'

export interface TotpSealer {
  /** The secret as it is stored: sealed with a key, as it is without one. */
  seal(userId: string, secret: string): string
  /** The secret from its stored form; undefined when it cannot be opened (no key, or another key). */
  open(userId: string, stored: string): string | undefined
}

export function totpSealer(key: string | undefined): TotpSealer {
  const aesKey = key ? Buffer.from(hkdfSync('sha256', key, '', 'shipshape totp secrets', 32)) : undefined
  const context = (userId: string) => Buffer.from(`shipshape-totp:${userId}`)
  return {
    seal(userId, secret) {
      if (aesKey === undefined) return secret
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', aesKey, iv).setAAD(context(userId))
      const sealed = Buffer.concat([iv, cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()])
      return `${marker}${sealed.toString('base64url')}`
    },
    open(userId, stored) {
      // Secrets stored before the key was set stay readable; they are sealed at their next enrolment.
      if (!stored.startsWith(marker)) return stored
      if (aesKey === undefined) return undefined
      const sealed = Buffer.from(stored.slice(marker.length), 'base64url')
      if (sealed.length < 12 + 16) return undefined
      try {
        const decipher = createDecipheriv('aes-256-gcm', aesKey, sealed.subarray(0, 12))
          .setAAD(context(userId))
          .setAuthTag(sealed.subarray(-16))
        return Buffer.concat([decipher.update(sealed.subarray(12, -16)), decipher.final()]).toString('utf8')
      } catch {
        return undefined
      }
    },
  }
}
