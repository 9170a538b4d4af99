/**
 * What the probes' results mean, as pure logic on an injected clock: each check's state per
 * vantage point (failures to go down, successes to come back, flapping held down), each
 * heartbeat's, and the alerts the built-in rules raise from them. Nothing here reads the time,
 * the network or the database, so tests drive it through hours of incidents in milliseconds.
 */
import type { Check, Heartbeat } from './_checks.js'
import type { ProbeResult } from './_probe.js'

export interface Alert {
  /** alertname and severity always; check, heartbeat, vantage where they apply; the check's own labels. */
  labels: Record<string, string>
  summary: string
  /** When the condition began. */
  startsAt: number
}

export interface Ping {
  heartbeat: string
  kind: 'start' | 'success' | 'fail'
  at: number
  exitCode?: number
}

export interface StateOptions {
  quorum: number
  flapChanges: number
  flapWindowMs: number
}

interface VantageState {
  down: boolean
  failuresInRow: number
  successesInRow: number
  lastAt: number
  last: ProbeResult
  /** Response times of the latest probes, newest last, as many as `failures`. */
  recentMs: number[]
  /** When the state changed, within the flap window. */
  changes: number[]
}

interface BeatState {
  since: number
  lastSuccess?: number
  lastStart?: number
  lastFail?: { at: number; exitCode?: number }
}

export interface CheckStatus {
  name: string
  /** Up unless its alert condition holds (down at the quorum of vantage points, or flapping). */
  up: boolean
  vantages: { vantage: string; up: boolean; ms: number; at: number; error?: string; flapping: boolean }[]
  certExpiresAt?: number
}

/** A vantage point is counted while its latest result is at most this many intervals old. */
const liveIntervals = 3

export class CheckStates {
  private readonly checks = new Map<string, Check>()
  private readonly states = new Map<string, Map<string, VantageState>>()
  private readonly beats = new Map<string, { heartbeat: Heartbeat; state: BeatState }>()
  private readonly conditions = new Map<string, Alert>()

  constructor(
    private readonly options: StateOptions,
    checks: readonly Check[],
    heartbeats: readonly Heartbeat[],
    now: number,
  ) {
    for (const check of checks) this.checks.set(check.name, check)
    for (const heartbeat of heartbeats) this.beats.set(heartbeat.name, { heartbeat, state: { since: now } })
  }

  /** Adds or replaces checks (the API's); results for a check no longer listed are ignored. */
  setChecks(checks: readonly Check[]): void {
    const names = new Set(checks.map((check) => check.name))
    for (const name of this.checks.keys()) if (!names.has(name)) this.states.delete(name)
    this.checks.clear()
    for (const check of checks) this.checks.set(check.name, check)
  }

  record(result: ProbeResult): void {
    const check = this.checks.get(result.check)
    if (!check) return
    let byVantage = this.states.get(check.name)
    if (!byVantage) {
      byVantage = new Map()
      this.states.set(check.name, byVantage)
    }
    let state = byVantage.get(result.vantage)
    if (state === undefined) {
      state = {
        down: false,
        failuresInRow: 0,
        successesInRow: 0,
        lastAt: 0,
        last: result,
        recentMs: [],
        changes: [],
      }
      byVantage.set(result.vantage, state)
    }
    // Results arrive late from agents that buffered them; an older one than the latest changes nothing.
    if (result.at < state.lastAt) return
    state.lastAt = result.at
    state.last = result
    state.recentMs = [...state.recentMs, result.ok ? result.ms : Number.NaN].slice(-check.failures)
    if (result.ok) {
      state.successesInRow++
      state.failuresInRow = 0
      if (state.down && state.successesInRow >= check.successes) this.change(state, false, result.at)
    } else {
      state.failuresInRow++
      state.successesInRow = 0
      if (!state.down && state.failuresInRow >= check.failures) this.change(state, true, result.at)
    }
  }

  private change(state: VantageState, down: boolean, at: number): void {
    state.down = down
    state.changes = [...state.changes.filter((t) => t > at - this.options.flapWindowMs), at]
  }

  ping(ping: Ping): void {
    const entry = this.beats.get(ping.heartbeat)
    if (!entry) return
    const { state } = entry
    if (ping.kind === 'start') state.lastStart = Math.max(state.lastStart ?? 0, ping.at)
    else if (ping.kind === 'success') state.lastSuccess = Math.max(state.lastSuccess ?? 0, ping.at)
    else if (ping.at >= (state.lastFail?.at ?? 0)) state.lastFail = { at: ping.at, exitCode: ping.exitCode }
  }

  /** A condition the runner evaluates itself (disk space, error-budget burn): on or off. */
  condition(alert: Omit<Alert, 'startsAt'>, active: boolean, now: number): void {
    const key = fingerprint(alert.labels)
    if (!active) return void this.conditions.delete(key)
    const existing = this.conditions.get(key)
    this.conditions.set(key, { ...alert, startsAt: existing?.startsAt ?? now })
  }

  private flapping(state: VantageState, now: number): boolean {
    return state.changes.filter((t) => t > now - this.options.flapWindowMs).length >= this.options.flapChanges
  }

  /** Live vantage points of a check, each down or not (a flapping one is held down). */
  private vantages(check: Check, now: number) {
    const live = now - liveIntervals * (check.intervalMs + check.timeoutMs)
    return [...(this.states.get(check.name) ?? new Map<string, VantageState>()).entries()]
      .filter(([, state]) => state.lastAt >= live)
      .map(([vantage, state]) => {
        const flapping = this.flapping(state, now)
        return { vantage, state, flapping, down: state.down || flapping }
      })
  }

