/** The demo reads its settings through shipshape/config: defaults, DEMO_ variables, and errors that stop it. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { resolveConfig } from 'shipshape/config'
import { describe, expect, it } from 'vitest'
import { declaration, settings } from './settings.ts'

const load = (env: Record<string, string>) =>
  resolveConfig(declaration, { env, dotenv: false, secretsDir: false })

describe('demo settings', () => {
  it('need no setup', () => {
    expect(settings.siteName).toBe('shipshape demo')
    expect(settings.guestbookPageSize).toBe(20)
    expect(settings.dataDir).toMatch(/examples\/demo\/\.data$/)
    expect(Object.isFrozen(settings)).toBe(true)
  })

  it('come from DEMO_ variables, and a bad or unknown one is reported with its name', () => {
    expect(load({ DEMO_SITE_NAME: 'Ours', DEMO_GUESTBOOK_PAGE_SIZE: '50' }).values).toMatchObject({
      siteName: 'Ours',
      guestbookPageSize: 50,
    })
    expect(load({ DEMO_GUESTBOOK_PAGE_SIZE: '50 entries', DEMO_SITENAME: 'x' }).problems).toEqual([
      {
        key: 'guestbookPageSize',
        source: 'DEMO_GUESTBOOK_PAGE_SIZE',
        expected: 'a whole number from 1 to 500',
        found: '"50 entries"',
      },
      {
        key: 'DEMO_SITENAME',
        source: 'the environment',
        expected: 'a variable that names a setting',
        found: 'an unknown variable',
        hint: 'did you mean DEMO_SITE_NAME?',
      },
    ])
  })

  it('stop the demo before it serves when a value is bad', async () => {
    const failure = await promisify(execFile)(process.execPath, ['examples/demo/settings.ts'], {
      env: { ...process.env, DEMO_GUESTBOOK_PAGE_SIZE: '0' },
    }).catch((error: { code: number; stderr: string }) => error)
    expect(failure).toMatchObject({ code: 1 })
    expect((failure as { stderr: string }).stderr).toContain(
      'guestbookPageSize from DEMO_GUESTBOOK_PAGE_SIZE: expected a whole number from 1 to 500, found "0"',
    )
  })
})
