/**
 * The alert logic on an injected clock: state changes, quorum, every rule, grouping, repeat,
 * inhibition, silences, flapping and resolved notifications, through hours of incidents.
 */
import { describe, expect, it } from 'vitest'
import { parseDuration } from '../config/index.js'
import { BurnRate, workbookWindows } from './_burn.js'
import { type CheckInput, checkSchema, checksOf, maintenanceOf, maintenanceSchema } from './_checks.js'
import { type Dispatch, Dispatcher, type DispatchOptions } from './_dispatch.js'
import type { Channel } from './_settings.js'
import { CheckStates } from './_state.js'

const second = 1000
const minute = 60 * second
const t0 = Date.UTC(2026, 0, 1)

function setup(
  inputs: CheckInput[],
  options: Partial<DispatchOptions & { quorum: number; flapChanges: number }> = {},
  heartbeats: { name: string; periodMs: number; graceMs: number }[] = [],
) {
  const checks = checksOf(inputs.map((input) => checkSchema.parse(input)))
  const states = new CheckStates(
    { quorum: options.quorum ?? 2, flapChanges: options.flapChanges ?? 4, flapWindowMs: 30 * minute },
    checks,
    heartbeats.map((beat) => ({ ...beat, severity: 'chat' as const, labels: {} })),
    t0,
  )
  const dispatcher = new Dispatcher({
    groupWaitMs: 30 * second,
    groupIntervalMs: 5 * minute,
    repeatIntervalMs: 4 * 60 * minute,
    sendResolved: true,
    maintenance: [],
    routes: [],
    pageChannels: ['pagerduty'],
    chatChannels: ['slack'],
    configured: new Set<Channel>(['pagerduty', 'slack']),
    ...options,
  })
  const sent: (Dispatch & { at: number })[] = []
  /** Runs the clock from `from` to `to`, probing every check each interval with `ok(check, vantage, at)`. */
  const run = (
    from: number,
    to: number,
    ok: (check: string, vantage: string, at: number) => boolean | number,
    vantages = ['a', 'b'],
  ) => {
    for (let at = from; at < to; at += second) {
      for (const check of checks) {
        if ((at - t0) % check.intervalMs !== 0) continue
        for (const vantage of vantages) {
          const outcome = ok(check.name, vantage, at)
          const ms = typeof outcome === 'number' ? outcome : 20
          states.record({
            check: check.name,
            vantage,
            at,
            ok: outcome !== false,
            ms,
            ...(outcome === false ? { error: 'ECONNREFUSED' } : {}),
          })
        }
      }
      for (const dispatch of dispatcher.tick(states.alerts(at), at).dispatches) sent.push({ ...dispatch, at })
    }
  }
  return { states, dispatcher, sent, run }
}

const firing = (dispatch: Dispatch) => dispatch.alerts.filter((alert) => alert.status === 'firing').length

