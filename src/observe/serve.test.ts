/**
 * Error tracking and metrics through the real `shipshape serve` with 2 workers: errors from the
 * app, timeouts, crashes and watchdog kills land grouped in the real Postgres; /metrics on its own
 * listener sums every worker.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { ErrorStore } from './_store.js'
import { ownDatabase } from './_test/db.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
let db: Awaited<ReturnType<typeof ownDatabase>>
let server: Running | undefined

beforeAll(async () => {
  db = await ownDatabase()
})
afterEach(async () => {
  await server?.stop()
  server = undefined
})
afterAll(async () => {
  await db.drop()
})

describe('error tracking under serve', () => {
  it('groups app errors, timeouts, crashes and watchdog kills into issues, each logged with its issue id', async () => {
    server = await startServe(
      [
        app,
        '--workers',
        '2',
        '--timeout',
        '1s',
        '--watchdog-timeout',
        '1s',
        '--release',
        'r-test',
        '--metrics-bind',
        '127.0.0.1:0',
      ],
      {
        DATABASE_URL: db.url,
      },
    )
    await ready(server, 2)
    const replies = await Promise.all(
      [1, 2, 3, 4, 5, 6].map((id) => get(`${server?.url}/fail/${id}?token=abc&page=2`)),
    )
    expect(replies.map((reply) => reply.status)).toEqual([500, 500, 500, 500, 500, 500])
    const store = new ErrorStore(db.pool)
    const failure = await eventuallyPasses(async () => {
      const issues = await store.issues()
      const found = issues.find((issue) => issue.title.startsWith('Error: order'))
      if (found?.count !== 6) throw new Error(`not yet: ${JSON.stringify(issues)}`)
      return found
    })
    expect(failure.culprit).toContain('src/observe/_test/app.ts')
    await server.waitForLog(
      () => server?.logs.filter((l) => l.msg === 'the app failed to handle the request').length === 6,
      'the six error lines',
    )
    const lines = server.logs.filter((l) => l.msg === 'the app failed to handle the request')
    expect(new Set(lines.map((l) => l.issue))).toEqual(new Set([failure.id]))
    expect(new Set(lines.map((l) => l.requestId))).toEqual(
      new Set(replies.map((reply) => reply.headers['x-request-id'])),
    )
    expect(lines[0]?.err).toMatchObject({ message: expect.stringMatching(/^order \d could not be loaded$/) })
    const [event] = await store.events(failure.id)
    expect(event).toMatchObject({
      release: 'r-test',
      level: 'error',
      tags: { route: '/fail/:id', kind: 'request' },
      request: { method: 'GET', query_string: 'token=[Filtered]&page=2' },
      user: { id: 'u-7', email: 'ann@example.com' },
    })
    expect(event?.user).not.toHaveProperty('password')
    expect(event?.request?.headers).not.toHaveProperty('cookie')
    const frame = event?.exception?.values[0]?.stacktrace?.frames.at(-1)
    expect(frame).toMatchObject({ filename: 'src/observe/_test/app.ts', in_app: true })
    expect(frame?.context_line).toContain('could not be loaded')
    expect(event?.breadcrumbs?.values).toEqual([
      expect.objectContaining({
        category: 'log',
        message: 'loading the order',
        data: { order: expect.stringMatching(/^\d$/), token: '[Redacted]' },
      }),
      expect.objectContaining({ category: 'query', message: expect.stringMatching(/^select \?.* as id \(/) }),
    ])

    // One fault at a time: a worker the watchdog kills loses what it had not yet stored.
    const recorded = (kind: string, count: number) =>
      server?.waitForLog(
        () =>
          (server?.logs.filter((l) => l.msg.startsWith(`${kind} recorded as issue`)).length ?? 0) >= count,
        `${count} ${kind} line(s)`,
      )
    expect((await get(`${server.url}/hang`)).status).toBe(503)
    await recorded('timeout', 1)
    // A request awaiting something that honours its signal: the event has the await's location.
    expect((await get(`${server.url}/slow-report`)).status).toBe(503)
    await recorded('timeout', 2)
    const slow = await eventuallyPasses(async () => {
      const events = await Promise.all((await store.issues()).map((issue) => store.events(issue.id)))
      const found = events.flat().find((e) => e.request?.url.endsWith('/slow-report'))
      if (!found) throw new Error('not yet')
      return found
    })
    const frames = slow.exception?.values[0]?.stacktrace?.frames ?? []
    expect(frames.at(-1)).toMatchObject({ filename: 'src/observe/_test/app.ts', in_app: true })
    // The function awaiting (at its end: timers/promises settles from native code), its caller at its await.
    expect(frames.at(-1)?.function).toMatch(/loadSlowReport$/)
    expect(frames.at(-2)).toMatchObject({ filename: 'src/observe/_test/app.ts', function: 'app' })
    expect(frames.at(-2)?.context_line).toContain('await loadSlowReport(')
    await get(`${server.url}/crash`)
    await recorded('crash', 1)
    await ready(server, 3)
    await get(`${server.url}/reject`)
    await recorded('crash', 2)
    await ready(server, 4)
    // The worker is idle when it admits it, so it sends a heartbeat naming it at once (_worker.ts).
    await get(`${server.url}/block?ms=4000`).catch(() => undefined)
    const titles = await eventuallyPasses(async () => {
      const all = (await store.issues()).map((issue) => issue.title)
      const wanted = [
        'request timed out',
        'the app crashed on purpose',
        'a promise nobody awaited',
        'worker killed by the watchdog',
      ]
      if (!wanted.every((text) => all.some((title) => title.includes(text))))
        throw new Error(`not yet: ${all}`)
      return all
    }, 30_000)
    expect(titles.length).toBe(6) // a timeout per route
    // The kill's event names the requests the worker held (the primary's last heartbeat of it).
    const kill = (await store.issues()).find((issue) => issue.title.includes('worker killed by the watchdog'))
    const killEvent = await eventuallyPasses(async () => {
      const [stored] = await store.events(kill?.id as string)
      if (!stored) throw new Error('the event not stored yet')
      return stored
    })
    expect(killEvent?.extra.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/block' })])
    expect(
      server.logs.some((l) => typeof l.issue === 'string' && l.msg.startsWith('crash recorded as issue')),
    ).toBe(true)

    // The primary counted what only it sees: one watchdog kill, three workers replaced (two
    // crashes and the kill), then a reload (SIGHUP). Timeouts are the workers' own, summed.
    const { metricsUrl } = await server.waitForLog((l) => typeof l.metricsUrl === 'string', 'serving metrics')
    const counter = (text: string, name: string) =>
      Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1])
    await eventuallyPasses(async () => {
      const { body } = await get(metricsUrl as string)
      expect(counter(body, 'shipshape_watchdog_kills_total')).toBe(1)
      expect(counter(body, 'shipshape_worker_restarts_total')).toBe(3)
      expect(counter(body, 'shipshape_reloads_total')).toBe(0)
      expect(counter(body, 'shipshape_request_timeouts_total')).toBeGreaterThanOrEqual(2)
      expect(counter(body, 'shipshape_errors_captured_total')).toBeGreaterThanOrEqual(8)
    })
    server.child.kill('SIGHUP')
    await eventuallyPasses(async () => {
      expect(counter((await get(metricsUrl as string)).body, 'shipshape_reloads_total')).toBe(1)
    })
  })
})

describe('metrics under serve', () => {
  it('serves the whole server’s metrics on their own listener, summed over workers, with the machine’s', async () => {
    server = await startServe([app, '--workers', '2', '--metrics-bind', '127.0.0.1:0'])
    await ready(server, 2)
    const { metricsUrl } = await server.waitForLog((l) => typeof l.metricsUrl === 'string', 'serving metrics')
    for (let id = 0; id < 20; id++) await get(`${server.url}/items/${id}`)
    const pids = new Set<number>()
    const text = await eventuallyPasses(async () => {
      const reply = await get(metricsUrl as string)
      const count = /http_requests_total\{method="GET",route="\/items\/:id",status_code="200"\} (\d+)/.exec(
        reply.body,
      )
      if (Number(count?.[1]) !== 20) throw new Error(`not yet:\n${reply.body.slice(0, 500)}`)
      expect(reply.headers['content-type']).toContain('text/plain; version=0.0.4')
      return reply.body
    })
    for (const match of text.matchAll(/nodejs_heap_size_used_bytes\{process="worker",pid="(\d+)"\}/g))
      pids.add(Number(match[1]))
    expect(pids.size).toBe(2)
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{method="GET",route="\/items\/:id",status_code="200",le="\+Inf"\} 20/,
    )
    for (const name of [
      'node_cpu_seconds_total{cpu="0",mode="idle"}',
      'nodejs_eventloop_lag_p99_seconds{process="worker",pid=',
      'node_memory_MemAvailable_bytes',
      'node_load1',
      'node_filesystem_avail_bytes{mountpoint=',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'shipshape_worker_restarts_total 0',
      'http_requests_in_flight',
    ])
      expect(text).toContain(name)
    // OpenMetrics when asked; never on the public port.
    const open = await fetch(metricsUrl as string, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    })
    expect(open.headers.get('content-type')).toContain('application/openmetrics-text')
    const body = await open.text()
    expect(body.endsWith('# EOF\n')).toBe(true)
    expect(body).toContain('# TYPE http_requests counter')
    expect((await get(`${server.url}/metrics`)).body).toBe('ok\n')
  })

  it('sums the capabilities’ families over the workers, as the HTTP series', async () => {
    server = await startServe([app, '--workers', '2', '--metrics-bind', '127.0.0.1:0'])
    await ready(server, 2)
    const { metricsUrl } = await server.waitForLog((l) => typeof l.metricsUrl === 'string', 'serving metrics')
    // New connections each time, so both workers serve some: each counts its own misses.
    const servedBy = new Map<string, number>()
    for (let id = 0; id < 40; id++) {
      const pid = (await get(`${server.url}/cached/${id}`)).body.trim()
      servedBy.set(pid, (servedBy.get(pid) ?? 0) + 1)
    }
    expect(servedBy.size).toBe(2)
    await eventuallyPasses(async () => {
      const { body } = await get(metricsUrl as string)
      const misses = /^shipshape_cache_misses_total\{cache="default"\} (\d+)$/m.exec(body)?.[1]
      if (Number(misses) !== 40) throw new Error(`not yet: ${misses}\n${body.slice(-1500)}`)
      expect(body).toContain('# TYPE shipshape_cache_misses_total counter')
      expect(body).toMatch(/^shipshape_cache_bytes\{cache="default"\} [1-9]\d*$/m)
    })
  })
})
