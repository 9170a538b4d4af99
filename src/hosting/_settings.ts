/**
 * The audit settings group: where `shipshape audit` asks about the locked packages, what it
 * trusts, and what fails it. Every setting is also a flag of `shipshape audit` (not of serve).
 */
import { resolve } from 'node:path'
import { z } from 'zod'
import {
  configError,
  defineConfig,
  duration,
  group,
  type Infer,
  resolveConfig,
  setting,
} from '../config/index.js'
import { shipshapeSources } from '../types.js'
import { severityOrder } from './_registry.js'

export const auditSettings = group(
  {
    registry: setting(z.url(), {
      default: 'https://registry.npmjs.org/',
      flag: false,
      description:
        'The registry asked for advisories (its bulk advisory endpoint, as npm audit uses) and for packuments (publication times, install scripts). A mirror that does not serve the advisory endpoint makes the audit exit 3.',
    }),
    allowedHosts: setting(z.array(z.string().min(1)), {
      default: ['registry.npmjs.org', 'registry.yarnpkg.com'],
      flag: false,
      description:
        'Hosts a locked package may be downloaded from (its resolved URL); add your private registry or mirror.',
    }),
    failLevel: setting(z.enum([...severityOrder, 'never']), {
      default: 'low',
      flag: false,
      description:
        'The lowest advisory severity that fails the audit (as npm audit --audit-level; low fails on any but info). Lockfile problems and expired ignores fail at any level but never.',
    }),
    minReleaseAge: setting(duration({ bareUnit: 's' }), {
      default: '3d',
      flag: false,
      description:
        'Versions published more recently than this are listed: most malicious releases are found and pulled within days.',
    }),
    ignoreFile: setting(z.string().min(1), {
      default: 'audit-ignores.yaml',
      flag: false,
      description:
        'The committed file of accepted advisories (id, optional path, reason, expiry date), relative to the project.',
    }),
    cacheDir: setting(z.string().min(1), {
      default: 'node_modules/.cache/shipshape-audit',
      flag: false,
      description:
        'Where the advisories (advisories.json, read by --offline) and the packuments are cached, relative to the project.',
    }),
    timeout: setting(duration({ bareUnit: 's' }), {
      default: '30s',
      flag: false,
      description: 'How long one registry request may take.',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_AUDIT_',
    flagPrefix: 'audit-',
    description: '`shipshape audit`, the lockfile and advisory audit. See [audit.md](audit.md).',
  },
)

export type AuditSettings = Infer<typeof auditSettings.shape>

/** The options an audit runs with, paths made absolute from the project directory. */
export function auditOptionsOf(settings: AuditSettings, cwd: string) {
  return {
    cwd,
    registry: settings.registry,
    allowedHosts: settings.allowedHosts,
    failLevel: settings.failLevel,
    minReleaseAgeMs: settings.minReleaseAge,
    ignoreFile: resolve(cwd, settings.ignoreFile),
    cacheDir: resolve(cwd, settings.cacheDir),
    timeoutMs: settings.timeout,
  }
}

/**
 * The audit settings as `shipshape audit` resolves them (config file's audit: section, .env,
 * SHIPSHAPE_AUDIT_* variables), for `check --deploy`; only this group's problems count.
 */
export function auditOptionsFor(cwd: string, env: NodeJS.ProcessEnv) {
  const resolution = resolveConfig(
    defineConfig({ audit: auditSettings }, { envPrefix: shipshapeSources.envPrefix }),
    {
      ...shipshapeSources,
      unknownEnv: 'warn', // the other groups' variables: not this group's to judge
      env,
      cwd,
    },
  )
  const problems = resolution.problems.filter((problem) => problem.key.startsWith('audit.'))
  if (problems.length > 0) throw configError(problems, 'SHIPSHAPE_E_BAD_OPTION')
  const settled = Object.fromEntries(
    Object.keys(auditSettings.shape).map((key) => [key, resolution.settled.get(`audit.${key}`)]),
  )
  return auditOptionsOf(settled as AuditSettings, cwd)
}
