/**
 * The parts of shipshape/auth on their own: argon2id at OWASP's parameters (an unknown user costs
 * what a wrong password does), the password policy, and the lockout tiers on both stores (the
 * primary's counter table, and Redis through rate-limiter-flexible).
 */
import { randomBytes } from 'node:crypto'
import { hash } from '@node-rs/argon2'
import { afterAll, describe, expect, it } from 'vitest'
import {
  checkPasswordPolicy,
  closeRedis,
  connectRedis,
  countersStore,
  hashPassword,
  isCommonPassword,
  Limiter,
  needsRehash,
  redisStore,
  verifyPassword,
} from '../../dist/auth/index.js'
import { CounterTable } from '../../dist/server/index.js'
import { unknownUserHash } from './_password.js'
import { totpSealer } from './_sealed.js'

const tiers = [
  { failures: 3, lockMs: 400 },
  { failures: 6, lockMs: 800 },
  { failures: 10, lockMs: 1600 },
]

describe('passwords', () => {
  it('are argon2id with m=19 MiB, t=2, p=1, stored with their parameters; weaker ones need a rehash', async () => {
    const stored = await hashPassword('correct horse battery staple')
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    expect(await verifyPassword(stored, 'correct horse battery staple')).toBe(true)
    expect(await verifyPassword(stored, 'correct horse battery stapl')).toBe(false)
    expect(needsRehash(stored)).toBe(false)
    expect(needsRehash(await hash('x', { memoryCost: 4096, timeCost: 3, parallelism: 1 }))).toBe(true)
    expect(await verifyPassword('not a hash', 'x')).toBe(false)
  })

  it('cost the same for an unknown user as for a wrong password (medians within noise)', async () => {
    const stored = await hashPassword('correct horse battery staple')
    expect(needsRehash(unknownUserHash)).toBe(false) // verified for unknown users: at today's parameters
    // Alternated, so that a busy moment of the shared machine falls on both sides alike.
    const known: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 15; i++) {
      for (const [target, times] of [
        [stored, known],
        [undefined, unknown],
      ] as const) {
        const start = performance.now()
        await verifyPassword(target, `wrong ${i}`)
        times.push(performance.now() - start)
      }
    }
    const median = (times: number[]) => times.sort((a, b) => a - b)[7] as number
    const ratio = median(unknown) / median(known)
    // The same work (one argon2id verification at the same parameters): a gap this size is the noise of a shared machine.
    expect(ratio).toBeGreaterThan(0.6)
    expect(ratio).toBeLessThan(1.6)
  })

  it('must be long enough and not among the 10,000 most common', () => {
    expect(() => checkPasswordPolicy('short', 12)).toThrow(
      /refused: it has 5 characters; at least 12 are needed/,
    )
    expect(isCommonPassword('Password')).toBe(true)
    expect(isCommonPassword('qwerty123')).toBe(true)
    expect(isCommonPassword('baseballzq')).toBe(false) // whole entries only, not prefixes of one
    expect(() => checkPasswordPolicy('baseball', 8)).toThrow(/most common/)
    expect(() => checkPasswordPolicy('correct horse battery staple', 12)).not.toThrow()
  })
})

describe('TOTP secrets sealed at rest (auth.totpKey)', () => {
  it('open with the key they were sealed with, for the user they were sealed for, and no other', () => {
    const key = randomBytes(32).toString('base64')
    const sealer = totpSealer(key)
    const sealed = sealer.seal('7', 'JBSWY3DPEHPK3PXP')
    expect(sealed).toMatch(/^enc1:/)
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP')
    expect(sealer.seal('7', 'JBSWY3DPEHPK3PXP')).not.toBe(sealed) // a fresh IV each time
    expect(sealer.open('7', sealed)).toBe('JBSWY3DPEHPK3PXP')
    expect(sealer.open('8', sealed)).toBeUndefined() // moved to another user's row
    expect(totpSealer(randomBytes(32).toString('base64')).open('7', sealed)).toBeUndefined() // a lost key
    expect(totpSealer(undefined).open('7', sealed)).toBeUndefined()
    expect(sealer.open('7', `${sealed.slice(0, -2)}AA`)).toBeUndefined() // tampered
    // Stored before the key was set: still readable, and without a key secrets are stored as they are.
    expect(sealer.open('7', 'JBSWY3DPEHPK3PXP')).toBe('JBSWY3DPEHPK3PXP')
    expect(totpSealer(undefined).seal('7', 'JBSWY3DPEHPK3PXP')).toBe('JBSWY3DPEHPK3PXP')
  })
})

const table = new CounterTable()
const client = await connectRedis('redis://127.0.0.1:6379')
const redis = await redisStore(client, `auth-test-${randomBytes(4).toString('hex')}`)
afterAll(async () => {
  table.close()
  await closeRedis(client)
})

describe.each([
  ['the primary’s counters', countersStore(table)],
  ['Redis (rate-limiter-flexible)', redis],
])('the lockout on %s', (_name, store) => {
  it('locks at each tier, refuses until the lock ends, then counts on to the next tier; clear() forgets', async () => {
    const limiter = new Limiter(store, tiers)
    const key = [`user:${randomBytes(4).toString('hex')}@example.com`]
    expect((await limiter.failed(key)).lockedMs).toBe(0)
    expect((await limiter.failed(key)).lockedMs).toBe(0)
    expect((await limiter.failed(key)).lockedMs).toBe(400)
    const left = await limiter.retryAfter(key)
    expect(left).toBeGreaterThan(0)
    expect(left).toBeLessThanOrEqual(1000) // Redis locks in whole seconds
    await new Promise((wait) => setTimeout(wait, 1100))
    expect(await limiter.retryAfter(key)).toBe(0)
    expect((await limiter.failed(key)).lockedMs).toBe(0) // 4
    expect((await limiter.failed(key)).lockedMs).toBe(0) // 5
    expect((await limiter.failed(key)).lockedMs).toBe(800) // 6
    await limiter.clear(key)
    expect(await limiter.retryAfter(key)).toBe(0)
    expect((await limiter.failed(key)).lockedMs).toBe(0) // counting starts again
  })

  it('applies an unlock once, for whoever asks first: a later ask wipes no failure counted since', async () => {
    const limiter = new Limiter(store, tiers)
    const key = [`user:${randomBytes(4).toString('hex')}@example.com`]
    const unlock = `unlock:${randomBytes(4).toString('hex')}`
    await limiter.failed(key)
    expect(await limiter.clearOnce(unlock, key)).toBe(true)
    await limiter.failed(key)
    await limiter.failed(key)
    expect(await limiter.clearOnce(unlock, key)).toBe(false) // another worker, later
    expect((await limiter.failed(key)).lockedMs).toBe(400) // the 3rd failure since the unlock
  })

  it('answers for the longest lock among several keys', async () => {
    const limiter = new Limiter(store, [{ failures: 1, lockMs: 5000 }])
    const ip = `ip:${randomBytes(4).toString('hex')}`
    expect((await limiter.failed([ip])).lockedMs).toBe(5000)
    expect(await limiter.retryAfter([`user:${randomBytes(4).toString('hex')}`, ip])).toBeGreaterThan(3000)
  })
})
