/**
 * Every deploy check: a passing setup, a failing one, and hostile or edge inputs. Settings come
 * from real environments resolved by the serve options table, files from real temp directories
 * and git repositories, live sites from real local servers.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../server/_test/harness.js'
import { loadServeOptions } from '../server/index.js'
import { type Certificate, makeCertificate, page, type Site, siteHost, startSite } from './_test/sites.js'
import {
  type CheckContext,
  type DeployCheck,
  deployChecks,
  isLocalHost,
  probeStatus,
  runDeployChecks,
  Skip,
  scanSite,
} from './checks.js'

const directories: string[] = []
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

function project(files: Record<string, string> = {}): string {
  const directory = mkdtempSync(join(tmpdir(), 'shipshape-check-'))
  directories.push(directory)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(directory, name, '..'), { recursive: true })
    writeFileSync(join(directory, name), text)
  }
  return directory
}

/** The production environment a well-configured deploy has. */
const production = {
  NODE_ENV: 'production',
  SHIPSHAPE_ALLOWED_HOSTS: 'shop.example.com',
  SHIPSHAPE_ERROR_DSN: 'https://public@errors.example.com/42',
}

function context(
  env: NodeJS.ProcessEnv = production,
  cwd = project(),
  extra: Partial<CheckContext> = {},
): CheckContext {
  let serveProblem: string | undefined
  let serve: CheckContext['serve']
  try {
    serve = loadServeOptions('app.js', {}, { ...env }, { cwd })
  } catch (error) {
    serveProblem = (error as Error).message
  }
  return { cwd, env, serve, serveProblem, site: undefined, cpus: 4, ...extra }
}

function byId(id: string): DeployCheck {
  const check = deployChecks.find((item) => item.id === id)
  if (check === undefined) throw new Error(`no check ${id}`)
  return check
}

async function findings(id: string, checkContext: CheckContext): Promise<string[]> {
  const result = await byId(id).run(checkContext)
  if (result instanceof Skip) throw new Error(`${id} skipped: ${result.reason}`)
  return result
}

async function skipped(id: string, checkContext: CheckContext): Promise<string> {
  const result = await byId(id).run(checkContext)
  if (!(result instanceof Skip)) throw new Error(`${id} ran: ${JSON.stringify(result)}`)
  return result.reason
}

/** A random-looking key built at run time, so this file holds no secret-shaped literal. */
const strongKey = Array.from(
  { length: 48 },
  (_, i) => 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[(i * 37) % 57],
).join('')

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

describe('connection URLs', () => {
  const withUrl = (name: string, value: string) => context({ ...production, [name]: value })

  it('isLocalHost: loopback, localhost names and sockets are local; everything else is not', () => {
    for (const host of [
      'localhost',
      'db.localhost',
      '127.0.0.1',
      '127.9.9.9',
      '::1',
      '[::1]',
      '',
      '/var/run/postgresql',
    ])
      expect(isLocalHost(host)).toBe(true)
    for (const host of [
      '10.0.0.5',
      'db.internal',
      '192.168.1.2',
      'localhost.evil.example',
      '128.0.0.1',
      '::ffff:127.0.0.1x',
    ])
      expect(isLocalHost(host)).toBe(false)
  })

  it('database-password and database-tls', async () => {
    const remote = 'postgres://app@db.internal:5432/shop'
    expect(await findings('database-password', withUrl('DATABASE_URL', remote))).toEqual([
      'DATABASE_URL reaches db.internal without a password',
    ])
    expect(await findings('database-tls', withUrl('DATABASE_URL', remote))).toEqual([
      'DATABASE_URL reaches db.internal without sslmode',
    ])
    const good = `postgres://app:${strongKey}@db.internal:5432/shop?sslmode=verify-full`
    expect(await findings('database-password', withUrl('DATABASE_URL', good))).toEqual([])
    expect(await findings('database-tls', withUrl('DATABASE_URL', good))).toEqual([])
    expect(
      (
        await findings('database-tls', withUrl('DATABASE_URL', `${good.split('?')[0]}?sslmode=prefer`))
      ).join(),
    ).toContain('sslmode=prefer')
    // Local databases need neither; a socket given in the query is local too.
    expect(
      await findings('database-password', withUrl('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/x')),
    ).toEqual([])
    expect(
      await findings('database-tls', withUrl('DATABASE_URL', 'postgres://postgres@localhost/x')),
    ).toEqual([])
    expect(
      await findings('database-password', withUrl('DATABASE_URL', 'postgres:///x?host=/var/run/postgresql')),
    ).toEqual([])
  })

  it('an unparseable DATABASE_URL fails without echoing it', async () => {
    const secretish = `postgres://app:${strongKey}@[db/x`
    const result = await findings('database-password', withUrl('DATABASE_URL', secretish))
    expect(result.join()).toContain('not a URL')
    expect(result.join()).not.toContain(strongKey)
  })

  it('redis-auth and redis-tls', async () => {
    expect(await findings('redis-auth', withUrl('REDIS_URL', 'redis://cache.internal:6379'))).toHaveLength(1)
    expect(await findings('redis-tls', withUrl('REDIS_URL', 'redis://cache.internal:6379'))).toHaveLength(1)
    expect(
      await findings('redis-auth', withUrl('REDIS_URL', `rediss://:${strongKey}@cache.internal:6380`)),
    ).toEqual([])
    expect(
      await findings('redis-tls', withUrl('REDIS_URL', `rediss://:${strongKey}@cache.internal:6380`)),
    ).toEqual([])
    // A user name alone is not a password.
    expect(
      await findings('redis-auth', withUrl('REDIS_URL', 'rediss://default@cache.internal:6380')),
    ).toHaveLength(1)
    expect(await findings('redis-auth', withUrl('REDIS_URL', 'redis://127.0.0.1:6379'))).toEqual([])
  })
})

