/**
 * The envelope endpoint under the real `shipshape serve`: the real @sentry/node SDK reports to it
 * and its events land grouped in the real Postgres; hostile envelopes get a 4xx and store nothing.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { ErrorStore } from './_store.js'
import { ownDatabase } from './_test/db.js'

const run = promisify(execFile)
const app = new URL('./_test/app.ts', import.meta.url).pathname
const client = new URL('./_test/sentry-client.mjs', import.meta.url).pathname
const key = 'ingestkey0123'
let db: Awaited<ReturnType<typeof ownDatabase>>
let server: Running

beforeAll(async () => {
  db = await ownDatabase()
  server = await startServe([app, '--workers', '2', '--ingest-keys', key, '--ingest-rate', '40'], {
    DATABASE_URL: db.url,
  })
  await ready(server, 2)
})
afterAll(async () => {
  await server?.stop()
  await db.drop()
})

const post = (body: string | Buffer, headers: Record<string, string> = {}, path = '/api/1/envelope/') =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-sentry-envelope',
      'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${key}`,
      ...headers,
    },
    body,
  })

describe('receiving from Sentry SDKs', () => {
  it('takes the real @sentry/node SDK’s events and groups them into one issue', async () => {
    await run(process.execPath, [client], {
      env: { ...process.env, DSN: `http://${key}@${server.url.slice(7)}/1` },
    })
    const store = new ErrorStore(db.pool)
    // The issue's row is counted a moment before its event's row is written: wait for both.
    const event = await eventuallyPasses(async () => {
      const found = (await store.issues()).find((candidate) => candidate.title.startsWith('Error: card'))
      if (found?.count !== 3) throw new Error(`not yet: ${JSON.stringify(await store.issues())}`)
      const [first] = await store.events(found.id)
      if (first === undefined) throw new Error('no event stored yet')
      return first
    })
    expect(event.tags.kind).toBe('sentry')
    expect(
      event.exception?.values[0]?.stacktrace?.frames.some((frame) => frame.function === 'chargeCard'),
    ).toBe(true)
  })

  it('refuses hostile envelopes with a 4xx, stores nothing of them, and logs no error', async () => {
    const event = JSON.stringify({ event_id: 'a'.repeat(32), message: 'hostile' })
    const cases: [string, Promise<Response>, number][] = [
      [
        'wrong key',
        post(`{}\n{"type":"event"}\n${event}\n`, { 'x-sentry-auth': 'Sentry sentry_key=nope1234' }),
        401,
      ],
      ['no key', post(`{}\n{"type":"event"}\n${event}\n`, { 'x-sentry-auth': '' }), 401],
      ['bad JSON header', post(`{nope\n{"type":"event"}\n${event}\n`), 400],
      ['bad JSON event', post(`{}\n{"type":"event"}\n{"message":\n`), 400],
      ['length past the end', post(`{}\n{"type":"event","length":9999}\n${event}\n`), 400],
      ['negative length', post(`{}\n{"type":"event","length":-1}\n${event}\n`), 400],
      [
        'truncated gzip',
        post(gzipSync(`{}\n{"type":"event"}\n${event}\n`).subarray(0, 20), { 'content-encoding': 'gzip' }),
        400,
      ],
      ['oversized', post(`{}\n{"type":"event"}\n{"message":"${'x'.repeat(1_100_000)}"}\n`), 413],
      [
        'gzip bomb',
        post(gzipSync(`{}\n{"type":"event"}\n{"message":"${'x'.repeat(3_000_000)}"}\n`), {
          'content-encoding': 'gzip',
        }),
        413,
      ],
      ['an array event', post(`{}\n{"type":"event"}\n[1,2]\n`), 400],
      ['GET', fetch(`${server.url}/api/1/envelope/`), 405],
    ]
    for (const [what, reply, status] of cases) expect([what, (await reply).status]).toEqual([what, status])
    // Unknown item types are skipped: 200, nothing stored.
    const skipped = await post(
      `{}\n{"type":"profile_chunk"}\n{"x":1}\n{"type":"attachment","length":3}\nabc\n`,
    )
    expect(skipped.status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 600)) // two drains of the tracker
    const titles = (await new ErrorStore(db.pool).issues()).map((issue) => issue.title)
    expect(titles.filter((title) => !title.startsWith('Error: card'))).toEqual([])
    expect(server.logs.filter((line) => line.level >= 50)).toEqual([])
  })

  it('answers 429 with X-Sentry-Rate-Limits past the rate, counted over both workers, as Sentry does', async () => {
    const envelope = (i: number) => `{}\n{"type":"event"}\n${JSON.stringify({ message: `rated ${i}` })}\n`
    const statuses: number[] = []
    /** The wall-clock minute (the rate's window) of each answer. */
    const minutes: number[] = []
    let limited: Response | undefined
    // A new connection each time: the primary hands them to the two workers in turn.
    for (let i = 0; i < 100 && limited === undefined; i++) {
      const reply = await post(envelope(i), { connection: 'close' })
      statuses.push(reply.status)
      minutes.push(Math.floor(Date.now() / 60_000))
      if (reply.status === 429) limited = reply
    }
    expect(limited?.headers.get('x-sentry-rate-limits')).toMatch(/^\d+::key$/)
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(statuses.slice(0, -1).every((status) => status === 200)).toBe(true)
    // --ingest-rate 40 is the server's, not each worker's: a limit per worker would take ~80 in
    // the refusal's minute (the earlier tests' events of that minute count too).
    const refusedIn = minutes.at(-1)
    const accepted = statuses.filter((status, i) => status === 200 && minutes[i] === refusedIn)
    expect(accepted.length).toBeLessThanOrEqual(40)
  })
})

describe('the rate shared through Redis', () => {
  it('counts every instance’s events together when REDIS_URL is set', async () => {
    // Two instances (their own primaries) sharing a Redis and a key prefix of this test's own.
    const env = {
      REDIS_URL: 'redis://127.0.0.1:6379',
      SHIPSHAPE_CACHE_PREFIX: `ingest-test-${process.pid}-${Date.now()}`,
    }
    const instances = await Promise.all(
      [1, 2].map(() => startServe([app, '--workers', '1', '--ingest-keys', key, '--ingest-rate', '30'], env)),
    )
    try {
      await Promise.all(instances.map((instance) => ready(instance, 1)))
      const statuses: { status: number; minute: number }[] = []
      for (let i = 0; i < 80; i++) {
        const instance = instances[i % 2] as Running
        const reply = await fetch(`${instance.url}/api/1/envelope/`, {
          method: 'POST',
          headers: { 'x-sentry-auth': `Sentry sentry_version=7, sentry_key=${key}` },
          body: `{}\n{"type":"event"}\n${JSON.stringify({ message: `shared ${i}` })}\n`,
        })
        statuses.push({ status: reply.status, minute: Math.floor(Date.now() / 60_000) })
        if (statuses.filter((answer) => answer.status === 429).length >= 2) break
      }
      const refusedIn = statuses.find((answer) => answer.status === 429)?.minute
      expect(refusedIn).toBeDefined()
      // Counted per instance, each would take 30 in that minute: 60 in all.
      expect(
        statuses.filter((answer) => answer.status === 200 && answer.minute === refusedIn).length,
      ).toBeLessThanOrEqual(30)
    } finally {
      await Promise.all(instances.map((instance) => instance.stop()))
    }
  })
})
