/** The error store and tracker on the real Postgres, with real SMTP and HTTP receivers. */
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ErrorEvent } from './_event.js'
import { deliver, slackNotifier, smtpNotifier, webhookNotifier } from './_notify.js'
import { ErrorStore, type Occurrence } from './_store.js'
import { ownDatabase } from './_test/db.js'
import { httpReceiver, smtpReceiver } from './_test/receivers.js'
import { createTracker } from './_tracker.js'

let db: Awaited<ReturnType<typeof ownDatabase>>
beforeAll(async () => {
  db = await ownDatabase()
})
afterAll(async () => {
  await db.drop()
})

const silent = pino({ level: 'silent' })
let serial = 0
function occurrence(issue: string, release?: string, at = new Date(), count = 1): Occurrence {
  const event = {
    event_id: `e${++serial}${Math.random().toString(16).slice(2)}`,
    timestamp: at.getTime() / 1000,
    level: 'error',
    tags: {},
    extra: {},
  } as unknown as ErrorEvent
  return {
    issue,
    title: 'Error: boom',
    culprit: 'app.ts in handler',
    level: 'error',
    release,
    count,
    event,
    at,
  }
}

describe('the error store', () => {
  it('counts tag values per issue, and past 100 values of a key counts new ones as (other)', async () => {
    const store = new ErrorStore(db.pool)
    const tagged = (tags: { key: string; value: string; count: number }[]) => ({
      ...occurrence('tagged'),
      tags,
    })
    await store.record(tagged([{ key: 'tenant', value: 'acme', count: 3 }]))
    // One write of 120 distinct order ids (a tag with a value per event), and acme again.
    await store.record(
      tagged([
        ...Array.from({ length: 120 }, (_, i) => ({ key: 'order', value: `o${i}`, count: 1 })),
        { key: 'tenant', value: 'acme', count: 2 },
      ]),
    )
    await store.record(tagged([{ key: 'order', value: 'o200', count: 5 }]))
    const tags = await store.tags('tagged', 200)
    const order = tags.find((entry) => entry.key === 'order')
    expect(tags.find((entry) => entry.key === 'tenant')).toEqual({
      key: 'tenant',
      total: 5,
      values: [{ value: 'acme', count: 5 }],
    })
    // 100 of the 120 kept, 20 counted as (other); then the next new value goes there too.
    expect(order?.total).toBe(125)
    expect(order?.values).toContainEqual({ value: '(other)', count: 25 })
    expect(order?.values).toHaveLength(101)
    const top = await store.tags('tagged', 3)
    expect(top.find((entry) => entry.key === 'order')?.values).toEqual([
      { value: '(other)', count: 25 },
      { value: 'o0', count: 1 },
      { value: 'o1', count: 1 },
    ])
  })

  it('tracks first and last seen, counts, per-release counts, regressions and mutes', async () => {
    const store = new ErrorStore(db.pool)
    const first = new Date('2026-12-01T10:00:00Z')
    expect(await store.record(occurrence('life', 'v1', first))).toBe('new')
    expect(await store.record(occurrence('life', 'v1', new Date('2026-12-01T10:05:00Z'), 4))).toBeUndefined()
    expect(await store.record(occurrence('life', 'v2', new Date('2026-12-01T10:06:00Z')))).toBeUndefined()
    const issue = await store.issue('life')
    expect(issue).toMatchObject({ count: 6, status: 'unresolved', releases: { v1: 5, v2: 1 } })
    expect(issue?.firstSeen.toISOString()).toBe(first.toISOString())
    expect(issue?.lastSeen.toISOString()).toBe('2026-12-01T10:06:00.000Z')

    // Resolved for good: any later event is a regression.
    await store.resolve('life')
    expect(await store.record(occurrence('life', 'v2'))).toBe('regression')
    expect((await store.issue('life'))?.status).toBe('unresolved')
    // Resolved in v3: events from the releases already seen (v1, v2) do not reopen it; v3's do.
    await store.resolve('life', 'v3')
    expect(await store.record(occurrence('life', 'v1'))).toBeUndefined()
    expect((await store.issue('life'))?.status).toBe('resolved')
    expect(await store.record(occurrence('life', 'v3'))).toBe('regression')

    // Muted for 3 more events; then until a date already past; then for good.
    await store.mute('life', { count: 3 })
    expect(await store.record(occurrence('life'))).toBeUndefined()
    expect(await store.record(occurrence('life'))).toBeUndefined()
    expect(await store.record(occurrence('life'))).toBe('unmuted')
    await store.mute('life', { date: new Date(Date.now() + 3_600_000) })
    expect(await store.record(occurrence('life'))).toBeUndefined()
    await store.mute('life', { date: new Date(Date.now() - 1000) })
    expect(await store.record(occurrence('life'))).toBe('unmuted')
    await store.mute('life')
    for (let i = 0; i < 5; i++) expect(await store.record(occurrence('life'))).toBeUndefined()
    expect((await store.issue('life'))?.status).toBe('muted')
  })

  it('reports a spike: a minute at many times the issue’s past rate', async () => {
    const store = new ErrorStore(db.pool)
    const start = Date.now() - 3 * 3_600_000
    expect(await store.record(occurrence('spiky', undefined, new Date(start), 60))).toBe('new')
    expect(
      await store.record(occurrence('spiky', undefined, new Date(Date.now() - 60_000), 1)),
    ).toBeUndefined()
    expect(await store.record(occurrence('spiky', undefined, new Date(), 500))).toBe('spike')
  })

  it('lets exactly one of two instances sharing the database create an issue and claim its notification', async () => {
    const [a, b] = [new ErrorStore(db.pool), new ErrorStore(db.pool)]
    const reasons = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).record(occurrence('shared'))),
    )
    expect(reasons.filter((reason) => reason === 'new')).toHaveLength(1)
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claimNotification('shared', 60_000)),
    )
    expect(claims.filter(Boolean)).toHaveLength(1)
    // Past the interval, one more.
    expect(await a.claimNotification('shared', 60_000, new Date(Date.now() + 61_000))).toBe(true)
  })

  it('keeps the first events and a sample, and applies retention', async () => {
    const store = new ErrorStore(db.pool, { keepFirst: 3, maxEventsPerIssue: 5, retentionMs: 86_400_000 })
    for (let i = 0; i < 40; i++) await store.record(occurrence('sampled'))
    const stored = (await store.issue('sampled'))?.events ?? 0
    expect(stored).toBeGreaterThanOrEqual(3)
    expect(stored).toBeLessThan(40)
    await store.record(occurrence('stale', undefined, new Date(Date.now() - 2 * 86_400_000)))
    await store.prune()
    expect((await store.issue('sampled'))?.events).toBeLessThanOrEqual(5)
    expect((await store.issue('sampled'))?.count).toBe(40)
    expect(await store.issue('stale')).toBeUndefined()
  })

  it('bounds the events kept in all, the oldest going first, the issues and their counts kept', async () => {
    const store = new ErrorStore(db.pool, { maxEvents: 5, retentionMs: 86_400_000 })
    for (let i = 0; i < 4; i++) await store.record(occurrence(`bounded-${i}`))
    for (let i = 0; i < 4; i++) await store.record(occurrence(`bounded-${i}`))
    await store.prune()
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM shipshape_events')
    expect(rows[0].n).toBe(5)
    // The newest five survive: the second round's four and the last of the first.
    const kept = await Promise.all([0, 1, 2, 3].map(async (i) => (await store.issue(`bounded-${i}`))?.events))
    expect(kept).toEqual([1, 1, 1, 2])
    for (let i = 0; i < 4; i++) expect((await store.issue(`bounded-${i}`))?.count).toBe(2)
  })
})