describe('the alert logic', () => {
  it('pages once for an outage seen from two vantage points, within interval × failures + group_wait, then resolves', () => {
    const { sent, run } = setup([{ name: 'home', url: 'https://example.com/', interval: '30s' }])
    const outageStart = t0 + 10 * minute
    const outageEnd = outageStart + 60 * minute
    run(t0, t0 + 6 * 60 * minute, (_check, _vantage, at) => at < outageStart || at >= outageEnd)
    expect(sent.map((d) => [d.groupLabels.alertname, d.status, d.channels.join()])).toEqual([
      ['SiteDown', 'firing', 'pagerduty'],
      ['SiteDown', 'resolved', 'pagerduty'],
    ])
    const [page, resolved] = sent as [Dispatch & { at: number }, Dispatch & { at: number }]
    // The third failed probe is at +60 s (probes at 0, 30, 60 s), then group_wait.
    expect(page.at - outageStart).toBeLessThanOrEqual(30 * second * 3 + 30 * second)
    expect(resolved.at).toBeGreaterThanOrEqual(outageEnd + 30 * second)
  })

  it('repeats an unchanged incident only after repeat_interval', () => {
    const { sent, run } = setup([{ name: 'home', url: 'https://example.com/' }])
    run(t0, t0 + 9 * 60 * minute, () => false)
    const times = sent.map((d) => (d.at - t0) / minute)
    expect(sent.every((d) => d.groupLabels.alertname === 'SiteDown')).toBe(true)
    expect(times.length).toBe(3) // at ~2.5 min, then every 4 h (at the next 5-min flush)
    expect((times[1] as number) - (times[0] as number)).toBeGreaterThanOrEqual(240)
  })

  it('pages nobody when one vantage point of two sees the site down', () => {
    const { sent, run } = setup([{ name: 'home', url: 'https://example.com/' }])
    run(t0, t0 + 30 * minute, (_check, vantage) => vantage === 'a')
    expect(sent).toEqual([])
  })

  it('groups 50 endpoints failing together into one notification', () => {
    const inputs: CheckInput[] = [{ name: 'home', url: 'https://example.com/', site: true }]
    for (let i = 0; i < 50; i++) inputs.push({ name: `api-${i}`, url: `https://example.com/api/${i}` })
    const { sent, run } = setup(inputs)
    run(t0, t0 + 20 * minute, (check) => check === 'home')
    expect(sent).toHaveLength(1)
    expect(sent[0]?.groupLabels.alertname).toBe('CheckFailing')
    expect(firing(sent[0] as Dispatch)).toBe(50)
    expect(sent[0]?.channels).toEqual(['slack'])
  })

  it('mutes per-endpoint and latency alerts while the site is down (inhibition)', () => {
    const { sent, run } = setup([
      { name: 'home', url: 'https://example.com/', site: true },
      { name: 'api', url: 'https://example.com/api', latency: '1s' },
    ])
    run(t0, t0 + 20 * minute, (check) => (check === 'api' ? 5000 : false))
    expect(sent.map((d) => d.groupLabels.alertname)).toEqual(['SiteDown'])
  })

  it('says nothing of silenced alerts, and ends an until-resolved silence once its alert resolves', () => {
    const { sent, run, dispatcher } = setup([{ name: 'home', url: 'https://example.com/' }])
    dispatcher.setSilences([
      {
        id: 's1',
        match: { check: 'home' },
        from: t0,
        until: Number.POSITIVE_INFINITY,
        comment: '',
        untilResolved: true,
      },
    ])
    const end = t0 + 30 * minute
    run(t0, t0 + 60 * minute, (_c, _v, at) => at < t0 + 10 * minute || at >= end)
    expect(sent).toEqual([])
    expect(dispatcher.silenced({ check: 'home' }, t0 + 61 * minute)).toBe(false)
  })

  it('keeps quiet in a weekly maintenance window in its time zone, every week, summer and winter, and speaks after it', () => {
    const weekly = maintenanceOf(
      maintenanceSchema.parse({
        match: { check: 'home' },
        days: ['sun'],
        start: '02:00',
        duration: '2h',
        timeZone: 'Europe/Paris',
      }),
    )
    // 2026-01-04 is a Sunday; Paris is UTC+1 in January, UTC+2 in July (2026-07-05, a Sunday).
    const sunday = Date.UTC(2026, 0, 4)
    const { sent, run, dispatcher } = setup([{ name: 'home', url: 'https://example.com/' }], {
      maintenance: [weekly],
    })
    const silenced = (at: number) => dispatcher.silenced({ check: 'home', alertname: 'SiteDown' }, at)
    expect(silenced(sunday + 59 * minute)).toBe(false)
    expect(silenced(sunday + 60 * minute)).toBe(true)
    expect(silenced(sunday + 179 * minute)).toBe(true)
    expect(silenced(sunday + 180 * minute)).toBe(false)
    expect(silenced(sunday + 7 * 1440 * minute + 90 * minute)).toBe(true)
    expect(silenced(sunday + 1440 * minute + 90 * minute)).toBe(false) // Monday
    expect(silenced(Date.UTC(2026, 6, 5, 0, 30))).toBe(true)
    expect(silenced(Date.UTC(2026, 6, 5, 2, 30))).toBe(false)
    expect(dispatcher.silenced({ check: 'api' }, sunday + 90 * minute)).toBe(false)
    // The site down through the window: nothing while it runs, the page once it is over.
    run(sunday + 60 * minute, sunday + 200 * minute, () => false)
    expect(sent.map((d) => [d.groupLabels.alertname, d.status])).toEqual([['SiteDown', 'firing']])
    expect(sent[0]?.at).toBe(sunday + 180 * minute + 30 * second)
  })

  it('runs a daily window past midnight, and a Saturday one into Sunday', () => {
    const window = (input: Record<string, unknown>) =>
      maintenanceOf(maintenanceSchema.parse({ match: { team: 'db' }, ...input }))
    const { dispatcher } = setup([], {
      maintenance: [
        window({ start: '23:30', duration: '1h' }),
        window({ days: ['sat'], start: '23:00', duration: '3h', match: { team: 'web' } }),
      ],
    })
    const saturday = Date.UTC(2026, 0, 3)
    expect(dispatcher.silenced({ team: 'db' }, saturday + 23 * 60 * minute + 45 * minute)).toBe(true)
    expect(dispatcher.silenced({ team: 'db' }, saturday + 24 * 60 * minute + 29 * minute)).toBe(true)
    expect(dispatcher.silenced({ team: 'db' }, saturday + 24 * 60 * minute + 30 * minute)).toBe(false)
    expect(dispatcher.silenced({ team: 'web' }, saturday + 25 * 60 * minute + 59 * minute)).toBe(true)
    expect(dispatcher.silenced({ team: 'web' }, saturday + 26 * 60 * minute)).toBe(false)
    expect(dispatcher.silenced({ team: 'web' }, saturday - 60 * minute)).toBe(false) // Friday 23:00
  })

  it('holds a flapping check down: one notification, not one per flip', () => {
    const { sent, run } = setup([{ name: 'home', url: 'https://example.com/', failures: 1, successes: 1 }], {
      quorum: 1,
    })
    // Up and down every 2 minutes for 40 minutes, then steady.
    run(
      t0,
      t0 + 120 * minute,
      (_c, _v, at) => at >= t0 + 40 * minute || Math.floor((at - t0) / (2 * minute)) % 2 === 0,
      ['a'],
    )
    expect(sent.map((d) => d.status)).toEqual(['firing', 'resolved'])
  })

  it('alerts on latency, on a certificate near its expiry and on missed, failed and unfinished heartbeats', () => {
    const { states } = setup(
      [
        { name: 'slow', url: 'https://example.com/', latency: '500ms' },
        { name: 'cert', tls: 'example.com:443', certExpiry: '14d' },
      ],
      { quorum: 1 },
      [{ name: 'backup', periodMs: 60 * minute, graceMs: 10 * minute }],
    )
    for (let i = 0; i < 3; i++) {
      states.record({ check: 'slow', vantage: 'a', at: t0 + i * minute, ok: true, ms: 900 })
      states.record({
        check: 'cert',
        vantage: 'a',
        at: t0 + i * minute,
        ok: true,
        ms: 5,
        certExpiresAt: t0 + 3 * 86_400_000,
      })
    }
    const names = (at: number) =>
      [...states.alerts(at).values()].map((alert) => alert.labels.alertname).sort()
    expect(names(t0 + 3 * minute)).toEqual(['CertificateExpiring', 'LatencyHigh'])
    expect(names(t0 + 71 * minute)).toContain('HeartbeatMissed')
    states.ping({ heartbeat: 'backup', kind: 'success', at: t0 + 72 * minute })
    expect(names(t0 + 73 * minute)).not.toContain('HeartbeatMissed')
    states.ping({ heartbeat: 'backup', kind: 'fail', at: t0 + 74 * minute, exitCode: 3 })
    const failed = [...states.alerts(t0 + 74 * minute).values()].find(
      (a) => a.labels.alertname === 'HeartbeatMissed',
    )
    expect(failed?.summary).toContain('exit code 3')
    states.ping({ heartbeat: 'backup', kind: 'success', at: t0 + 75 * minute })
    states.ping({ heartbeat: 'backup', kind: 'start', at: t0 + 80 * minute })
    expect(names(t0 + 89 * minute)).not.toContain('HeartbeatMissed')
    expect(names(t0 + 91 * minute)).toContain('HeartbeatMissed')
  })

  it('routes by label first, and sends pages to chat when no pager is set up', () => {
    const { sent, run } = setup(
      [
        { name: 'home', url: 'https://example.com/' },
        { name: 'db', tcp: 'db:5432', labels: { team: 'db' } },
      ],
      {
        configured: new Set<Channel>(['slack', 'email']),
        routes: [{ match: { team: 'db' }, channels: ['email'] }],
      },
    )
    // The database first; the site later (its page then mutes the database's alert).
    run(t0, t0 + 15 * minute, (check, _v, at) => check === 'home' && at < t0 + 5 * minute)
    expect(sent.map((d) => [d.groupLabels.alertname, d.channels.join()])).toEqual([
      ['CheckFailing', 'email'],
      ['SiteDown', 'slack'],
    ])
  })

  it('keeps quiet about a group resolved before group_wait ended', () => {
    const { sent, run } = setup([
      {
        name: 'home',
        url: 'https://example.com/',
        interval: '10s',
        timeout: '5s',
        failures: 1,
        successes: 1,
      },
    ])
    run(t0, t0 + 10 * minute, (_c, _v, at) => at < t0 + minute || at >= t0 + minute + 10 * second)
    expect(sent).toEqual([])
  })
})

