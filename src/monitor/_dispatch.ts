/**
 * From firing alerts to notifications, with Alertmanager's semantics as pure logic on an injected
 * clock: routing (by label, else by severity), grouping (group_wait before a group's first
 * notification, group_interval between changes, repeat_interval for an unchanged group),
 * inhibition (the site down mutes per-endpoint, latency and error-rate alerts), silences
 * (maintenance windows, and "until resolved") and resolved notifications.
 */
import { type Maintenance, MaintenanceClock } from './_maintenance.js'
import type { Channel } from './_settings.js'
import { type Alert, fingerprint } from './_state.js'

export interface Silence {
  id: string
  match: Record<string, string>
  from: number
  until: number
  comment: string
  /** Ends by itself once nothing it matches fires. */
  untilResolved?: boolean
}

export interface DispatchOptions {
  groupWaitMs: number
  groupIntervalMs: number
  repeatIntervalMs: number
  sendResolved: boolean
  /** Recurring maintenance windows (the config's): silences that come back. */
  maintenance: readonly Maintenance[]
  routes: readonly { match: Record<string, string>; channels: readonly Channel[] }[]
  pageChannels: readonly Channel[]
  chatChannels: readonly Channel[]
  /** The channels that are set up: a route to none of them falls back to the chat channels. */
  configured: ReadonlySet<Channel>
}

export interface NotifiedAlert extends Alert {
  fingerprint: string
  status: 'firing' | 'resolved'
  endsAt?: number
}

/** One notification of one group to its channels. */
export interface Dispatch {
  groupKey: string
  groupLabels: Record<string, string>
  channels: Channel[]
  status: 'firing' | 'resolved'
  alerts: NotifiedAlert[]
  /** What the group holds (firing and resolved fingerprints): the same for every instance that sees the same. */
  hash: string
  /**
   * Only recorded, not sent: the end of a group when resolved notifications are off. Recording
   * it lets the next incident of the same alerts notify at once, on every instance.
   */
  quiet: boolean
}

/** Alerts muted while a SiteDown fires: they are its consequences. */
const inhibitedBySiteDown = new Set(['CheckFailing', 'LatencyHigh', 'ErrorBudgetBurn'])

interface Group {
  key: string
  labels: Record<string, string>
  channels: Channel[]
  firing: Map<string, Alert>
  resolved: Map<string, Alert & { endsAt: number }>
  nextFlush: number
  /** The firing alerts last notified, '' before the first notification. */
  lastHash: string
  lastSentAt: number
}

export class Dispatcher {
  private readonly groups = new Map<string, Group>()
  private silences: Silence[] = []
  /** "Until resolved" silences that have muted a firing alert: they end once it resolves. */
  private readonly muting = new Set<string>()
  private readonly clock = new MaintenanceClock()

  constructor(private readonly options: DispatchOptions) {}

  setSilences(silences: readonly Silence[]): void {
    this.silences = [...silences]
  }

  /** Whether an alert is silenced now, or in a maintenance window. */
  silenced(labels: Record<string, string>, now: number): boolean {
    return (
      this.silences.some(
        (silence) => silence.from <= now && now < silence.until && matches(silence.match, labels),
      ) ||
      this.options.maintenance.some(
        (window) => matches(window.match, labels) && this.clock.within(window, now),
      )
    )
  }

