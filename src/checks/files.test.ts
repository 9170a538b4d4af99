/**
 * The deploy checks on connection URLs and on the project's files (lockfile, secrets in tracked
 * files, static manifest, private media) in real temp directories and git repositories.
 */
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
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
import { isLocalHost } from './index.js'

afterEach(removeProjects)

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

  it('database-password: DATABASE_URL_FILE is read, as serve reads a secret file', async () => {
    const cwd = project({ 'secrets/database_url': 'postgres://app@db.internal:5432/shop\n' })
    expect(
      await findings(
        'database-password',
        context({ ...production, DATABASE_URL_FILE: 'secrets/database_url' }, cwd),
      ),
    ).toEqual(['DATABASE_URL reaches db.internal without a password'])
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

  it('tracked-secrets: a secret key assigned a literal in tracked code or config', async () => {
    const cwd = gitProject({
      'src/settings.ts': `export const SECRET_KEY = '${strongKey}'\n`,
      'config/app.yaml': `session_secret: ${strongKey}\n`,
      'config/keys.json': `{ "SHIPSHAPE_SECRET_KEY": "${strongKey}" }\n`,
      // Reads of the environment and placeholders are not keys.
      'settings.py': 'SECRET_KEY = os.environ["SECRET_KEY"]\n',
      'src/env.ts': 'const SECRET_KEY = process.env.SECRET_KEY ?? readKey()\n',
      'compose.yaml': `SECRET_KEY: ${'$'}{SECRET_KEY}\n`,
      'src/dev.ts': "const SESSION_SECRET = 'change-me-before-you-deploy'\n",
    })
    const shown = `${strongKey.slice(0, 4)}… ${strongKey.length} characters`
    const result = await findings('tracked-secrets', context(production, cwd))
    expect(result).toEqual([
      `config/app.yaml:1: a session_secret value (${shown})`,
      `config/keys.json:1: a SHIPSHAPE_SECRET_KEY value (${shown})`,
      `src/settings.ts:1: a SECRET_KEY value (${shown})`,
    ])
    expect(result.join()).not.toContain(strongKey)
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
