/** Checks as code: a malformed check is a config error naming the key, the check and the fix. */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../_test/temp.js'
import { resolveShipshapeSettings } from '../server/index.js'
import { monitorOptions } from './_settings.js'

function resolveWith(monitor: unknown) {
  const temp = tempDir()
  const file = join(temp.dir, 'shipshape.json')
  writeFileSync(file, JSON.stringify({ monitor }))
  return resolveShipshapeSettings({ configFile: file, cwd: temp.dir, env: {} })
}

describe('monitor settings', () => {
  it('take checks with Gatus’s defaults, and make the first HTTP check the site', () => {
    const resolution = resolveWith({
      checks: [
        { name: 'db', tcp: 'db.internal:5432' },
        { name: 'home', url: 'https://example.com/', expect: { maxResponseTime: '2s' } },
      ],
      heartbeats: [{ name: 'backup', period: '1d' }],
    })
    expect(resolution.problems).toEqual([])
    const { monitor } = monitorOptions(resolution.values?.monitor as never)
    expect(monitor.checks).toMatchObject([
      {
        name: 'db',
        kind: 'tcp',
        intervalMs: 60_000,
        timeoutMs: 10_000,
        failures: 3,
        successes: 2,
        site: false,
      },
      { name: 'home', kind: 'http', site: true, expect: { maxResponseMs: 2000 } },
    ])
    expect(monitor.heartbeats).toEqual([
      { name: 'backup', periodMs: 86_400_000, graceMs: 300_000, severity: 'chat', labels: {} },
    ])
    expect(monitor).toMatchObject({
      groupWaitMs: 30_000,
      groupIntervalMs: 300_000,
      repeatIntervalMs: 14_400_000,
      quorum: 2,
    })
  })

  it('report each malformed check with its place and what would be right', () => {
    const resolution = resolveWith({
      checks: [
        { name: 'ok', url: 'https://example.com/' },
        { name: 'two targets', url: 'https://example.com/', tcp: 'db:5432' },
        { name: 'api', url: 'ftp://example.com/', expect: { status: ['200'] }, interval: 'soon' },
        { name: 'fast', tcp: 'db:5432', interval: '5s', timeout: '10s' },
        { name: 'ok', dns: 'example.com', extra: true },
      ],
    })
    const problem = resolution.problems.find((entry) => entry.key === 'monitor.checks')
    expect(problem?.source).toMatch(/shipshape\.json/)
    const expected = problem?.expected ?? ''
    expect(expected).toContain('1.name: a name of letters, digits, - _ . (at most 64), such as home-page')
    expect(expected).toContain(
      '1: exactly one target: url: https://…, tcp: host:port, tls: host:port or dns: host (found url and tcp)',
    )
    expect(expected).toContain('2.url: an http:// or https:// URL, or a path of the app such as /healthz')
    expect(expected).toContain('2.expect.status.0: an HTTP status code as a number, such as 200')
    expect(expected).toContain('2.interval: a duration such as 500ms, 5s or 2m')
    expect(expected).toContain('3.timeout: a timeout shorter than the interval')
    expect(expected).toMatch(/4: Unrecognized key: "extra"/)
  })

  it('take recurring maintenance windows, and name a bad zone, day or time', () => {
    const good = resolveWith({
      maintenance: [
        { match: { check: 'api' }, days: ['sun'], start: '02:00', duration: '2h', timeZone: 'Europe/Paris' },
      ],
    })
    expect(good.problems).toEqual([])
    expect(monitorOptions(good.values?.monitor as never).monitor.maintenance).toEqual([
      {
        match: { check: 'api' },
        days: [0],
        startMinute: 120,
        durationMs: 7_200_000,
        timeZone: 'Europe/Paris',
        comment: '',
      },
    ])
    const bad = resolveWith({
      maintenance: [
        {
          match: { check: 'api' },
          days: ['sunday'],
          start: '25:00',
          duration: '2h',
          timeZone: 'Mars/Olympus',
        },
      ],
    })
    const expected = bad.problems.find((entry) => entry.key === 'monitor.maintenance')?.expected ?? ''
    expect(expected).toContain('0.days.0: a weekday: sun, mon, tue, wed, thu, fri, sat')
    expect(expected).toContain('0.start: a local time HH:MM, such as 02:00')
    expect(expected).toContain('0.timeZone: an IANA time zone, such as Europe/Paris or UTC')
  })

  it('read the same checks as code from YAML and TOML files', () => {
    const files = {
      'shipshape.yaml': `monitor:
  checks:
    - name: home
      url: https://example.com/
      expect: { keyword: Welcome }
    - name: mx
      dns: example.com
      recordType: MX
      resolver: 127.0.0.1:53
  heartbeats:
    - { name: backup, period: 1d }
`,
      'shipshape.toml': `[[monitor.checks]]
name = "home"
url = "https://example.com/"
expect = { keyword = "Welcome" }

[[monitor.checks]]
name = "mx"
dns = "example.com"
recordType = "MX"
resolver = "127.0.0.1:53"

[[monitor.heartbeats]]
name = "backup"
period = "1d"
`,
    }
    for (const [name, text] of Object.entries(files)) {
      const temp = tempDir()
      writeFileSync(join(temp.dir, name), text)
      const resolution = resolveShipshapeSettings({
        configFile: join(temp.dir, name),
        cwd: temp.dir,
        env: {},
      })
      expect(resolution.problems).toEqual([])
      const { monitor } = monitorOptions(resolution.values?.monitor as never)
      expect(monitor.checks).toMatchObject([
        { name: 'home', kind: 'http', expect: { keyword: 'Welcome' }, site: true },
        { name: 'mx', kind: 'dns', recordType: 'MX', resolver: '127.0.0.1:53' },
      ])
      expect(monitor.heartbeats.map((beat) => beat.periodMs)).toEqual([86_400_000])
    }
  })

  it('refuse a name used twice', () => {
    const resolution = resolveWith({
      checks: [{ name: 'home', url: 'https://example.com/' }],
      heartbeats: [{ name: 'home', period: '1h' }],
    })
    expect(resolution.problems).toMatchObject([
      { key: 'monitor.checks', expected: 'names used once among checks and heartbeats (home twice)' },
    ])
  })
})