  /** Every alert whose condition holds now, by fingerprint. */
  alerts(now: number): Map<string, Alert> {
    const out = new Map<string, Alert>(this.conditions)
    const raise = (labels: Record<string, string>, summary: string, startsAt: number) =>
      out.set(fingerprint(labels), { labels, summary, startsAt })
    for (const check of this.checks.values()) {
      const vantages = this.vantages(check, now)
      const down = vantages.filter((vantage) => vantage.down)
      const needed = Math.min(this.options.quorum, vantages.length)
      if (needed > 0 && down.length >= needed) {
        const flapping = down.some((vantage) => vantage.flapping)
        const since = Math.min(...down.map((vantage) => vantage.state.changes.at(-1) ?? vantage.state.lastAt))
        const errors = down.map(
          (vantage) => `${vantage.vantage}: ${vantage.state.last.error ?? 'up, flapping'}`,
        )
        raise(
          {
            ...check.labels,
            alertname: check.site ? 'SiteDown' : 'CheckFailing',
            severity: check.severity ?? (check.site ? 'page' : 'chat'),
            check: check.name,
          },
          `${check.name} is down from ${down.length} of ${vantages.length} vantage points${flapping ? ' (flapping)' : ''}: ${errors.join('; ')}`,
          since,
        )
      }
      const slow = check.latencyMs === undefined ? [] : vantages.filter(({ state }) => isSlow(state, check))
      if (slow.length > 0) {
        raise(
          { ...check.labels, alertname: 'LatencyHigh', severity: 'chat', check: check.name },
          `${check.name} answers slowly: ${slow.map(({ vantage, state }) => `${vantage} ${state.last.ms} ms`).join(', ')} (threshold ${check.latencyMs} ms)`,
          Math.min(...slow.map(({ state }) => state.lastAt)),
        )
      }
      const expiry = Math.min(
        ...vantages.map(({ state }) => state.last.certExpiresAt ?? Number.POSITIVE_INFINITY),
      )
      if (expiry - now < check.certExpiryMs) {
        const days = Math.floor((expiry - now) / 86_400_000)
        raise(
          { ...check.labels, alertname: 'CertificateExpiring', severity: 'chat', check: check.name },
          `the certificate of ${check.name} ${days < 0 ? 'has expired' : `expires in ${days} day(s)`} (${new Date(expiry).toISOString()})`,
          now,
        )
      }
    }
    for (const { heartbeat, state } of this.beats.values()) {
      const missed = heartbeatProblem(heartbeat, state, now)
      if (missed)
        raise(
          {
            ...heartbeat.labels,
            alertname: 'HeartbeatMissed',
            severity: heartbeat.severity,
            heartbeat: heartbeat.name,
          },
          `${heartbeat.name} ${missed.reason}`,
          missed.since,
        )
    }
    return out
  }

  /** Each check's state for metrics and the status page. */
  status(now: number): CheckStatus[] {
    const firing = this.alerts(now)
    return [...this.checks.values()].map((check) => {
      const vantages = this.vantages(check, now)
      const up = ![...firing.values()].some(
        (alert) =>
          alert.labels.check === check.name &&
          (alert.labels.alertname === 'SiteDown' || alert.labels.alertname === 'CheckFailing'),
      )
      const certs = vantages.map(({ state }) => state.last.certExpiresAt).filter((at) => at !== undefined)
      return {
        name: check.name,
        up,
        vantages: vantages.map(({ vantage, state, flapping, down }) => ({
          vantage,
          up: !down,
          ms: state.last.ms,
          at: state.lastAt,
          ...(state.last.error ? { error: state.last.error } : {}),
          flapping,
        })),
        ...(certs.length > 0 ? { certExpiresAt: Math.min(...certs) } : {}),
      }
    })
  }
}

function isSlow(state: VantageState, check: Check): boolean {
  const { recentMs } = state
  return (
    recentMs.length >= check.failures &&
    recentMs.every((ms) => !Number.isNaN(ms) && ms > (check.latencyMs as number))
  )
}

/** Why a heartbeat is late or failing, from when; undefined while it is fine. */
function heartbeatProblem(
  heartbeat: Heartbeat,
  state: BeatState,
  now: number,
): { reason: string; since: number } | undefined {
  const success = state.lastSuccess ?? 0
  if (state.lastFail && state.lastFail.at >= success) {
    const code = state.lastFail.exitCode
    return {
      reason: `reported a failure${code === undefined ? '' : ` (exit code ${code})`}`,
      since: state.lastFail.at,
    }
  }
  if (state.lastStart !== undefined && state.lastStart > success && now > state.lastStart + heartbeat.graceMs)
    return {
      reason: 'started but did not finish within its grace',
      since: state.lastStart + heartbeat.graceMs,
    }
  const due = (state.lastSuccess ?? state.since) + heartbeat.periodMs + heartbeat.graceMs
  if (now > due)
    return {
      reason: state.lastSuccess
        ? `has not pinged since ${new Date(state.lastSuccess).toISOString()}`
        : 'has never pinged',
      since: due,
    }
  return undefined
}

/** A stable identity of an alert: its labels, sorted. */
export function fingerprint(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}=${labels[key]}`)
    .join(',')
}
