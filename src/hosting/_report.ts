/**
 * The audit report as text (for a person), or SARIF 2.1.0 (for GitHub code scanning and other
 * tools: one result per advisory and per lockfile problem, located in the lockfile). JSON is the
 * report object itself.
 */
import type { AuditReport, Finding } from './_audit.js'
import { showPath } from './_ignores.js'

const marks: Record<string, string> = { critical: '✗', high: '✗', moderate: '!', low: 'i', info: 'i' }

export function describeAudit(report: AuditReport): string {
  const { advisories } = report
  const open = advisories.findings.filter((finding) => !finding.ignored)
  const lines = [
    `shipshape audit: ${report.lockfile} (${report.format}), ${report.packages} packages; ${open.length} advisories, ${report.lockProblems.length} lockfile problems`,
    '',
  ]
  if (advisories.source === 'unavailable')
    lines.push(
      `! advisories not checked: ${advisories.reason}`,
      '  run with --offline to use the cached advisories',
      '',
    )
  else if (advisories.source === 'cache')
    lines.push(`advisories from the cache of ${advisories.fetchedAt} (--offline)`, '')
  if (advisories.unchecked.length > 0)
    lines.push(
      `! not in the cached advisories (the lockfile changed since): ${advisories.unchecked.join(', ')}`,
      '',
    )
  for (const finding of open) lines.push(...describeFinding(finding))
  for (const problem of report.lockProblems)
    lines.push(
      `✗ lockfile ${problem.name}@${problem.version}: ${problem.problem}`,
      `    via ${showPath(problem.path)}`,
    )
  for (const ignore of report.ignores.expired)
    lines.push(
      `✗ the ignore of ${ignore.id} expired on ${ignore.expires} (${ignore.reason}): renew it or fix the advisory`,
    )
  const ignored = advisories.findings.filter((finding) => finding.ignored)
  if (ignored.length > 0) {
    lines.push('', 'Ignored (until their expiry):')
    for (const finding of ignored)
      lines.push(
        `  ${finding.ghsa ?? finding.id} ${finding.name}@${finding.version} until ${finding.ignored?.expires}: ${finding.ignored?.reason}`,
      )
  }
  for (const ignore of report.ignores.unused)
    lines.push(
      `i the ignore of ${ignore.id}${ignore.path ? ` on ${ignore.path}` : ''} matches nothing now: remove it`,
    )
  if (report.otherSources.length > 0) {
    lines.push('', 'Not from the registry (no advisories, no registry hash):')
    for (const other of report.otherSources)
      lines.push(`  ${other.kind.padEnd(7)} ${other.name}@${other.version} ${other.url}`)
  }
  if (report.installScripts.length > 0) {
    lines.push('', 'Run install scripts (npm, pnpm and yarn run them at install unless told not to):')
    for (const pkg of report.installScripts)
      lines.push(`  ${pkg.name}@${pkg.version} via ${showPath(pkg.path)}`)
  }
  if (report.young.length > 0) {
    lines.push(
      '',
      'Published less than the minimum release age ago (compromised releases are usually caught within days):',
    )
    for (const pkg of report.young)
      lines.push(`  ${pkg.name}@${pkg.version} ${pkg.ageHours} h ago (${pkg.published})`)
  }
  if (report.unknownFacts.length > 0)
    lines.push(
      '',
      `i age and install scripts unknown (registry not reached, nothing cached): ${report.unknownFacts.join(', ')}`,
    )
  lines.push(
    '',
    report.exitCode === 0
      ? `Passed at --fail-level ${report.failLevel}.`
      : report.exitCode === 3
        ? 'Advisories could not be fetched; the lockfile itself passed (exit code 3).'
        : `Failed at --fail-level ${report.failLevel}.`,
  )
  return `${lines.join('\n')}\n`
}

function describeFinding(finding: Finding): string[] {
  return [
    `${marks[finding.severity]} ${finding.severity.padEnd(8)} ${finding.name}@${finding.version}: ${finding.title}`,
    `    ${finding.ghsa ?? finding.id} (id ${finding.id}) ${finding.url}`,
    `    vulnerable ${finding.vulnerable}; ${finding.fixed ? `fixed in ${finding.fixed}` : 'no fixed version published'}${finding.dev ? '; dev only' : ''}`,
    `    via ${showPath(finding.path)}`,
  ]
}

const sarifLevel = (severity: string) =>
  severity === 'critical' || severity === 'high' ? 'error' : severity === 'moderate' ? 'warning' : 'note'

export function sarif(report: AuditReport, version: string): object {
  const location = [{ physicalLocation: { artifactLocation: { uri: report.lockfile } } }]
  const open = report.advisories.findings.filter((finding) => !finding.ignored)
  const rules = new Map<string, object>()
  const results: object[] = []
  for (const finding of open) {
    const ruleId = finding.ghsa ?? finding.id
    rules.set(ruleId, {
      id: ruleId,
      shortDescription: { text: finding.title },
      helpUri: finding.url,
      properties: { 'security-severity': severityScore[finding.severity], tags: ['security', 'dependency'] },
    })
    results.push({
      ruleId,
      level: sarifLevel(finding.severity),
      message: {
        text: `${finding.name}@${finding.version} (${finding.severity}): ${finding.title}. Via ${showPath(finding.path)}; ${finding.fixed ? `fixed in ${finding.fixed}` : 'no fixed version published'}.`,
      },
      locations: location,
      partialFingerprints: { package: `${finding.name}@${finding.version}:${ruleId}` },
    })
  }
  if (report.lockProblems.length > 0)
    rules.set('lockfile-source', {
      id: 'lockfile-source',
      shortDescription: {
        text: 'A locked package is not pinned by a sha512 hash to an https URL of an allowed registry',
      },
    })
  for (const problem of report.lockProblems)
    results.push({
      ruleId: 'lockfile-source',
      level: 'error',
      message: { text: `${problem.name}@${problem.version}: ${problem.problem}` },
      locations: location,
    })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'shipshape audit',
            version,
            informationUri: 'https://www.npmjs.com/package/shipshape',
            rules: [...rules.values()],
          },
        },
        results,
      },
    ],
  }
}

/** GitHub code scanning ranks results by this property (CVSS-like, 0 to 10). */
const severityScore: Record<string, string> = {
  critical: '9.5',
  high: '8.0',
  moderate: '5.5',
  low: '2.0',
  info: '0.0',
}