describe('files', () => {
  const lockfile = (packages: Record<string, unknown>) =>
    JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' }, ...packages } })
  const integrity =
    'sha512-Hy6IImaWALzJOgCIss4gIFi4G0M9lqk95pFKCUVxQPZw+biZ1Pv6f28JpYgahpJB+BufA0HYsIU/aP/WIx3KRg=='
  const env = { ...production, npm_config_registry: 'https://registry.npmjs.org/' }

  it('lockfile: present, every entry with integrity; a missing resolved is fine', async () => {
    const cwd = project({
      'package.json': '{}',
      'package-lock.json': lockfile({
        'node_modules/a': { version: '1.0.0', integrity },
        'node_modules/@scope/b': {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/@scope/b/-/b-1.0.0.tgz',
          integrity,
        },
        'node_modules/linked': { resolved: 'packages/linked', link: true },
        packages: { name: 'a-workspace-folder' },
      }),
    })
    expect(await findings('lockfile', context(env, cwd))).toEqual([])
  })

  it('lockfile: missing, unparseable, no integrity, weak hash, plain http, git, another registry', async () => {
    expect((await findings('lockfile', context(env, project({ 'package.json': '{}' })))).join()).toContain(
      'no package-lock.json',
    )
    expect(
      (await findings('lockfile', context(env, project({ 'package.json': '{}', 'yarn.lock': '' })))).join(),
    ).toContain('only yarn.lock')
    expect(
      (
        await findings(
          'lockfile',
          context(env, project({ 'package.json': '{}', 'package-lock.json': '{"lockfileVersion": 3, ' })),
        )
      ).join(),
    ).toContain('not valid JSON')
    const cwd = project({
      'package.json': '{}',
      'package-lock.json': lockfile({
        'node_modules/no-hash': { version: '1.0.0' },
        'node_modules/old-hash': { version: '1.0.0', integrity: 'sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=' },
        'node_modules/plain': { resolved: 'http://registry.npmjs.org/plain/-/plain-1.0.0.tgz', integrity },
        'node_modules/from-git': { resolved: 'git+ssh://git@github.com/x/y.git#abc' },
        'node_modules/elsewhere': { resolved: 'https://evil.example/elsewhere-1.0.0.tgz', integrity },
        'node_modules/weird': null,
      }),
    })
    expect(await findings('lockfile', context(env, cwd))).toEqual([
      'no-hash: no integrity hash, so a tampered download would install unnoticed',
      'old-hash: integrity is sha1 only, which can be forged; reinstall to get sha512',
      'plain: resolved from http://registry.npmjs.org over plain http, not over https from a registry',
      'from-git: resolved from a git repository, not over https from a registry',
      'elsewhere: resolved from https://evil.example, not the configured registry https://registry.npmjs.org/',
      'weird: not a lockfile entry',
    ])
  })

  it('lockfile: scoped registries from the project .npmrc; lockfile v1 is walked too', async () => {
    const cwd = project({
      'package.json': '{}',
      '.npmrc': 'registry=https://npm.corp.example/\n@corp:registry=https://corp.example/npm\n',
      'package-lock.json': JSON.stringify({
        lockfileVersion: 1,
        dependencies: {
          '@corp/ui': { resolved: 'https://corp.example/npm/@corp/ui/-/ui-1.0.0.tgz', integrity },
          left: {
            resolved: 'https://npm.corp.example/left/-/left-1.0.0.tgz',
            integrity,
            dependencies: {
              nested: { resolved: 'https://registry.npmjs.org/nested/-/nested-1.0.0.tgz', integrity },
            },
          },
        },
      }),
    })
    expect(await findings('lockfile', context({ ...production }, cwd))).toEqual([
      'nested: resolved from https://registry.npmjs.org, not the configured registry https://npm.corp.example/',
    ])
  })

  it('lockfile: a project without package.json has nothing to check', async () => {
    expect(await findings('lockfile', context(env, project()))).toEqual([])
  })

  function gitProject(files: Record<string, string>): string {
    const cwd = project(files)
    execFileSync('git', ['init', '-q'], { cwd })
    execFileSync('git', ['add', '-A'], { cwd })
    return cwd
  }

  it('tracked-secrets: keys by shape, URLs with passwords, dotenv files and key stores', async () => {
    const awsKey = `AKIA${'Q7'.repeat(8)}`
    const cwd = gitProject({
      'config/settings.js': `export const key = '${awsKey}'\n`,
      'deploy/key.pem': `-----BEGIN ${'PRIVATE'} KEY-----\nMIIE\n`,
      '.env': 'SECRET_KEY=abc\n',
      '.env.example': 'SECRET_KEY=\n',
      'certs/site.p12': 'binary-ish',
      'src/db.ts': `const url = 'postgres://app:${strongKey}@db.internal/shop'\n`,
      'docs/setup.md':
        'DATABASE_URL=postgres://app:password@db.internal/shop and postgres://u:p4ss@db.example.com/x\n',
      'test/fixture.ts': `const token = '${awsKey}' // shipshape: allow-secret\n`,
    })
    writeFileSync(join(cwd, 'untracked.js'), `const key = '${awsKey}'\n`)
    const result = await findings('tracked-secrets', context(production, cwd))
    expect(result).toEqual([
      '.env: a dotenv file is tracked by git; its values are in every clone and in history',
      'certs/site.p12: a key store is tracked by git',
      'config/settings.js:1: an AWS access key id (AKIA… 20 characters)',
      'deploy/key.pem:1: a private key (-----BEGIN PRIVATE KEY-----)',
      `src/db.ts:1: a URL with a password for db.internal (${strongKey.slice(0, 4)}… ${strongKey.length} characters)`,
    ])
    expect(result.join()).not.toContain(awsKey)
  })

  it('tracked-secrets: binary and huge files are not read; outside git the check is skipped', async () => {
    const cwd = gitProject({ 'image.bin': `\0\0${`AKIA${'Q7'.repeat(8)}`}` })
    expect(await findings('tracked-secrets', context(production, cwd))).toEqual([])
    expect(await skipped('tracked-secrets', context(production, project()))).toBe('not a git work tree')
  })

  it('static-manifest: no static root is skipped; a root without a valid manifest fails', async () => {
    expect(await skipped('static-manifest', context())).toContain('no static root')
    const missing = project({ 'staticfiles/app.css': 'body{}' })
    const env = { ...production, SHIPSHAPE_STATIC_ROOT: join(missing, 'staticfiles') }
    expect((await findings('static-manifest', context(env, missing))).join()).toContain('is missing')
    const broken = project({ 'staticfiles/.shipshape-manifest.json': '{"version": 2}' })
    expect(
      (
        await findings(
          'static-manifest',
          context({ ...production, SHIPSHAPE_STATIC_ROOT: join(broken, 'staticfiles') }, broken),
        )
      ).join(),
    ).toContain('not a manifest')
    const good = project({
      'staticfiles/.shipshape-manifest.json': '{"version": 1, "paths": {}, "hashed": {}}',
    })
    expect(
      await findings(
        'static-manifest',
        context({ ...production, SHIPSHAPE_STATIC_ROOT: join(good, 'staticfiles') }, good),
      ),
    ).toEqual([])
  })

  it('private-storage: inside the static root, or readable by every user, fails', async () => {
    const cwd = project({ 'media/private/contract.pdf': '%PDF' })
    chmodSync(join(cwd, 'media/private'), 0o750)
    expect(await findings('private-storage', context(production, cwd))).toEqual([])
    chmodSync(join(cwd, 'media/private'), 0o755)
    expect(await findings('private-storage', context(production, cwd))).toEqual([
      'media/private is accessible to every user of the machine (mode 755)',
    ])
    const inside = project({ 'staticfiles/private/x': '', 'staticfiles/.shipshape-manifest.json': '{}' })
    chmodSync(join(inside, 'staticfiles/private'), 0o700)
    const env = { ...production, SHIPSHAPE_STATIC_ROOT: 'staticfiles', SHIPSHAPE_MEDIA_ROOT: 'staticfiles' }
    expect(await findings('private-storage', context(env, inside))).toEqual([
      'private storage private (staticfiles/private) is inside the static root, which is served to anyone',
    ])
    const dotted = {
      ...production,
      SHIPSHAPE_STATIC_ROOT: 'staticfiles',
      SHIPSHAPE_MEDIA_ROOT: 'media/../staticfiles/.',
    }
    expect((await findings('private-storage', context(dotted, inside))).join()).toContain(
      'inside the static root',
    )
  })
})