describe('notifications', () => {
  it('sends exactly 1 notification for 10,000 identical errors in a minute, through two instances, on every channel', async () => {
    const [smtp, webhook, slack] = [await smtpReceiver(), await httpReceiver(), await httpReceiver()]
    const notifiers = [
      smtpNotifier({ url: smtp.url, from: 'shipshape@example.com', to: ['ops@example.com'] }),
      webhookNotifier(webhook.url),
      slackNotifier(slack.url),
    ]
    const trackers = [0, 1].map(() =>
      createTracker({
        logger: silent,
        store: new ErrorStore(db.pool),
        notifiers,
        identity: { environment: 'test', release: 'r1' },
      }),
    )
    for (let i = 0; i < 10_000; i++) {
      trackers[i % 2]?.capture(new Error(`payment ${i} declined`), { fingerprint: ['flood'] })
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
    await Promise.all(trackers.map((tracker) => tracker.flush()))
    expect(smtp.mails).toHaveLength(1)
    expect(smtp.mails[0]).toContain('Subject: New issue [test]: Error: payment')
    expect(webhook.bodies).toHaveLength(1)
    expect(webhook.bodies[0]).toMatchObject({
      title: expect.stringContaining('New issue'),
      fields: { release: 'r1' },
    })
    expect(slack.bodies).toHaveLength(1)
    expect(slack.bodies[0]).toMatchObject({
      text: expect.stringContaining('New issue'),
      blocks: expect.any(Array),
    })
    const issue = await new ErrorStore(db.pool).issues()
    expect(issue.find((candidate) => candidate.title.startsWith('Error: payment'))?.count).toBe(10_000)
    await Promise.all([smtp.close(), webhook.close(), slack.close()])
  })

  it('retries a failing channel, then counts and logs the failure instead of retrying forever', async () => {
    const flaky = await httpReceiver(2)
    const dead = await httpReceiver(Number.POSITIVE_INFINITY)
    const lines: Record<string, unknown>[] = []
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
    const counts = { sent: {}, failed: {} } as {
      sent: Record<string, number>
      failed: Record<string, number>
    }
    await deliver(
      [webhookNotifier(flaky.url), slackNotifier(dead.url)],
      { title: 't', text: 'x', key: 'k' },
      logger,
      counts,
      { attempts: 3, backoffMs: 10 },
    )
    expect(flaky.attempts()).toBe(3)
    expect(flaky.bodies).toHaveLength(1)
    expect(dead.attempts()).toBe(3)
    expect(counts).toEqual({ sent: { webhook: 1 }, failed: { slack: 1 } })
    expect(lines.find((line) => line.level === 50)).toMatchObject({ channel: 'slack', attempts: 3, key: 'k' })
    await Promise.all([flaky.close(), dead.close()])
  })
})
