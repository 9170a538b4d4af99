/**
 * A group's notification in each channel's own format: Alertmanager's webhook payload (version 4,
 * so receivers written for Alertmanager work unchanged), PagerDuty Events v2 (one event per alert,
 * trigger and resolve under a stable dedup_key), and a title, text and fields for Slack and
 * e-mail (observe's notifiers). Each becomes a Notifier, so observe's deliver() retries it with
 * backoff and counts and logs a channel that fails.
 */
import { createHash } from 'node:crypto'
import { type Notification, type Notifier, postJson } from '../observe/index.js'
import type { Dispatch, NotifiedAlert } from './_dispatch.js'

/** Alertmanager writes a firing alert's unknown end as the zero time. */
const zeroTime = '0001-01-01T00:00:00Z'

/** The webhook body Alertmanager sends (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
function alertmanagerPayload(dispatch: Dispatch, externalUrl: string) {
  const common = (pick: (alert: NotifiedAlert) => Record<string, string>) => {
    const [first, ...rest] = dispatch.alerts.map(pick)
    return Object.fromEntries(
      Object.entries(first ?? {}).filter(([key, value]) => rest.every((other) => other[key] === value)),
    )
  }
  return {
    version: '4',
    groupKey: dispatch.groupKey,
    truncatedAlerts: 0,
    status: dispatch.status,
    receiver: dispatch.channels.join('+'),
    groupLabels: dispatch.groupLabels,
    commonLabels: common((alert) => alert.labels),
    commonAnnotations: common((alert) => ({ summary: alert.summary })),
    externalURL: externalUrl,
    alerts: dispatch.alerts.map((alert) => ({
      status: alert.status,
      labels: alert.labels,
      annotations: { summary: alert.summary },
      startsAt: new Date(alert.startsAt).toISOString(),
      endsAt: alert.endsAt === undefined ? zeroTime : new Date(alert.endsAt).toISOString(),
      generatorURL: externalUrl,
      fingerprint: dedupKey(alert),
    })),
  }
}

/** A short stable key per alert, the same on every instance: PagerDuty's dedup_key, Alertmanager's fingerprint. */
function dedupKey(alert: NotifiedAlert): string {
  return createHash('sha256').update(alert.fingerprint).digest('hex').slice(0, 32)
}

export function alertmanagerNotifier(url: string, dispatch: Dispatch, externalUrl: string): Notifier {
  return { channel: 'webhook', send: () => postJson(url, alertmanagerPayload(dispatch, externalUrl)) }
}

/** One Events v2 event per alert: `trigger` while it fires (PagerDuty dedups the repeats), `resolve` after. */
export function pagerdutyNotifier(
  options: { key: string; url: string },
  dispatch: Dispatch,
  source: string,
): Notifier {
  return {
    channel: 'pagerduty',
    async send() {
      for (const alert of dispatch.alerts) {
        await postJson(options.url, {
          routing_key: options.key,
          event_action: alert.status === 'firing' ? 'trigger' : 'resolve',
          dedup_key: dedupKey(alert),
          payload: {
            summary: alert.summary.slice(0, 1024),
            source,
            severity: alert.labels.severity === 'page' ? 'critical' : 'warning',
            timestamp: new Date(alert.startsAt).toISOString(),
            custom_details: alert.labels,
          },
        })
      }
    },
  }
}

/** The group as one message: the headline counts what fires, the text lists each alert. */
export function notificationOf(dispatch: Dispatch): Notification {
  const firing = dispatch.alerts.filter((alert) => alert.status === 'firing')
  const resolved = dispatch.alerts.filter((alert) => alert.status === 'resolved')
  const name = dispatch.groupLabels.alertname ?? 'alert'
  const title =
    firing.length > 0
      ? `[FIRING:${firing.length}] ${name}${resolved.length > 0 ? ` (${resolved.length} resolved)` : ''}`
      : `[RESOLVED] ${name}`
  const line = (alert: NotifiedAlert) =>
    `${alert.status === 'firing' ? '🔴' : '✅'} ${alert.summary} (since ${new Date(alert.startsAt).toISOString()})`
  return {
    title,
    text: [...firing, ...resolved].map(line).join('\n'),
    fields: { severity: dispatch.groupLabels.severity ?? '', alerts: String(dispatch.alerts.length) },
    key: dispatch.groupKey,
  }
}