const presets = workbookWindows.map((window) => ({
  severity: window.severity,
  factor: window.factor,
  longMs: parseDuration(window.long) as number,
  shortMs: parseDuration(window.short) as number,
}))

describe('error-budget burn', () => {
  it('pages at 14.4× over 1 h and 5 min, tickets at 1× over 3 days and 6 h, and ignores a trickle of traffic', () => {
    const burn = new BurnRate(0.999, presets)
    let total = 0
    let errors = 0
    const at = (ms: number) => t0 + ms
    // Three days at 0.2 % errors (2× the budget), then an hour at 2 % (20×).
    for (let ms = 0; ms <= 3 * 24 * 60 * minute; ms += 30 * second) {
      total += 1000
      errors += 2
      burn.add({ at: at(ms), total, errors })
    }
    const calm = burn.burning(at(3 * 24 * 60 * minute))
    expect(calm.map(({ window }) => [window.severity, window.factor])).toEqual([['chat', 1]])
    const start = 3 * 24 * 60 * minute
    for (let ms = start; ms <= start + 60 * minute; ms += 30 * second) {
      total += 1000
      errors += 20
      burn.add({ at: at(ms), total, errors })
    }
    // 1 h at 20×: the fast page; over 6 h, (5 × 2 + 20) / 6 = 5×, under the slower page's 6×.
    const hot = burn.burning(at(start + 60 * minute)).map(({ window }) => window.factor)
    expect(hot).toEqual([14.4, 1])
    const trickle = new BurnRate(0.999, presets)
    trickle.add({ at: t0, total: 0, errors: 0 })
    trickle.add({ at: t0 + 10 * minute, total: 20, errors: 10 })
    expect(trickle.burning(t0 + 10 * minute)).toEqual([])
  })
})
