/**
 * Every deploy check on settings, and how checks run and report: a passing
 * setup, a failing one, and hostile or edge inputs. Settings come from real environments resolved
 * by the serve options table; the command runs as a real process.
 */
import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import {
  context,
  findings,
  gitProject,
  production,
  project,
  removeProjects,
  skipped,
  strongKey,
} from './_test/context.js'
import { type DeployCheck, deployChecks, runDeployChecks } from './index.js'

afterEach(removeProjects)

it('every check has an id, a severity, a title and a fix; ids are unique', () => {
  const ids = deployChecks.map((check) => check.id)
  expect(new Set(ids).size).toBe(ids.length)
  for (const check of deployChecks) {
    expect(check.id).toMatch(/^[a-z][a-z-]+$/)
    expect(['error', 'warning', 'info']).toContain(check.severity)
    expect(check.title.length).toBeGreaterThan(5)
    expect(check.fix.length).toBeGreaterThan(20)
  }
})

it('docs/deploy-checks.md lists every check with its severity', () => {
  const docs = readFileSync(new URL('../../docs/deploy-checks.md', import.meta.url), 'utf8')
  for (const check of deployChecks) expect(docs).toContain(`| \`${check.id}\` | ${check.severity} |`)
})

describe('settings', () => {
  it('server-options: bad options fail with what is wrong, named by variable', async () => {
    expect(await findings('server-options', context())).toEqual([])
    const bad = await findings('server-options', context({ ...production, SHIPSHAPE_TIMEOUT: 'soon' }))
    expect(bad.join()).toContain('SHIPSHAPE_TIMEOUT')
    // Checks that need the options are skipped rather than guessing.
    expect(await skipped('request-timeout', context({ ...production, SHIPSHAPE_TIMEOUT: 'soon' }))).toContain(
      'server-options',
    )
  })

  it('debug-mode: NODE_ENV other than production fails; unset passes (serve sets it)', async () => {
    expect(await findings('debug-mode', context())).toEqual([])
    expect(await findings('debug-mode', context({ ...production, NODE_ENV: undefined }))).toEqual([])
    expect(await findings('debug-mode', context({ ...production, NODE_ENV: 'development' }))).toEqual([
      'NODE_ENV is "development"',
    ])
    expect(await findings('debug-mode', context({ ...production, NODE_ENV: '' }))).toHaveLength(1)
    expect(await findings('debug-mode', context({ ...production, NODE_ENV: 'Production' }))).toHaveLength(1)
  })

  it('debug-logging: DEBUG or a debug log level', async () => {
    expect(await findings('debug-logging', context())).toEqual([])
    expect(await findings('debug-logging', context({ ...production, DEBUG: 'express:*' }))).toHaveLength(1)
    expect(await findings('debug-logging', context({ ...production, LOG_LEVEL: 'trace' }))).toEqual([
      'LOG_LEVEL is trace',
    ])
  })

  it('secret-key: short, low-variety, placeholder and example values fail; a random key passes', async () => {
    expect(await findings('secret-key', context({ ...production, SECRET_KEY: strongKey }))).toEqual([])
    expect(await findings('secret-key', context({ ...production, SECRET_KEY: 'short' }))).toEqual([
      'SECRET_KEY is 5 characters long; use at least 32 random ones',
    ])
    expect(
      (
        await findings('secret-key', context({ ...production, SHIPSHAPE_SECRET_KEY: 'ab'.repeat(30) }))
      ).join(),
    ).toContain('2 distinct characters')
    const placeholder = await findings(
      'secret-key',
      context({ ...production, SESSION_SECRET: `change-me-${strongKey}` }),
    )
    expect(placeholder.join()).toContain('placeholder')
    // The finding never repeats the key.
    expect(placeholder.join()).not.toContain(strongKey)
    const cwd = project({ '.env.example': `SECRET_KEY=${strongKey}\n` })
    expect(
      (await findings('secret-key', context({ ...production, SECRET_KEY: strongKey }, cwd))).join(),
    ).toContain('example env file')
  })

  it('secret-key: reads *_FILE secret files and every media signing key', async () => {
    const cwd = project({ 'secrets/key': 'tooshort\n' })
    expect(
      await findings('secret-key', context({ ...production, SECRET_KEY_FILE: 'secrets/key' }, cwd)),
    ).toEqual(['SECRET_KEY is 8 characters long; use at least 32 random ones'])
    const keys = await findings(
      'secret-key',
      context({ ...production, SHIPSHAPE_MEDIA_SIGNING_KEYS: `${strongKey},${'ab'.repeat(20)}` }),
    )
    expect(keys).toEqual([
      'SHIPSHAPE_MEDIA_SIGNING_KEYS key 2 uses only 2 distinct characters: it is guessable',
    ])
    // A key too short to use at all stops the options from resolving: server-options reports it.
    const tiny = context({ ...production, SHIPSHAPE_MEDIA_SIGNING_KEYS: `${strongKey},tiny` })
    expect((await findings('server-options', tiny)).join()).toContain('SHIPSHAPE_MEDIA_SIGNING_KEYS')
  })

  it('secret-key: a key file git tracks fails, as serve fails its own signing key read from one', async () => {
    const tracked = gitProject({ 'config/secret_key': `${strongKey}\n` })
    const found = await findings(
      'secret-key',
      context({ ...production, SECRET_KEY_FILE: 'config/secret_key' }, tracked),
    )
    expect(found).toEqual([
      'SECRET_KEY from SECRET_KEY_FILE → config/secret_key: expected a secret kept out of git (an environment variable, a secret file, or an untracked file), found a value in a file git tracks (remove it from the file, rotate it, and `git rm --cached` the file if it holds only secrets)',
    ])
    expect(found.join()).not.toContain(strongKey)
    // The same key in a file git does not track passes.
    const untracked = project({ 'config/secret_key': `${strongKey}\n` })
    expect(
      await findings(
        'secret-key',
        context({ ...production, SECRET_KEY_FILE: 'config/secret_key' }, untracked),
      ),
    ).toEqual([])
  })

  it('secret-key: reads the secrets directory and reports an unreadable key file, as serve would', async () => {
    const secretsDir = project({ SESSION_SECRET: 'tooshort\n' })
    expect(await findings('secret-key', context(production, project(), { secretsDir }))).toEqual([
      'SESSION_SECRET is 8 characters long; use at least 32 random ones',
    ])
    const missing = await findings('secret-key', context({ ...production, SECRET_KEY_FILE: 'nowhere/key' }))
    expect(missing.join()).toContain('expected a readable secret file, found a file that does not exist')
  })

  it('secret-key: the example env file is read as config reads .env (quotes keep what they hold)', async () => {
    const quoted = `${strongKey}#1`
    const cwd = project({ '.env.example': `export SECRET_KEY='${quoted}' # the example\n` })
    expect(
      (await findings('secret-key', context({ ...production, SECRET_KEY: quoted }, cwd))).join(),
    ).toContain('example env file')
  })

  it('https-redirect: off fails, and so does a Unix socket whose proxy is not trusted', async () => {
    expect(await findings('https-redirect', context())).toEqual([])
    expect(
      await findings('https-redirect', context({ ...production, SHIPSHAPE_HTTPS_REDIRECT: 'off' })),
    ).toEqual(['SHIPSHAPE_HTTPS_REDIRECT is off'])
    const behindSocket = { ...production, SHIPSHAPE_BIND: 'unix:/run/app.sock' }
    expect((await findings('https-redirect', context(behindSocket))).join()).toContain('does not list unix')
    expect(
      await findings('https-redirect', context({ ...behindSocket, SHIPSHAPE_TRUSTED_PROXIES: 'unix' })),
    ).toEqual([])
  })

  it('hsts: none or under six months fails; subdomains and preload are notes', async () => {
    expect(await findings('hsts', context())).toEqual([])
    expect(await findings('hsts', context({ ...production, SHIPSHAPE_HSTS_MAX_AGE: '0' }))).toEqual([
      'SHIPSHAPE_HSTS_MAX_AGE is 0: no HSTS is sent',
    ])
    expect(
      (await findings('hsts', context({ ...production, SHIPSHAPE_HSTS_MAX_AGE: '30d' }))).join(),
    ).toContain('under six months')
    expect(await findings('hsts', context({ ...production, SHIPSHAPE_HSTS_MAX_AGE: '180d' }))).toEqual([])
    expect(
      await findings(
        'hsts-subdomains',
        context({ ...production, SHIPSHAPE_HSTS_INCLUDE_SUBDOMAINS: 'false' }),
      ),
    ).toHaveLength(1)
    expect(
      await findings('hsts-preload', context({ ...production, SHIPSHAPE_HSTS_PRELOAD: 'true' })),
    ).toEqual([])
    expect(await findings('hsts-preload', context())).toHaveLength(1)
    // No HSTS at all is the hsts check's finding, not a note about its parts.
    expect(await findings('hsts-preload', context({ ...production, SHIPSHAPE_HSTS_MAX_AGE: '0' }))).toEqual(
      [],
    )
  })

  it('allowed-hosts: the loopback default and * fail', async () => {
    expect(await findings('allowed-hosts', context())).toEqual([])
    expect(
      await findings('allowed-hosts', context({ ...production, SHIPSHAPE_ALLOWED_HOSTS: undefined })),
    ).toHaveLength(1)
    expect(
      (
        await findings(
          'allowed-hosts',
          context({ ...production, SHIPSHAPE_ALLOWED_HOSTS: 'shop.example.com,*' }),
        )
      ).join(),
    ).toContain('any host')
  })

  it('framing and csp: a policy that lets anyone frame, or allows unsafe sources, fails', async () => {
    expect(await findings('framing', context())).toEqual([])
    expect(await findings('csp', context())).toEqual([])
    const framed = context({ ...production, SHIPSHAPE_CSP_DIRECTIVES: 'frame-ancestors *' })
    expect((await findings('framing', framed)).join()).toContain('frame-ancestors *')
    const partner = context({
      ...production,
      SHIPSHAPE_CSP_DIRECTIVES: 'frame-ancestors https://partner.example',
    })
    expect(await findings('framing', partner)).toEqual([])
    const unsafe = context({
      ...production,
      SHIPSHAPE_CSP_DIRECTIVES: "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    })
    expect(await findings('csp', unsafe)).toEqual([
      "SHIPSHAPE_CSP_DIRECTIVES allows 'unsafe-eval' 'unsafe-inline' in script-src",
    ])
    expect(await findings('csp', context({ ...production, SHIPSHAPE_CSP: 'off' }))).toHaveLength(1)
    expect(await findings('csp', context({ ...production, SHIPSHAPE_CSP: 'report-only' }))).toHaveLength(1)
  })

  it('request-timeout: none, very long, or longer than the graceful timeout', async () => {
    expect(await findings('request-timeout', context())).toEqual([])
    expect(
      (await findings('request-timeout', context({ ...production, SHIPSHAPE_TIMEOUT: '0' }))).join(),
    ).toContain('holds its worker forever')
    expect(
      (await findings('request-timeout', context({ ...production, SHIPSHAPE_WATCHDOG_TIMEOUT: '0' }))).join(),
    ).toContain('SHIPSHAPE_WATCHDOG_TIMEOUT is 0: a worker whose event loop is blocked is never replaced')
    expect(
      await findings(
        'request-timeout',
        context({ ...production, SHIPSHAPE_TIMEOUT: '10m', SHIPSHAPE_GRACEFUL_TIMEOUT: '10m' }),
      ),
    ).toHaveLength(1)
    expect(
      (
        await findings(
          'request-timeout',
          context({ ...production, SHIPSHAPE_TIMEOUT: '60s', SHIPSHAPE_GRACEFUL_TIMEOUT: '10s' }),
        )
      ).join(),
    ).toContain('shorter than SHIPSHAPE_TIMEOUT')
  })

  it('worker-count: more than twice the CPUs fails', async () => {
    expect(await findings('worker-count', context({ ...production, SHIPSHAPE_WORKERS: '8' }))).toEqual([])
    expect(await findings('worker-count', context({ ...production, SHIPSHAPE_WORKERS: '9' }))).toEqual([
      'SHIPSHAPE_WORKERS is 9 on 4 CPUs: the workers fight for CPU and each holds a copy of the app in memory',
    ])
  })

  it('error-reporting: missing, not a DSN, or plain http fails', async () => {
    expect(await findings('error-reporting', context())).toEqual([])
    expect(
      await findings('error-reporting', context({ ...production, SHIPSHAPE_ERROR_DSN: undefined })),
    ).toHaveLength(1)
    expect(
      await findings(
        'error-reporting',
        context({
          ...production,
          SHIPSHAPE_ERROR_DSN: undefined,
          SENTRY_DSN: 'https://k@o1.ingest.example/7',
        }),
      ),
    ).toEqual([])
    expect(
      (
        await findings(
          'error-reporting',
          context({ ...production, SHIPSHAPE_ERROR_DSN: 'https://errors.example.com/' }),
        )
      ).join(),
    ).toContain('not a DSN')
    expect(
      (
        await findings(
          'error-reporting',
          context({ ...production, SHIPSHAPE_ERROR_DSN: 'http://k@errors.example.com/1' }),
        )
      ).join(),
    ).toContain('plain http')
    expect(
      (
        await findings('error-reporting', context({ ...production, SHIPSHAPE_ERROR_DSN: 'not a url at all' }))
      ).join(),
    ).toContain('not a URL')
  })
})

describe('running and reporting', () => {
  it('silenced ids do not run; unknown silenced ids are reported; fail levels decide readiness', async () => {
    const env = { ...production, DEBUG: '*' }
    const warned = await runDeployChecks(context(env), {
      deploy: true,
      silenced: ['hsts-preload', 'no-such-check'],
      failLevel: 'error',
    })
    expect(warned.checks.find((check) => check.id === 'hsts-preload')?.status).toBe('silenced')
    expect(warned.unknownSilenced).toEqual(['no-such-check'])
    expect(warned.counts.warning).toBe(1)
    expect(warned.ready).toBe(true)
    const strict = await runDeployChecks(context(env), { deploy: true, silenced: [], failLevel: 'warning' })
    expect(strict.ready).toBe(false)
    const silenced = await runDeployChecks(context(env), {
      deploy: true,
      silenced: ['debug-logging'],
      failLevel: 'warning',
    })
    expect(silenced.ready).toBe(true)
    const never = await runDeployChecks(context({ ...env, NODE_ENV: 'development' }), {
      deploy: true,
      silenced: [],
      failLevel: 'never',
    })
    expect(never.ready).toBe(true)
    expect(never.counts.error).toBeGreaterThan(0)
  })

  it('without --deploy only the checks that matter everywhere run', async () => {
    const report = await runDeployChecks(context({ NODE_ENV: 'development' }), {
      deploy: false,
      silenced: [],
      failLevel: 'error',
    })
    expect(report.checks.map((check) => check.id)).toEqual(['server-options', 'lockfile'])
  })

  it('a check that throws fails with what it threw, and the others still run', async () => {
    const exploding: DeployCheck = {
      id: 'exploding',
      subject: 'server',
      severity: 'warning',
      title: 'Throws',
      fix: 'Nothing to fix: this check is broken on purpose.',
      run: () => {
        throw new Error('boom')
      },
    }
    const report = await runDeployChecks(context(), {
      deploy: true,
      silenced: [],
      failLevel: 'warning',
      checks: [exploding, deployChecks[0] as DeployCheck],
    })
    expect(report.checks.map((check) => [check.id, check.status, check.findings])).toEqual([
      ['exploding', 'failed', ['the check itself failed: Error: boom']],
      ['server-options', 'passed', []],
    ])
  })

  /** The command in `cwd`, with only `env` (and PATH). */
  const check = (args: string[], env: NodeJS.ProcessEnv, cwd: string) =>
    runCli(args, { cwd, env: { PATH: process.env.PATH, ...env } })

  it('the command: readable report, JSON, exit codes by --fail-level, silencing from the environment', async () => {
    const cwd = project()
    const ready = await check(['check', '--deploy'], production, cwd)
    expect(ready.status).toBe(0)
    expect(ready.stdout).toContain('Ready: nothing fails at --fail-level error.')
    const strict = await check(['check', '--deploy', '--fail-level', 'info'], production, cwd)
    expect(strict.status).toBe(1)
    expect(strict.stdout).toContain('i info    hsts-preload')
    const quiet = await check(
      ['check', '--deploy', '--fail-level', 'info', '--silence', 'hsts-preload'],
      production,
      cwd,
    )
    expect(quiet.status).toBe(0)
    const json = await check(
      ['check', '--deploy', '--json'],
      { ...production, NODE_ENV: 'development', SHIPSHAPE_SILENCED_CHECKS: 'hsts-preload, worker-count' },
      cwd,
    )
    expect(json.status).toBe(1)
    const report = JSON.parse(json.stdout)
    expect(report.ready).toBe(false)
    expect(report.checks.find((check: { id: string }) => check.id === 'debug-mode')).toMatchObject({
      status: 'failed',
      severity: 'error',
      findings: ['NODE_ENV is "development"'],
    })
    expect(report.counts.silenced).toBe(2)
    // Silenced in the config file, as a settled decision the team commits.
    const configured = project({ 'shipshape.yaml': 'checks:\n  silenced: [hsts-preload]\n' })
    const fromFile = await check(['check', '--deploy', '--fail-level', 'info'], production, configured)
    expect(fromFile.stdout).toContain('- silenced hsts-preload')
    expect(fromFile.status).toBe(0)
    const usage = await check(['check', '--deploy', '--fail-level', 'sometimes'], production, cwd)
    expect(usage.status).toBe(2)
    expect(usage.stderr).toContain('--fail-level')
  })
})
