/**
 * TOTP (RFC 6238: SHA-1, 30 s, 6 digits, one step of clock drift either way) through otplib, and
 * recovery codes. otplib is stateless: replays are refused by the store, which accepts each time
 * step once (AuthStore.acceptTotpStep).
 */
import { randomInt } from 'node:crypto'
import { generateSecret, generateURI, verify } from 'otplib'
import { renderSVG } from 'uqr'

/** django-two-factor-auth's count. */
const recoveryCodeCount = 10
/** No 0/o, 1/l/i: codes are read off paper. 10 of 31 symbols: about 50 bits each. */
const recoveryAlphabet = 'abcdefghjkmnpqrstuvwxyz23456789'

export const newTotpSecret = (): string => generateSecret()

export function otpauthUri(issuer: string, email: string, secret: string): string {
  return generateURI({ issuer, label: email, secret })
}

/** The QR code of `text` as inline SVG: presentation attributes only, which a strict CSP allows. */
export function qrSvg(text: string): string {
  return renderSVG(text, { border: 2 })
}

/** The time step `code` belongs to (now ± 1 step), or undefined when it matches none. */
export async function totpStep(secret: string, code: string): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined
  const result = await verify({ secret, token: code, epochTolerance: 30 })
  return result.valid && 'timeStep' in result ? result.timeStep : undefined
}

export function newRecoveryCodes(): string[] {
  return Array.from({ length: recoveryCodeCount }, () => {
    const symbols = Array.from({ length: 10 }, () => recoveryAlphabet[randomInt(recoveryAlphabet.length)])
    return `${symbols.slice(0, 5).join('')}-${symbols.slice(5).join('')}`
  })
}

/** A recovery code as typed (any case, spaces or no dash) in the form it was issued. */
export function normalRecoveryCode(typed: string): string {
  const bare = typed.toLowerCase().replace(/[^a-z0-9]/g, '')
  return bare.length === 10 ? `${bare.slice(0, 5)}-${bare.slice(5)}` : bare
}
