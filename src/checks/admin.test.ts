/** auth's deploy checks, on settings resolved from a real environment as `shipshape check` does, and a real Postgres. */
import pg from 'pg'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { AuthStore, hashPassword } from '../../dist/auth/index.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { context, findings, production, removeProjects, skipped } from './_test/context.js'

let database: TestDatabase | undefined
afterEach(removeProjects)
afterAll(async () => {
  await database?.drop()
})

const area = { ...production, SHIPSHAPE_AUTH_PROTECT: '/admin' }

describe('the protected area at check --deploy', () => {
  it('admin-mfa: optional MFA or a grace period is an error; required is not; without an area it is skipped', async () => {
    expect(
      await findings(
        'admin-mfa',
        context({ ...area, SHIPSHAPE_AUTH_MFA: 'optional', SHIPSHAPE_AUTH_MFA_GRACE: '1h' }),
      ),
    ).toEqual([
      'auth.mfa is optional: /admin opens with a password alone for users who never enrolled',
      'auth.mfaGrace is 60 min: new users enter /admin without a second factor until it ends',
    ])
    expect(await findings('admin-mfa', context(area))).toEqual([])
    expect(await skipped('admin-mfa', context(production))).toMatch(/no auth.protect/)
  })

  it('console-mfa: the console without a second factor is an error; required (the default) is not; off is skipped', async () => {
    expect(
      await findings('console-mfa', context({ ...production, SHIPSHAPE_CONSOLE_MFA: 'optional' })),
    ).toEqual([
      'console.mfa is optional: /_shipshape opens with a password alone for users who never enrolled',
    ])
    expect(await findings('console-mfa', context(production))).toEqual([])
    expect(
      await skipped('console-mfa', context({ ...production, SHIPSHAPE_CONSOLE_ENABLED: 'false' })),
    ).toMatch(/console.enabled is false/)
  })

  it('admin-allow-list: warns without an allow-list, unless behind a VPN', async () => {
    expect(await findings('admin-allow-list', context(area))).toHaveLength(1)
    expect(
      await findings('admin-allow-list', context({ ...area, SHIPSHAPE_AUTH_ALLOW_IPS: '10.0.0.0/8' })),
    ).toEqual([])
    expect(
      await findings('admin-allow-list', context({ ...area, SHIPSHAPE_AUTH_BEHIND_VPN: 'true' })),
    ).toEqual([])
  })

  it('admin-users-mfa: lists the users who have not enrolled', async () => {
    database = await createTestDatabase('auth_checks')
    const pool = new pg.Pool({ connectionString: database.url, max: 1 })
    try {
      await new AuthStore(pool).createUser(
        'New@example.com',
        await hashPassword('correct horse battery staple'),
      )
    } finally {
      await pool.end()
    }
    const found = await findings('admin-users-mfa', context({ ...area, DATABASE_URL: database.url }))
    expect(found).toEqual(['new@example.com has no second factor enrolled'])
    expect(await skipped('admin-users-mfa', context(area))).toMatch(/needs DATABASE_URL/)
  })
})
