/**
 * Deploy checklist: `check --deploy` over the settings this server runs with and its live site,
 * the MDN Observatory grade of that site, and `audit` of the lockfile (offline: from the advisory
 * cache the last `shipshape audit` fetched; a worker never waits on the registry). It takes a few
 * seconds, so a result is kept 5 minutes per worker; `?refresh=1` runs it again.
 */
import { join } from 'node:path'
import { defaultCpus, runDeployChecks } from '../checks/index.js'
import { audit } from '../hosting/index.js'
import { probeStatus, scanSite } from '../scan/index.js'
import { card, esc, page, table } from './_layout.js'
import type { View } from './_view.js'

const keepMs = 5 * 60_000
const scanOptions = { timeoutMs: 5000 }

/** One worker's last run: held by the console area, not by this module. */
export interface DeployMemo {
  at: number
  body: Promise<string>
}

async function checklist(view: View): Promise<string> {
  const { ctx, host } = view
  const origin = `${ctx.protocol}://${ctx.req.headers.host ?? 'localhost'}`
  const cwd = process.cwd()
  const [scan, lock] = await Promise.all([
    scanSite(origin, scanOptions).catch((error: unknown) => String((error as Error).message)),
    audit({
      cwd,
      registry: 'https://registry.npmjs.org/',
      allowedHosts: ['registry.npmjs.org', 'registry.yarnpkg.com'],
      cacheDir: join(cwd, 'node_modules/.cache/shipshape-audit'),
      offline: true,
      omitDev: true,
      minReleaseAgeMs: 0,
      failLevel: 'low',
      ignoreFile: join(cwd, 'audit-ignores.yaml'),
      timeoutMs: 5000,
    }).catch((error: unknown) => String((error as Error).message)),
  ])
  const site =
    typeof scan === 'string'
      ? undefined
      : { scan, statusOf: (path: string) => probeStatus(origin, path, scanOptions) }
  const report = await runDeployChecks(
    { cwd, env: process.env, settings: host, settingsProblem: undefined, site, cpus: defaultCpus() },
    { deploy: true, silenced: [], failLevel: 'warning' },
  )
  const tone = (status: string, severity: string) =>
    status === 'failed'
      ? severity === 'error' || severity === 'critical'
        ? 'bad'
        : 'warn'
      : status === 'passed'
        ? 'ok'
        : ''
  const order = { failed: 0, skipped: 2, silenced: 3, passed: 1 } as const
  const checks = [...report.checks].sort((a, b) => order[a.status] - order[b.status])
  const rows = checks.map((check) => [
    `<span class="tag ${tone(check.status, check.severity)}">${check.status}</span>`,
    esc(check.severity),
    `<strong>${esc(check.title)}</strong> <span class="muted">${esc(check.id)}</span>${check.findings.map((finding) => `<br>${esc(finding)}`).join('')}${check.reason ? `<br><span class="muted">${esc(check.reason)}</span>` : ''}`,
    check.status === 'failed' ? esc(check.fix) : '',
  ])
  const failedTests =
    typeof scan === 'string'
      ? []
      : Object.values(scan.tests)
          .filter((test) => !test.pass)
          .map((test) => [esc(test.name), String(test.scoreModifier), esc(test.description)])
  const findings =
    typeof lock === 'string'
      ? []
      : lock.advisories.findings.map((finding) => [
          esc(`${finding.name}@${finding.version}`),
          esc(finding.severity),
          `<a href="${esc(finding.url)}">${esc(finding.title)}</a>`,
          esc(finding.fixed ? `upgrade to ${finding.fixed}` : 'no fixed version yet'),
        ])
  const failed = report.checks.filter((check) => check.status === 'failed').length
  return `<div class="cards">
${card('check --deploy', report.ready ? 'Ready' : `${failed} failing`, `${report.counts.passed} passed, ${report.counts.skipped} skipped`, report.ready ? 'ok' : 'bad')}
${card('Observatory grade', typeof scan === 'string' ? '—' : scan.grade, typeof scan === 'string' ? scan : `${scan.score}/100 for ${scan.url}`, typeof scan !== 'string' && scan.grade.startsWith('A') ? 'ok' : 'warn')}
${card('audit', typeof lock === 'string' ? '—' : `${lock.advisories.findings.length} advisories`, typeof lock === 'string' ? lock : `${lock.packages} packages in ${lock.lockfile}; advisories: ${lock.advisories.source}`, typeof lock !== 'string' && lock.advisories.findings.length === 0 ? 'ok' : 'warn')}
</div>
<h2>check --deploy</h2>
${table(['Status', 'Severity', 'Check', 'Fix'], rows)}
<h2>Observatory tests failed</h2>
${table(['Test', 'Score', 'What it found'], failedTests)}
<h2>Advisories</h2>
${table(['Package', 'Severity', 'Advisory', 'Fix'], findings)}`
}

export async function deployPage(view: View, memo: { current?: DeployMemo }): Promise<string> {
  const stale =
    memo.current === undefined || view.now - memo.current.at > keepMs || view.query.get('refresh') === '1'
  if (stale) {
    const body = checklist(view)
    memo.current = { at: view.now, body }
    body.catch(() => {
      memo.current = undefined
    })
  }
  const current = memo.current as DeployMemo
  const body = await current.body
  return page(
    view,
    'Deploy checklist',
    `<p class="muted">Run ${Math.round((view.now - current.at) / 1000)} s ago against ${esc(`${view.ctx.protocol}://${view.ctx.req.headers.host ?? ''}`)}. <a href="${esc(`${view.prefix}/deploy?refresh=1`)}">Run again</a></p>\n${body}`,
  )
}
