import { describe, expect, it } from 'vitest'
import { checkExpiresIn, createSigner, maxExpiresIn } from './_signing.js'

const keyA = 'a'.repeat(32)
const keyB = 'b'.repeat(40)
const now = Date.UTC(2026, 0, 1)

describe('signed URL signatures', () => {
  it('verifies its own links until they expire, and not a moment after', () => {
    const signer = createSigner([keyA])
    const query = signer.sign('private', 'reports/q3.csv', 300, now)
    expect(query).toMatch(/^expires=\d+&signature=[A-Za-z0-9_-]{43}$/)
    expect(signer.verify('private', 'reports/q3.csv', query, now)).toBe(true)
    expect(signer.verify('private', 'reports/q3.csv', query, now + 299_999)).toBe(true)
    expect(signer.verify('private', 'reports/q3.csv', query, now + 300_000)).toBe(false)
  })

  it('refuses a link for another key, another storage, or with any part changed', () => {
    const signer = createSigner([keyA])
    const query = signer.sign('private', 'a.csv', 300, now)
    const [expires, signature] = [/expires=(\d+)/.exec(query)?.[1], /signature=(.*)$/.exec(query)?.[1]] as [
      string,
      string,
    ]
    expect(signer.verify('private', 'b.csv', query, now)).toBe(false)
    expect(signer.verify('other', 'a.csv', query, now)).toBe(false)
    expect(
      signer.verify('private', 'a.csv', `expires=${Number(expires) + 1}&signature=${signature}`, now),
    ).toBe(false)
    for (let i = 0; i < signature.length; i++) {
      const flipped = signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1)
      expect(signer.verify('private', 'a.csv', `expires=${expires}&signature=${flipped}`, now)).toBe(false)
    }
  })

  it('refuses unsigned, repeated, reordered or padded query strings', () => {
    const signer = createSigner([keyA])
    const query = signer.sign('private', 'a.csv', 300, now)
    const [first, second] = query.split('&') as [string, string]
    for (const bad of [
      '',
      first,
      second,
      `${second}&${first}`,
      `${query}&x=1`,
      `x=1&${query}`,
      `${first}&${query}`,
      `${query}=`,
      query.replace('signature=', 'signature=%41'),
      `expires=-1&${second}`,
    ]) {
      expect(signer.verify('private', 'a.csv', bad, now), bad).toBe(false)
    }
  })

  it('rotates keys: the first signs, every key verifies, a dropped key stops verifying', () => {
    const old = createSigner([keyA])
    const rotating = createSigner([keyB, keyA])
    const rotated = createSigner([keyB])
    const oldLink = old.sign('private', 'a.csv', 300, now)
    const newLink = rotating.sign('private', 'a.csv', 300, now)
    expect(rotating.verify('private', 'a.csv', oldLink, now)).toBe(true)
    expect(rotating.verify('private', 'a.csv', newLink, now)).toBe(true)
    expect(rotated.verify('private', 'a.csv', newLink, now)).toBe(true)
    expect(rotated.verify('private', 'a.csv', oldLink, now)).toBe(false)
    expect(old.verify('private', 'a.csv', newLink, now)).toBe(false)
  })

  it('refuses short keys and no keys', () => {
    expect(() => createSigner([])).toThrow(expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_CONFIG' }))
    expect(() => createSigner([keyA, 'short'])).toThrow(/at least 32/)
  })

  it('accepts expiries from 1 second to 7 days only', () => {
    expect(checkExpiresIn(1)).toBe(1)
    expect(checkExpiresIn(maxExpiresIn)).toBe(604_800)
    for (const bad of [0, -5, 1.5, maxExpiresIn + 1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => checkExpiresIn(bad)).toThrow(
        expect.objectContaining({ code: 'SHIPSHAPE_E_STORAGE_EXPIRY' }),
      )
    }
    expect(() => createSigner([keyA]).sign('private', 'a', maxExpiresIn + 1)).toThrow(/7 days/)
  })
})
