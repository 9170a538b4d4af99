import { parseArgs } from 'node:util'
import {
  type CheckContext,
  type DeployReport,
  defaultCpus,
  deployChecks,
  runDeployChecks,
  type Severity,
  severities,
  silencedVariable,
} from '../checks/index.js'
import { isShipshapeError, ShipshapeError } from '../errors/index.js'
import { probeStatus, type ScanOptions, scanSite } from '../scan/index.js'
import { loadServeOptions, resolveShipshapeSettings, type ServeOptions } from '../server/index.js'
import type { Command } from '../types.js'
import { describeFailure } from './_failure.js'
import { parseResolve, readCaFile } from './scan.js'

const failLevels = [...severities, 'never'] as const

export const command: Command = {
  help: `Usage: shipshape check [app] [--deploy] [options]

Runs shipshape's checks against the settings \`shipshape serve\` would use (its options, from the
environment) and the project in the working directory. Without --deploy, only the checks that
matter everywhere run (the options resolve, the lockfile). With --deploy, the whole deploy
checklist runs: debug mode, secret keys, HTTPS redirect, HSTS, allowed hosts, framing, CSP,
timeouts and workers, static manifest, private media, database and Redis URLs, the lockfile,
secrets in files git tracks, admin pages and error reporting. docs/deploy-checks.md lists every check.

With --url, the live site is fetched too (as \`shipshape scan\` does) and the header and cookie
checks judge its real responses; the admin check probes its admin paths.

Exit codes: 0 when no check fails at or above --fail-level; 1 when one does; 2 on a usage error.

Options:
  --deploy
      Run the whole deploy checklist.
  --fail-level <level>
      Lowest severity that fails the run: ${failLevels.join(', ')}. Default: error.
  --silence <id>
      Do not run this check (repeatable). Also checks.silenced in the config file, or
      ${silencedVariable}=id,id.
  --config <file>
      The config file \`shipshape serve\` reads (default: shipshape.yaml, .yml, .json or .toml here).
  --json
      Print the report as JSON: { ready, counts, checks: [{ id, severity, status, findings, fix }] }.
  --url <url>
      Also check the live site at <url>.
  --ca <file>, --insecure, --resolve <host:address>
      As for \`shipshape scan\`, when --url is given.
`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        deploy: { type: 'boolean', default: false },
        'fail-level': { type: 'string', default: 'error' },
        silence: { type: 'string', multiple: true },
        json: { type: 'boolean', default: false },
        url: { type: 'string' },
        ca: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        resolve: { type: 'string', multiple: true },
        config: { type: 'string' },
      },
    })
    try {
      const failLevel = values['fail-level'] as (typeof failLevels)[number]
      if (!failLevels.includes(failLevel))
        throw new ShipshapeError(
          'SHIPSHAPE_E_BAD_OPTION',
          `--fail-level ${failLevel}: expected one of ${failLevels.join(', ')}`,
        )
      if (positionals.length > 1)
        throw new ShipshapeError(
          'SHIPSHAPE_E_USAGE',
          `unexpected argument ${positionals[1]}: check takes at most one app module`,
        )
      const env = process.env
      const settings = resolveShipshapeSettings({ env, configFile: values.config }).values
      const silenced = [
        ...(values.silence ?? []),
        // From the config file or SHIPSHAPE_SILENCED_CHECKS; read raw when the settings do not resolve.
        ...(settings?.checks.silenced ??
          (env[silencedVariable] ?? '')
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean)),
      ]
      const context = await checkContext(positionals[0], env, values)
      const report = await runDeployChecks(context, { deploy: values.deploy, silenced, failLevel })
      process.stdout.write(
        values.json ? `${JSON.stringify(report, null, 2)}\n` : describeDeployReport(report, values.deploy),
      )
      return report.ready ? 0 : 1
    } catch (error) {
      if (!isShipshapeError(error)) throw error
      process.stderr.write(describeFailure('check', error))
      return 2
    }
  },
}

async function checkContext(
  app: string | undefined,
  env: NodeJS.ProcessEnv,
  values: { url?: string; ca?: string; insecure?: boolean; resolve?: string[]; config?: string },
): Promise<CheckContext> {
  let settings: ServeOptions | undefined
  let settingsProblem: string | undefined
  try {
    // The app module is not loaded by the checks; a placeholder stands in when none is named.
    settings = loadServeOptions(app ?? (env.SHIPSHAPE_APP || 'app'), {}, env, {
      configFile: values.config,
    })
  } catch (error) {
    if (!isShipshapeError(error)) throw error
    settingsProblem = error.message
  }
  let site: CheckContext['site']
  if (values.url !== undefined) {
    const options: ScanOptions = {
      ca: readCaFile(values.ca),
      insecure: values.insecure,
      resolve: parseResolve(values.resolve ?? []),
    }
    const url = values.url
    site = { scan: await scanSite(url, options), statusOf: (path) => probeStatus(url, path, options) }
  }
  return { cwd: process.cwd(), env, settings, settingsProblem, site, cpus: defaultCpus() }
}

const marks: Record<string, string> = { error: '✗', warning: '!', info: 'i' }

function describeDeployReport(report: DeployReport, deploy: boolean): string {
  const { counts } = report
  const lines: string[] = [
    `shipshape check${deploy ? ' --deploy' : ''}: ${counts.error} errors, ${counts.warning} warnings, ${counts.info} notes; ${counts.passed} passed, ${counts.skipped} skipped, ${counts.silenced} silenced`,
    '',
  ]
  for (const severity of severities) {
    for (const outcome of report.checks.filter(
      (item) => item.status === 'failed' && item.severity === severity,
    )) {
      lines.push(`${marks[severity]} ${severity.padEnd(7)} ${outcome.id}: ${outcome.title}`)
      for (const finding of outcome.findings) lines.push(`    - ${finding}`)
      lines.push(`    fix: ${outcome.fix}`)
    }
  }
  const passed = report.checks.filter((item) => item.status === 'passed').map((item) => item.id)
  if (passed.length > 0) lines.push(`✓ passed  ${passed.join(', ')}`)
  for (const outcome of report.checks.filter((item) => item.status === 'skipped'))
    lines.push(`- skipped ${outcome.id}: ${outcome.reason}`)
  const silenced = report.checks.filter((item) => item.status === 'silenced').map((item) => item.id)
  if (silenced.length > 0) lines.push(`- silenced ${silenced.join(', ')}`)
  for (const id of report.unknownSilenced)
    lines.push(
      `! no check is called ${JSON.stringify(id)}; known: ${deployChecks.map((item) => item.id).join(', ')}`,
    )
  lines.push(
    '',
    report.ready
      ? `Ready: nothing fails at --fail-level ${report.failLevel}.`
      : `Not ready: checks fail at --fail-level ${report.failLevel} (${failingAt(report, report.failLevel as Severity)}).`,
  )
  return `${lines.join('\n')}\n`
}

function failingAt(report: DeployReport, level: Severity): string {
  return severities
    .slice(0, severities.indexOf(level) + 1)
    .map((severity) => `${report.counts[severity]} ${severity}`)
    .join(', ')
}