describe('buckets and live sites', () => {
  let certificate: Certificate
  let https: Site
  let http: Site
  const resolve = { [siteHost]: '127.0.0.1' }

  beforeAll(async () => {
    certificate = makeCertificate()
    https = await startSite(certificate)
    http = await startSite()
  })
  afterAll(async () => {
    await https?.close()
    await http?.close()
  })

  it('private-storage: a bucket that lists its private prefix to anyone fails', async () => {
    const requests: string[] = []
    http.respond((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? 'anonymous'}`)
      res.writeHead(req.url?.startsWith('/open-bucket') ? 200 : 403, { 'content-type': 'application/xml' })
      res.end('<ListBucketResult/>')
    })
    const bucket = (name: string) => ({
      ...production,
      SHIPSHAPE_MEDIA_DRIVER: 's3',
      SHIPSHAPE_MEDIA_S3_ENDPOINT: `http://127.0.0.1:${http.port}`,
      SHIPSHAPE_MEDIA_S3_BUCKET: name,
    })
    expect(await findings('private-storage', context(bucket('closed-bucket')))).toEqual([])
    expect((await findings('private-storage', context(bucket('open-bucket')))).join()).toContain(
      'anyone can list private/ in bucket open-bucket',
    )
    expect(requests[0]).toBe('GET /closed-bucket?list-type=2&prefix=private%2F anonymous')
    const unreachable = { ...bucket('x'), SHIPSHAPE_MEDIA_S3_ENDPOINT: 'http://127.0.0.1:1' }
    expect((await findings('private-storage', context(unreachable))).join()).toContain('could not reach')
  })

  async function live(handler: Parameters<Site['respond']>[0]): Promise<CheckContext> {
    https.respond(handler)
    http.respond((req, res) => {
      res.writeHead(301, { location: `https://${siteHost}:${https.port}${req.url}` }).end()
    })
    const base = `https://${siteHost}:${https.port}/`
    const options = { ca: certificate.cert, httpPort: http.port, resolve }
    return context(production, project(), {
      site: { scan: await scanSite(base, options), statusOf: (path) => probeStatus(base, path, options) },
    })
  }

  const strong = {
    'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
    'strict-transport-security': 'max-age=31536000',
    'x-content-type-options': 'nosniff',
    'set-cookie': '__Host-session=1; Path=/; Secure; HttpOnly; SameSite=Lax',
  }

  it('without --url the live checks are skipped, saying why', async () => {
    for (const id of ['secure-cookies', 'content-type-nosniff', 'admin-protected'])
      expect(await skipped(id, context())).toContain('needs --url')
  })

  it('a live site with strong headers passes the live checks', async () => {
    const site = await live(page(strong))
    for (const id of ['secure-cookies', 'content-type-nosniff', 'framing', 'csp', 'hsts', 'https-redirect'])
      expect(await findings(id, site)).toEqual([])
  })

  it('a live site that lacks them fails each, saying what the Observatory saw', async () => {
    const site = await live(page({ 'set-cookie': 'sessionid=1; Path=/' }))
    expect(await findings('secure-cookies', site)).toEqual([
      'the live site: Session cookie without Secure, or set over HTTP (cookies-session-without-secure-flag)',
    ])
    expect((await findings('content-type-nosniff', site)).join()).toContain(
      'x-content-type-options-not-implemented',
    )
    expect((await findings('framing', site)).join()).toContain('x-frame-options-not-implemented')
    expect((await findings('csp', site)).join()).toContain('csp-not-implemented')
    expect((await findings('hsts', site)).join()).toContain('hsts-not-implemented')
  })

  it('admin-protected: an admin path answering 200 to a stranger fails; 401, 403 and 404 pass', async () => {
    const site = await live((req, res) => {
      if (req.url === '/admin/') return page(strong, 'dashboard')(req, res)
      if (req.url === '/admin') return res.writeHead(401).end()
      if (req.url === '/staff') return res.writeHead(403).end()
      return req.url === '/' ? page(strong)(req, res) : res.writeHead(404).end()
    })
    expect(await findings('admin-protected', site)).toEqual([
      '/admin/ answers 200 to a visitor with no credentials',
    ])
    site.env = { ...production, SHIPSHAPE_ADMIN_PATHS: '/admin,/staff, not-a-path' }
    expect(await findings('admin-protected', site)).toEqual([])
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
