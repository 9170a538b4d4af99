/** Secrets: never shown, masked when logged, read from secret files, refused from files git tracks. */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { tempDir } from '../_test/temp.js'
import { dbPassword, declaration, loadIn, requiredEnv, thrown } from './_test/declaration.js'
import { defineConfig, type LoadOptions, loadConfig, setting } from './index.js'

let temp: ReturnType<typeof tempDir>
afterEach(() => temp?.remove())

const load = (env: Record<string, string>, options: LoadOptions = {}) => loadIn(temp.dir, env, options)

describe('secrets', () => {
  it('a secret is never shown in a problem, its expectation, or the thrown error and its cause', () => {
    temp = tempDir()
    const secretCheck = defineConfig({
      token: setting(
        z.string().refine((value) => value.startsWith('tok_'), {
          error: (issue) => `a token, not ${String(issue.input)}`,
        }),
        { secret: true, description: 't' },
      ),
      key: setting(z.int(), { secret: true, description: 'k' }),
    })
    const error = thrown(() =>
      loadConfig(secretCheck, {
        env: { TOKEN: 'sup3rsecretvalue', KEY: 'sup3rsecretkey' },
        dotenv: false,
        secretsDir: false,
      }),
    )
    const everything = `${error.message} ${JSON.stringify(error.problems)} ${inspect(error, { depth: 5 })} ${String(error.cause)}`
    expect(everything).not.toContain('sup3rsecret')
    expect(error.problems.map((problem) => problem.found)).toEqual([
      '[secret] (a secret is never shown)',
      '[secret] (a secret is never shown)',
    ])
  })

  it('JSON.stringify, util.inspect and a pino log line mask secrets at every level; the values stay usable', async () => {
    temp = tempDir()
    const settings = loadConfig(declaration, {
      cwd: temp.dir,
      env: { ...requiredEnv, SMTP_PASSWORD: 'mail-password-1' },
      secretsDir: false,
    })
    expect(settings.database.url).toBe(requiredEnv.APP_DATABASE__URL)
    expect(settings.mail.password).toBe('mail-password-1')
    const { pino } = await import('pino')
    const lines: string[] = []
    const logger = pino({}, { write: (line: string) => lines.push(line) })
    logger.info({ settings }, 'loaded')
    logger.info({ database: settings.database }, 'db')
    const outputs = [
      JSON.stringify(settings),
      JSON.stringify(settings.database),
      JSON.stringify({ nested: { settings } }),
      inspect(settings),
      inspect(settings.mail),
      inspect({ settings }, { depth: 10 }),
      `${lines.join('')}`,
    ]
    for (const output of outputs) {
      expect(output).not.toContain(dbPassword)
      expect(output).not.toContain('mail-password-1')
      expect(output).toContain('[secret]')
    }
    expect(JSON.parse(JSON.stringify(settings)).siteName).toBe('demo')
  })

  it('the loaded settings are frozen at every level', () => {
    temp = tempDir()
    const settings = loadConfig(declaration, { cwd: temp.dir, env: requiredEnv, secretsDir: false })
    expect(
      Object.isFrozen(settings) && Object.isFrozen(settings.database) && Object.isFrozen(settings.hosts),
    ).toBe(true)
    expect(() => {
      ;(settings as { siteName: string }).siteName = 'changed'
    }).toThrow(TypeError)
  })

  it('<NAME>_FILE reads a secret file and trims its one trailing newline', () => {
    temp = tempDir({ 'db-url': `postgres://app:${dbPassword}@db/app\n`, crlf: 'mail-secret-2\r\n' })
    const result = load({
      APP_DATABASE__URL: '',
      APP_DATABASE__URL_FILE: join(temp.dir, 'db-url'),
      SMTP_PASSWORD_FILE: 'crlf',
    })
    expect(result.problems).toEqual([])
    expect(result.values?.database.url).toBe(`postgres://app:${dbPassword}@db/app`)
    expect(result.values?.mail.password).toBe('mail-secret-2')
    expect(result.origins.get('mail.password')?.label).toBe('SMTP_PASSWORD_FILE → crlf')
  })

  it('a variable and its _FILE both set is an error naming both, and neither value is used', () => {
    temp = tempDir({
      'db-url': `postgres://app:${dbPassword}@db/app\n`,
      '.env': 'SMTP_PASSWORD=dev-password\n',
    })
    const result = load({
      APP_DATABASE__URL: `postgres://app:${dbPassword}@other/app`,
      APP_DATABASE__URL_FILE: 'db-url',
      SMTP_PASSWORD_FILE: 'db-url',
    })
    expect(result.values).toBeUndefined()
    expect(result.problems).toEqual([
      {
        key: 'database.url',
        source: 'APP_DATABASE__URL and APP_DATABASE__URL_FILE',
        expected: 'either APP_DATABASE__URL or APP_DATABASE__URL_FILE, not both',
        found: 'both set',
      },
      {
        key: 'mail.password',
        source: '.env:1 (SMTP_PASSWORD) and SMTP_PASSWORD_FILE',
        expected: 'either SMTP_PASSWORD or SMTP_PASSWORD_FILE, not both',
        found: 'both set',
      },
    ])
    expect(JSON.stringify(result.problems)).not.toContain(dbPassword)
  })

  it('a missing or unreadable secret file is a clear error', () => {
    temp = tempDir({ 'dir/x': '' })
    const result = load({
      SMTP_PASSWORD_FILE: 'nope.txt',
      APP_DATABASE__URL: '',
      APP_DATABASE__URL_FILE: 'dir',
    })
    expect(result.problems).toEqual([
      {
        key: 'database.url',
        source: `APP_DATABASE__URL_FILE → dir`,
        expected: 'a readable secret file',
        found: 'a file that is a directory',
      },
      {
        key: 'mail.password',
        source: 'SMTP_PASSWORD_FILE → nope.txt',
        expected: 'a readable secret file',
        found: 'a file that does not exist',
      },
    ])
  })

  it('a secrets directory provides files named like the variable or its lower case', () => {
    temp = tempDir({
      'secrets/smtp_password': 'from-dir-secret\n',
      'secrets/APP_SITE_NAME': 'Site\n',
      'secrets/unrelated': 'x',
    })
    const result = load({ SMTP_PASSWORD: 'from-env-value' }, { secretsDir: 'secrets' })
    expect(result.values?.mail.password).toBe('from-dir-secret')
    expect(result.values?.siteName).toBe('Site')
    expect(result.origins.get('mail.password')?.label).toBe(join(temp.dir, 'secrets/smtp_password'))
  })

  it('a secret whose value comes from a file git tracks is a problem; an untracked one is not', () => {
    temp = tempDir({
      'app.yaml': `mail:\n  password: committed-secret\n`,
      '.env': `SMTP_PASSWORD=dotenv-secret\n`,
    })
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: temp.dir })
    git('init', '-q')
    expect(load({}, { file: 'app.yaml', dotenv: false }).problems).toEqual([])
    git('add', 'app.yaml', '.env')
    git('commit', '-qm', 'oops')
    for (const options of [{ file: 'app.yaml', dotenv: false as const }, {}]) {
      const problems = load({}, options).problems
      expect(problems).toMatchObject([{ key: 'mail.password', found: 'a value in a file git tracks' }])
      expect(JSON.stringify(problems)).not.toContain('secret"')
    }
  })
})