  /**
   * Takes the alerts firing now; returns the notifications due now and the "until resolved"
   * silences that have nothing left to silence.
   */
  tick(alerts: ReadonlyMap<string, Alert>, now: number): { dispatches: Dispatch[]; expired: string[] } {
    const siteDown = [...alerts.values()].some(
      (alert) => alert.labels.alertname === 'SiteDown' && !this.silenced(alert.labels, now),
    )
    const audible = new Map<string, Alert>()
    for (const [key, alert] of alerts) {
      if (this.silenced(alert.labels, now)) continue
      if (siteDown && inhibitedBySiteDown.has(alert.labels.alertname ?? '')) continue
      audible.set(key, alert)
    }
    // Alerts no longer firing are resolved in their group; muted ones leave it without a word.
    for (const group of this.groups.values()) {
      for (const [key, alert] of group.firing) {
        if (audible.has(key)) continue
        group.firing.delete(key)
        if (!alerts.has(key)) group.resolved.set(key, { ...alert, endsAt: now })
      }
    }
    for (const [key, alert] of audible) {
      const channels = this.channelsOf(alert.labels)
      const groupLabels = { alertname: alert.labels.alertname ?? '', severity: alert.labels.severity ?? '' }
      const groupKey = `${channels.join('+')}:${fingerprint(groupLabels)}`
      let group = this.groups.get(groupKey)
      if (group === undefined) {
        group = {
          key: groupKey,
          labels: groupLabels,
          channels,
          firing: new Map(),
          resolved: new Map(),
          nextFlush: now + this.options.groupWaitMs,
          lastHash: '',
          lastSentAt: Number.NEGATIVE_INFINITY,
        }
        this.groups.set(groupKey, group)
      }
      group.resolved.delete(key)
      group.firing.set(key, alert)
    }
    const dispatches: Dispatch[] = []
    for (const group of this.groups.values()) {
      if (now < group.nextFlush) continue
      const dispatch = this.flush(group, now)
      if (dispatch) dispatches.push(dispatch)
    }
    const expired: string[] = []
    for (const silence of this.silences) {
      if (!silence.untilResolved) continue
      const matching = [...alerts.values()].some((alert) => matches(silence.match, alert.labels))
      if (matching) this.muting.add(silence.id)
      else if (this.muting.has(silence.id)) expired.push(silence.id)
    }
    this.silences = this.silences.filter((silence) => !expired.includes(silence.id))
    return { dispatches, expired }
  }

  private flush(group: Group, now: number): Dispatch | undefined {
    const resolved = [...group.resolved.entries()]
    const firing = [...group.firing.entries()]
    group.resolved.clear()
    group.nextFlush = now + this.options.groupIntervalMs
    if (firing.length === 0) this.groups.delete(group.key)
    // A group that never notified (it fired and went within group_wait) says nothing of its end.
    if (firing.length === 0 && (resolved.length === 0 || group.lastHash === '')) return undefined
    const firingHash = firing
      .map(([key]) => key)
      .sort()
      .join(';')
    const changed = firingHash !== group.lastHash || resolved.length > 0
    if (!changed && now - group.lastSentAt < this.options.repeatIntervalMs) return undefined
    group.lastHash = firingHash
    group.lastSentAt = now
    const hash = `${firingHash}|${resolved
      .map(([key]) => key)
      .sort()
      .join(';')}`
    const { sendResolved } = this.options
    return {
      groupKey: group.key,
      groupLabels: group.labels,
      channels: group.channels,
      status: firing.length > 0 ? 'firing' : 'resolved',
      alerts: [
        ...firing.map(([key, alert]) => ({ ...alert, fingerprint: key, status: 'firing' as const })),
        ...(sendResolved ? resolved : []).map(([key, alert]) => ({
          ...alert,
          fingerprint: key,
          status: 'resolved' as const,
        })),
      ],
      hash,
      quiet: firing.length === 0 && !sendResolved,
    }
  }

  /** The first route whose labels match, else the severity's channels, limited to those set up. */
  private channelsOf(labels: Record<string, string>): Channel[] {
    const { routes, pageChannels, chatChannels, configured } = this.options
    const route = routes.find((candidate) => matches(candidate.match, labels))
    const wanted = route ? route.channels : labels.severity === 'page' ? pageChannels : chatChannels
    const usable = wanted.filter((channel) => configured.has(channel))
    return usable.length > 0 ? usable : chatChannels.filter((channel) => configured.has(channel))
  }
}

function matches(match: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(match).every(([key, value]) => labels[key] === value)
}
