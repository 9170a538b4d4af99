/**
 * The re-check of the deployed lockfile (docs/audit.md, "After the deploy"): every
 * monitor.auditInterval the primary runs `shipshape audit --format json` on the lockfile in its
 * working directory, in a child process bounded by a timeout, so the lockfile's parsing and the
 * registry's answers never hold the primary's event loop. An advisory that matches now and did
 * not at the previous check (of any instance sharing the database) raises a chat-level
 * AdvisoryNew alert through the monitor's rules, until the package is upgraded and redeployed.
 * The first check ever is the baseline: what it finds is what `shipshape audit` in CI and
 * `check --deploy` already reported.
 */
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import type { Logger } from '../observe/index.js'
import type { CheckStates } from './_state.js'
import type { MonitorStore } from './_store.js'

/** What the re-check reads of the audit's JSON report. */
interface ReportedFinding {
  id: string
  name: string
  version: string
  severity: string
  title: string
  url: string
  fixed?: string
  ignored?: unknown
}

interface Report {
  lockfile: string
  advisories: { source: string; reason?: string; findings: ReportedFinding[] }
}

/** A finding as stored and alerted on: one advisory on one locked package. */
export interface Advisory {
  key: string
  id: string
  name: string
  summary: string
}

const bin = new URL('../cli/bin.js', import.meta.url).pathname
/** A run that takes longer than this (a registry that never answers) is killed; runs never overlap. */
const maxRunMs = 5 * 60_000

export class LockfileRecheck {
  /** Without a database: each finding seen so far, and whether it is new (seen after the first check). */
  private readonly seen = new Map<string, boolean>()
  private checked = false
  /** The alerts raised, by key, to clear those whose advisory no longer matches. */
  private raised = new Map<string, Record<string, string>>()

  constructor(
    private readonly options: {
      cwd: string
      logger: Logger
      states: CheckStates
      store: () => MonitorStore | undefined
    },
  ) {}

  async run(): Promise<void> {
    const { logger, store, states } = this.options
    const report = await this.audit()
    if (report === undefined) return
    if (report.advisories.source === 'unavailable') {
      // The alerts stay as they were: not knowing is not being fixed.
      logger.warn(
        { reason: report.advisories.reason },
        'monitor: the lockfile re-check could not fetch the advisories',
      )
      return
    }
    const now = Date.now()
    const found = report.advisories.findings
      .filter((finding) => finding.ignored === undefined)
      .map(advisoryOf)
    const fresh = await this.freshOf(found, store(), now)
    const alerts = new Map<string, Record<string, string>>()
    for (const advisory of found.filter((candidate) => fresh.has(candidate.key))) {
      const labels = {
        alertname: 'AdvisoryNew',
        severity: 'chat',
        advisory: advisory.id,
        package: advisory.name,
      }
      alerts.set(advisory.key, labels)
      states.condition({ labels, summary: advisory.summary }, true, now)
    }
    for (const [key, labels] of this.raised)
      if (!alerts.has(key)) states.condition({ labels, summary: '' }, false, now)
    this.raised = alerts
    logger.info(
      { lockfile: resolve(this.options.cwd, report.lockfile), advisories: found.length, new: alerts.size },
      'monitor: the deployed lockfile re-checked',
    )
  }

  /** The findings first seen after the first check (the baseline's are never new). */
  private async freshOf(found: Advisory[], store: MonitorStore | undefined, now: number) {
    if (store) return store.recordAdvisories(found, now)
    for (const advisory of found) if (!this.seen.has(advisory.key)) this.seen.set(advisory.key, this.checked)
    this.checked = true
    return new Set(found.filter((advisory) => this.seen.get(advisory.key)).map((advisory) => advisory.key))
  }

  /** The audit's report, or undefined (logged) when it could not run. */
  private audit(): Promise<Report | undefined> {
    const { cwd, logger } = this.options
    const args = [bin, 'audit', '--format', 'json', '--omit', 'dev', '--fail-level', 'never']
    return new Promise((done) => {
      execFile(
        process.execPath,
        args,
        { cwd, timeout: maxRunMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
        (error, stdout, stderr) => {
          try {
            // Exit 3 (advisories unavailable) still prints its report; 2 is a usage or lockfile error.
            done(JSON.parse(stdout) as Report)
          } catch {
            logger.warn(
              { err: error, stderr: stderr.slice(0, 2000), cwd },
              'monitor: the lockfile re-check could not run shipshape audit',
            )
            done(undefined)
          }
        },
      )
    })
  }
}

function advisoryOf(finding: ReportedFinding): Advisory {
  const fixed = finding.fixed ? `, fixed in ${finding.fixed}` : ', no fixed version yet'
  return {
    key: `${finding.id}:${finding.name}@${finding.version}`,
    id: finding.id,
    name: finding.name,
    summary: `${finding.name}@${finding.version}: ${finding.title} (${finding.severity}, ${finding.url})${fixed}`,
  }
}
