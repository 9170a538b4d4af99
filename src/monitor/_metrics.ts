/**
 * The monitor's metrics on the primary's /metrics: each check's state and its probes per vantage
 * point, uptime over 24 h / 7 d / 30 d, certificate expiry, the alerts firing and the
 * notifications sent or failed per channel. Plain string building, as the primary's own metrics.
 */
import type { DeliveryCounts } from '../observe/index.js'
import type { Alert, CheckStatus } from './_state.js'
import type { Uptime } from './_store.js'

export interface MonitorFigures {
  status: CheckStatus[]
  alerts: Alert[]
  uptimes: Uptime[]
  counts: DeliveryCounts
}

/** Prometheus text, or OpenMetrics (counters lose `_total` in their family lines). */
export function renderMetrics(
  openMetrics: boolean,
  { status, alerts, uptimes, counts }: MonitorFigures,
): string {
  const out: string[] = []
  const family = (name: string, type: 'gauge' | 'counter', help: string) => {
    const base = openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name
    out.push(`# HELP ${base} ${help}\n# TYPE ${base} ${type}\n`)
  }
  const label = (value: string) => value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))
  family(
    'shipshape_monitor_check_up',
    'gauge',
    'Whether the check is up (1), as the alert rules see it over every vantage point.',
  )
  for (const check of status)
    out.push(`shipshape_monitor_check_up{check="${label(check.name)}"} ${check.up ? 1 : 0}\n`)
  family(
    'shipshape_monitor_probe_up',
    'gauge',
    'Whether the latest probe of the check from the vantage point succeeded.',
  )
  for (const check of status)
    for (const v of check.vantages)
      out.push(
        `shipshape_monitor_probe_up{check="${label(check.name)}",vantage="${label(v.vantage)}"} ${v.up ? 1 : 0}\n`,
      )
  family('shipshape_monitor_probe_duration_seconds', 'gauge', 'How long the latest probe took.')
  for (const check of status)
    for (const v of check.vantages)
      out.push(
        `shipshape_monitor_probe_duration_seconds{check="${label(check.name)}",vantage="${label(v.vantage)}"} ${v.ms / 1000}\n`,
      )
  family(
    'shipshape_monitor_uptime_ratio',
    'gauge',
    'Successful probes over all probes of the check, every vantage point counted.',
  )
  for (const uptime of uptimes)
    for (const [window, value] of [
      ['24h', uptime.day],
      ['7d', uptime.week],
      ['30d', uptime.month],
    ] as const)
      if (value !== undefined)
        out.push(
          `shipshape_monitor_uptime_ratio{check="${label(uptime.check)}",window="${window}"} ${value}\n`,
        )
  family(
    'shipshape_monitor_cert_expiry_timestamp_seconds',
    'gauge',
    'When the certificate of the check expires.',
  )
  for (const check of status)
    if (check.certExpiresAt !== undefined)
      out.push(
        `shipshape_monitor_cert_expiry_timestamp_seconds{check="${label(check.name)}"} ${check.certExpiresAt / 1000}\n`,
      )
  family(
    'shipshape_monitor_alerts_firing',
    'gauge',
    'Alerts whose condition holds now, by rule and severity.',
  )
  const firing = new Map<string, number>()
  for (const alert of alerts) {
    const key = `alertname="${label(alert.labels.alertname ?? '')}",severity="${label(alert.labels.severity ?? '')}"`
    firing.set(key, (firing.get(key) ?? 0) + 1)
  }
  for (const [key, count] of firing) out.push(`shipshape_monitor_alerts_firing{${key}} ${count}\n`)
  family(
    'shipshape_monitor_notifications_total',
    'counter',
    'Notifications by channel: sent, or failed after every retry.',
  )
  for (const [outcome, byChannel] of [
    ['sent', counts.sent],
    ['failed', counts.failed],
  ] as const)
    for (const [channel, count] of Object.entries(byChannel))
      out.push(
        `shipshape_monitor_notifications_total{channel="${label(channel)}",outcome="${outcome}"} ${count}\n`,
      )
  return out.join('')
}
