import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { isShipshapeError, ShipshapeError } from '../errors/index.js'
import { type AuditReport, audit, describeAudit, sarif } from '../hosting/index.js'
import { auditOptionsOf } from '../hosting/settings.js'
import { loadSettingsOnly } from '../server/index.js'
import type { Command } from '../types.js'
import { describeFailure } from './_failure.js'

/** Each flag and the setting it overrides (audit.<key>, also SHIPSHAPE_AUDIT_<KEY> and the config file's audit: section). */
const settingFlags = {
  registry: 'registry',
  'allowed-host': 'allowedHosts',
  'fail-level': 'failLevel',
  'min-release-age': 'minReleaseAge',
  ignores: 'ignoreFile',
  'cache-dir': 'cacheDir',
  timeout: 'timeout',
} as const

export const command: Command = {
  help: `Usage: shipshape audit [options]

Audits the project's lockfile (package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml, yarn.lock
of yarn 1 or 2+, or bun.lock, in the working directory):
  - every registry package is pinned by a sha512 hash and, where the lockfile records its URL,
    comes over https from an allowed host, at the tarball URL its name implies;
  - git, plain-http and tarball-URL dependencies are listed;
  - the registry's advisories for every locked version (the endpoint npm audit uses), each with
    its severity, id, the dependency path that pulls it in and the first fixed version;
  - packages that run install scripts, and versions published less than --min-release-age ago.
Accepted advisories go in the ignore file (--ignores), each with a reason and an expiry date;
an expired ignore fails the audit. See docs/audit.md.

Exit codes: 0 passed; 1 an advisory at or above --fail-level, a lockfile problem or an expired
ignore; 2 a usage or settings error; 3 the advisories could not be fetched (nothing else failed):
CI can retry, or run --offline from the cached advisories.

Options:
  --format <text|json|sarif>
      How the report is printed. Default: text.
  --offline
      Read the advisories from the cache (--advisories) and ask the registry nothing.
  --advisories <file>
      The advisory cache --offline reads. Default: advisories.json in --cache-dir.
  --omit dev
      Leave out packages only devDependencies reach (what a production install skips).
  --lockfile <file>
      This lockfile instead of the first found.
  --fail-level <info|low|moderate|high|critical|never>
      Default: low (audit.failLevel, SHIPSHAPE_AUDIT_FAIL_LEVEL).
  --registry <url>
      Default: https://registry.npmjs.org/ (audit.registry, SHIPSHAPE_AUDIT_REGISTRY).
  --allowed-host <host>
      Repeatable; replaces the default registry.npmjs.org, registry.yarnpkg.com (audit.allowedHosts).
  --min-release-age <duration>
      Default: 3d (audit.minReleaseAge).
  --ignores <file>
      Default: audit-ignores.yaml (audit.ignoreFile).
  --cache-dir <dir>
      Default: node_modules/.cache/shipshape-audit (audit.cacheDir).
  --timeout <duration>
      Per registry request. Default: 30s (audit.timeout).
  --config <file>
      The config file whose audit: section is read (default: shipshape.yaml, .yml, .json or .toml here).
`,
  async run(args) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        format: { type: 'string', default: 'text' },
        offline: { type: 'boolean', default: false },
        advisories: { type: 'string' },
        omit: { type: 'string', multiple: true },
        lockfile: { type: 'string' },
        config: { type: 'string' },
        registry: { type: 'string' },
        'allowed-host': { type: 'string', multiple: true },
        'fail-level': { type: 'string' },
        'min-release-age': { type: 'string' },
        ignores: { type: 'string' },
        'cache-dir': { type: 'string' },
        timeout: { type: 'string' },
      },
    })
    const format = values.format as string
    if (!['text', 'json', 'sarif'].includes(format))
      throw new ShipshapeError('SHIPSHAPE_E_USAGE', `--format ${format}: expected text, json or sarif`)
    for (const omitted of values.omit ?? [])
      if (omitted !== 'dev')
        throw new ShipshapeError('SHIPSHAPE_E_USAGE', `--omit ${omitted}: only dev can be omitted`)
    const set: Record<string, string> = {}
    for (const [flag, key] of Object.entries(settingFlags)) {
      const value = values[flag as keyof typeof settingFlags]
      if (value !== undefined) set[`audit.${key}`] = Array.isArray(value) ? value.join(',') : value
    }
    const keys = Object.values(settingFlags).map((key) => `audit.${key}`)
    const cwd = process.cwd()
    let report: AuditReport
    try {
      const settled = loadSettingsOnly(keys, { set, configFile: values.config })
      const settings = Object.fromEntries(keys.map((key) => [key.slice(6), settled[key]]))
      report = await audit({
        ...auditOptionsOf(settings as Parameters<typeof auditOptionsOf>[0], cwd),
        lockfile: values.lockfile,
        advisoryFile: values.advisories === undefined ? undefined : resolve(cwd, values.advisories),
        offline: values.offline,
        omitDev: (values.omit ?? []).includes('dev'),
      })
    } catch (error) {
      // A bad setting, lockfile or ignore file: 2, so CI never reads it as "vulnerable" (1).
      if (!isShipshapeError(error)) throw error
      process.stderr.write(describeFailure('audit', error))
      return 2
    }
    process.stdout.write(render(report, format))
    return report.exitCode
  },
}

function render(report: AuditReport, format: string): string {
  if (format === 'text') return describeAudit(report)
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  return `${JSON.stringify(sarif(report, version), null, 2)}\n`
}
