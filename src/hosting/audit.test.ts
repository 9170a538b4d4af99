/**
 * `shipshape audit` on real lockfiles of every format (written by npm 11, pnpm 9 and 8, yarn 1.22,
 * yarn 4 and bun 1 for one project: express 4.17.1, minimist 1.2.5, core-js 3.30.0, and debug
 * 2.6.8 as a dev dependency), against a local registry serving recorded answers.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import { tempDir } from '../_test/temp.js'
import { readProjectLockfile } from './_lockfiles.js'
import { type FakeRegistry, packuments, startRegistry } from './_test/registry.js'
import { type AuditOptions, audit } from './index.js'

const fixtures = new URL('./_test/lockfiles/', import.meta.url).pathname
const formats = ['npm', 'pnpm', 'yarn1', 'berry', 'bun', 'pnpm8'] as const
const scratch = tempDir()
let registry: FakeRegistry
beforeAll(async () => {
  registry = await startRegistry()
})
afterAll(async () => {
  await registry.close()
  scratch.remove()
})
afterEach(() => {
  registry.requests.length = 0
})

let runs = 0
function options(format: string, extra: Partial<AuditOptions> = {}): AuditOptions {
  runs++
  return {
    cwd: join(fixtures, format),
    registry: registry.url,
    allowedHosts: ['registry.npmjs.org', 'registry.yarnpkg.com'],
    cacheDir: join(scratch.dir, `cache-${runs}`),
    offline: false,
    omitDev: false,
    minReleaseAgeMs: 3 * 86_400_000,
    failLevel: 'low',
    ignoreFile: join(scratch.dir, 'none.yaml'),
    timeoutMs: 10_000,
    ...extra,
  }
}

const summary = (report: Awaited<ReturnType<typeof audit>>) =>
  report.advisories.findings.map(
    (f) =>
      `${f.severity} ${f.ghsa} ${f.name}@${f.version} via ${f.path.join('>')} fix ${f.fixed}${f.dev ? ' dev' : ''}`,
  )

const expected = [
  'critical GHSA-xvch-5gv4-984h minimist@1.2.5 via minimist fix 1.2.6',
  'high GHSA-9wv6-86v2-598j path-to-regexp@0.1.7 via express>path-to-regexp fix 0.1.10',
  'high GHSA-hrpp-h998-j3pp qs@6.7.0 via express>qs fix 6.7.3',
  'moderate GHSA-rv95-896h-c2vc express@4.17.1 via express fix 4.19.2',
  'low GHSA-pxg6-pf52-xh8x cookie@0.4.0 via express>cookie fix 0.7.0',
  'low GHSA-gxpj-cx7g-858c debug@2.6.8 via debug fix 2.6.9 dev',
]

describe('the lockfile readers', () => {
  it('read the same packages, dev split and paths from every format', () => {
    const sets = formats.map((format) => {
      const lock = readProjectLockfile(join(fixtures, format))
      const remote = lock.packages.filter((pkg) => !pkg.local)
      expect(remote.filter((pkg) => pkg.dev).map((pkg) => `${pkg.name}@${pkg.version}`)).toEqual([
        'debug@2.6.8',
      ])
      expect(remote.find((pkg) => pkg.name === 'qs')?.path).toEqual(['express', 'qs'])
      expect(remote.find((pkg) => pkg.name === 'debug' && pkg.version === '2.6.9')?.dev).toBe(false)
      expect(remote.every((pkg) => pkg.integrity)).toBe(true)
      return [...new Set(remote.map((pkg) => `${pkg.name}@${pkg.version}`))].sort()
    })
    // npm and bun dedupe http-errors@~1.7.2 to the 1.7.2 body-parser pins; pnpm and yarn take 1.7.3 (and its inherits).
    const [npm, pnpm, yarn1, berry, bun, pnpm8] = sets
    expect(npm).toHaveLength(53)
    expect(bun).toEqual(npm)
    for (const set of [yarn1, berry, pnpm8]) expect(set).toEqual(pnpm)
    expect(pnpm?.filter((id) => !npm?.includes(id))).toEqual(['http-errors@1.7.3', 'inherits@2.0.4'])
    expect(readProjectLockfile(join(fixtures, 'berry')).format).toBe('yarn-berry')
  })
})

describe('shipshape audit', () => {
  it.each(formats)(
    '%s: the advisories with severity, path and fixed version, install scripts; exit 1',
    async (format) => {
      const report = await audit(options(format))
      expect(summary(report)).toEqual(expected)
      expect(report.advisories.source).toBe('registry')
      expect(report.lockProblems).toEqual([])
      expect(report.installScripts.map((pkg) => `${pkg.name}@${pkg.version}`)).toEqual(['core-js@3.30.0'])
      expect(report.exitCode).toBe(1)
      // One bulk request naming every locked version, debug with both of its versions.
      expect(registry.bulkBodies.at(-1)?.debug).toEqual(['2.6.8', '2.6.9'])
      expect(Object.keys(registry.bulkBodies.at(-1) ?? {})).toHaveLength(51)
    },
  )

  it('leaves out what only dev dependencies reach with --omit=dev, and passes at a fail level above what is left', async () => {
    const report = await audit(options('pnpm', { omitDev: true, failLevel: 'critical' }))
    expect(summary(report)).toEqual(expected.slice(0, 5))
    expect(report.exitCode).toBe(1) // minimist is critical
    const high = await audit(options('pnpm', { omitDev: true, failLevel: 'never' }))
    expect(high.exitCode).toBe(0)
  })

  it('audits offline from the advisories the last run cached, asking the registry nothing', async () => {
    const online = options('yarn1')
    await audit(online)
    registry.requests.length = 0
    const offline = await audit({ ...online, offline: true, registry: 'http://127.0.0.1:9/' })
    expect(registry.requests).toEqual([])
    expect(offline.advisories.source).toBe('cache')
    expect(summary(offline)).toEqual(expected)
    expect(offline.advisories.unchecked).toEqual([])
    // Another lockfile against that cache: what it did not ask about is named.
    const other = await audit({ ...online, offline: true, cwd: join(fixtures, 'npm') })
    expect(other.advisories.unchecked).toEqual([])
  })

  it('exits 3, not 0 or 1, when the advisories cannot be had: no cache offline, or the registry refuses (405, as a read-only mirror does)', async () => {
    const none = await audit(options('npm', { offline: true }))
    expect(none.advisories.source).toBe('unavailable')
    expect(none.advisories.reason).toMatch(/no cached advisories/)
    expect(none.exitCode).toBe(3)
    const refusing = await startRegistry({ status: 405 })
    try {
      const refused = await audit(options('npm', { registry: refusing.url }))
      expect(refused.advisories.reason).toMatch(/HTTP 405/)
      expect(refused.exitCode).toBe(3)
    } finally {
      await refusing.close()
    }
  })

  it('lists versions younger than the minimum release age, from the packument times', async () => {
    const published = (packuments.qs as { time: Record<string, string> }).time['6.7.0'] as string
    const now = new Date(Date.parse(published) + 86_400_000)
    const report = await audit(options('npm', { now }))
    expect(report.young.map((pkg) => `${pkg.name}@${pkg.version} ${pkg.ageHours}`)).toContain('qs@6.7.0 24')
    expect(report.young.every((pkg) => now.getTime() - Date.parse(pkg.published) < 3 * 86_400_000)).toBe(true)
  })
})

describe('the lockfile sources', () => {
  it('flags missing and weak hashes, other hosts, http, and a URL that is not the package named; lists git and tarball dependencies', async () => {
    const project = tempDir()
    cpSync(join(fixtures, 'npm'), project.dir, { recursive: true })
    const path = join(project.dir, 'package-lock.json')
    const lock = JSON.parse(readFileSync(path, 'utf8'))
    const packages = lock.packages
    delete packages['node_modules/vary'].integrity
    packages['node_modules/etag'].integrity = 'sha1-Qa4u62XvpiJorr/qg6x9eSmbCIc='
    packages['node_modules/fresh'].resolved = 'https://registry.evil.example/fresh/-/fresh-0.5.2.tgz'
    packages['node_modules/ms'].resolved = 'http://registry.npmjs.org/ms/-/ms-2.0.0.tgz'
    packages['node_modules/minimist'].resolved =
      'https://registry.npmjs.org/minimist-evil/-/minimist-evil-1.2.5.tgz'
    packages['node_modules/depd'].resolved =
      'git+ssh://git@github.com/dougwilson/nodejs-depd.git#5d6a29f0c7f7a2b5b1aa6cb3a8b9b2c3f6a0e3f1'
    packages['node_modules/methods'].resolved = 'https://example.com/downloads/methods-1.1.2.tgz'
    writeFileSync(path, JSON.stringify(lock))
    const report = await audit({ ...options('npm'), cwd: project.dir })
    project.remove()
    expect(report.lockProblems.map((p) => `${p.name}: ${p.problem.split(/: | \(/)[0]}`).sort()).toEqual([
      'etag: integrity is sha1 only, which can be forged; reinstall to record sha512',
      'fresh: resolved from registry.evil.example, not an allowed registry host',
      "minimist: resolved to /minimist-evil/-/minimist-evil-1.2.5.tgz, which is not minimist@1.2.5's tarball",
      'ms: downloaded over plain http',
      'vary: no integrity hash',
    ])
    expect(report.otherSources.map((s) => `${s.kind} ${s.name}`).sort()).toEqual([
      'git depd',
      'http ms',
      'tarball methods',
    ])
    expect(report.exitCode).toBe(1)
  })
})

describe('the ignore file', () => {
  const write = (text: string) => {
    const file = join(scratch.dir, `ignores-${++runs}.yaml`)
    writeFileSync(file, text)
    return file
  }

  it('accepts an advisory until its expiry, on one path if given; an expired ignore fails; an unused one is named', async () => {
    const ignoreFile = write(`
- id: GHSA-xvch-5gv4-984h
  reason: only our CLI parses arguments with it
  expires: 2999-01-01
- id: "1090131"
  path: express > body-parser > qs
  reason: on another path than the one locked, so it covers nothing
  expires: 2999-01-01
- id: GHSA-rv95-896h-c2vc
  reason: we never redirect to user input
  expires: 2020-01-01
`)
    const report = await audit(options('npm', { ignoreFile, failLevel: 'critical' }))
    const ignored = report.advisories.findings.filter((f) => f.ignored).map((f) => f.name)
    expect(ignored).toEqual(['minimist', 'express'])
    expect(report.ignores.expired.map((i) => i.id)).toEqual(['GHSA-rv95-896h-c2vc'])
    expect(report.ignores.unused.map((i) => i.id)).toEqual(['1090131'])
    expect(report.exitCode).toBe(1) // the expired one; minimist, the only critical, is ignored
    const renewed = write(readFileSync(ignoreFile, 'utf8').replace('2020-01-01', '2999-01-01'))
    expect((await audit(options('npm', { ignoreFile: renewed, failLevel: 'critical' }))).exitCode).toBe(0)
  })

  it('refuses an entry without a reason or a date, naming it', async () => {
    const ignoreFile = write('- id: GHSA-xvch-5gv4-984h\n  expires: next year\n')
    await expect(audit(options('npm', { ignoreFile }))).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_AUDIT_IGNORES',
      message: expect.stringMatching(/entry 0\.reason.*entry 0\.expires: a date as YYYY-MM-DD/),
    })
  })
})

describe('the command', () => {
  const cwd = join(fixtures, 'bun')
  const flags = () => ['--registry', registry.url, '--cache-dir', join(scratch.dir, `cli-${++runs}`)]

  it('prints text with each advisory, and exits 1', async () => {
    const run = await runCli(['audit', ...flags()], { cwd })
    expect(run.status).toBe(1)
    expect(run.stdout).toMatch(/✗ critical minimist@1\.2\.5: Prototype Pollution in minimist/)
    expect(run.stdout).toMatch(/via express > qs/)
    expect(run.stdout).toMatch(/Run install scripts[^\n]*\n {2}core-js@3\.30\.0/)
  })

  it('prints SARIF 2.1.0 and JSON; passes with --fail-level never; refuses a bad --format with exit 2', async () => {
    const sarif = await runCli(['audit', '--format', 'sarif', '--omit', 'dev', ...flags()], { cwd })
    const log = JSON.parse(sarif.stdout)
    expect(log.version).toBe('2.1.0')
    expect(
      log.runs[0].results.map((r: { ruleId: string; level: string }) => `${r.ruleId} ${r.level}`),
    ).toEqual([
      'GHSA-xvch-5gv4-984h error',
      'GHSA-9wv6-86v2-598j error',
      'GHSA-hrpp-h998-j3pp error',
      'GHSA-rv95-896h-c2vc warning',
      'GHSA-pxg6-pf52-xh8x note',
    ])
    expect(log.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri).toBe('bun.lock')
    const json = await runCli(['audit', '--format', 'json', '--fail-level', 'never', ...flags()], { cwd })
    expect(json.status).toBe(0)
    expect(JSON.parse(json.stdout).advisories.findings).toHaveLength(6)
    const bad = await runCli(['audit', '--format', 'xml'], { cwd })
    expect(bad.status).toBe(2)
    expect(bad.stderr).toMatch(/SHIPSHAPE_E_USAGE/)
    const badLevel = await runCli(['audit', '--fail-level', 'severe', ...flags()], { cwd })
    expect(badLevel.status).toBe(2)
  })
})

describe('check --deploy', () => {
  const outcome = async (env: Record<string, string>) => {
    const run = await runCli(['check', '--deploy', '--json'], {
      cwd: join(fixtures, 'pnpm'),
      env: { ...process.env, ...env },
    })
    const report = JSON.parse(run.stdout)
    return report.checks.find((check: { id: string }) => check.id === 'dependency-audit')
  }

  it('fails dependency-audit on production advisories at the fail level, from the registry, then from the cache when the registry is down', async () => {
    const cacheDir = join(scratch.dir, `check-${++runs}`)
    const online = await outcome({
      SHIPSHAPE_AUDIT_REGISTRY: registry.url,
      SHIPSHAPE_AUDIT_CACHE_DIR: cacheDir,
      SHIPSHAPE_AUDIT_FAIL_LEVEL: 'high',
    })
    expect(online.status).toBe('failed')
    expect(online.findings.map((finding: string) => finding.split(' (')[0])).toEqual([
      'minimist@1.2.5',
      'path-to-regexp@0.1.7',
      'qs@6.7.0',
    ])
    const { closedPort } = await import('../_test/sites.js')
    const down = {
      SHIPSHAPE_AUDIT_REGISTRY: `http://127.0.0.1:${await closedPort()}/`,
      SHIPSHAPE_AUDIT_TIMEOUT: '2s',
    }
    const cached = await outcome({
      ...down,
      SHIPSHAPE_AUDIT_CACHE_DIR: cacheDir,
      SHIPSHAPE_AUDIT_FAIL_LEVEL: 'high',
    })
    expect(cached.findings).toEqual(online.findings)
    const none = await outcome({ ...down, SHIPSHAPE_AUDIT_CACHE_DIR: join(scratch.dir, 'empty') })
    expect(none.status).toBe('skipped')
    expect(none.reason).toMatch(/advisories not checked/)
  })
})
