/**
 * Checks on the dependencies the deploy installs: `shipshape audit` run as a check (production
 * dependencies only, as a production install has), so `check --deploy` fails on what the audit
 * fails on. The advisories come from the registry, else from the audit's cache.
 */
import { isShipshapeError } from '../errors/index.js'
import { audit, severityOrder } from '../hosting/index.js'
import { auditOptionsFor } from '../hosting/settings.js'
import { type DeployCheck, Skip } from './types.js'

export const dependencyAudit: DeployCheck = {
  id: 'dependency-audit',
  subject: 'supply-chain',
  severity: 'error',
  title: 'No known vulnerable production dependency, and the lockfile pins each one by hash',
  fix: 'Run `shipshape audit --omit dev` for the details: upgrade to the fixed version it names, or accept an advisory in audit-ignores.yaml with a reason and an expiry date (docs/audit.md).',
  async run({ cwd, env }) {
    let report: Awaited<ReturnType<typeof audit>>
    let options: ReturnType<typeof auditOptionsFor>
    try {
      options = auditOptionsFor(cwd, env)
      report = await audit({ ...options, offline: false, omitDev: true })
      // No registry (a build box without network): the advisories the last audit cached.
      if (report.advisories.source === 'unavailable')
        report = await audit({ ...options, offline: true, omitDev: true })
    } catch (error) {
      if (isShipshapeError(error) && error.code === 'SHIPSHAPE_E_LOCKFILE') return new Skip(error.message)
      throw error
    }
    const findings = [
      ...report.advisories.findings
        .filter(
          (finding) =>
            !finding.ignored &&
            options.failLevel !== 'never' &&
            severityOrder.indexOf(finding.severity) >= severityOrder.indexOf(options.failLevel),
        )
        .map(
          (finding) =>
            `${finding.name}@${finding.version} (${finding.severity}, ${finding.ghsa ?? finding.id}): ${finding.title}; ${finding.fixed ? `fixed in ${finding.fixed}` : 'no fix published'}, via ${finding.path.join(' > ')}`,
        ),
      ...report.lockProblems.map(
        (problem) => `${report.lockfile}: ${problem.name}@${problem.version}: ${problem.problem}`,
      ),
      ...report.ignores.expired.map((ignore) => `the ignore of ${ignore.id} expired on ${ignore.expires}`),
    ]
    if (findings.length === 0 && report.advisories.source === 'unavailable')
      return new Skip(`advisories not checked: ${report.advisories.reason}`)
    return findings
  },
}
