/**
 * The app's own reports, captureError() and captureMessage(), from requests to the real
 * `shipshape serve`, stored in the real Postgres: tags, extra, level and fingerprint as given, and
 * the identity (release, environment, server name) and request every event carries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, ready, startServe } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import { ErrorStore } from './_store.js'
import { ownDatabase } from './_test/db.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
let db: Awaited<ReturnType<typeof ownDatabase>>
beforeAll(async () => {
  db = await ownDatabase()
})
afterAll(async () => {
  await db.drop()
})

describe('captureError and captureMessage', () => {
  it('store the tags, extra, level and fingerprint given, with the request and the server’s identity', async () => {
    const server = await startServe(
      [app, '--workers', '1', '--release', 'r-9', '--environment', 'staging', '--server-name', 'web-3'],
      { DATABASE_URL: db.url },
    )
    const store = new ErrorStore(db.pool)
    try {
      await ready(server, 1)
      // No --metrics-bind: no metrics listener (off by default).
      expect(server.logs.some((line) => 'metricsUrl' in line)).toBe(false)
      for (const path of [
        '/captured/7',
        '/captured/8?token=abc',
        '/captured/9?grouped',
        '/captured/10?grouped',
      ])
        expect(
          (
            await fetch(`${server.url}${path}`, {
              headers: { cookie: 'sid=secret', authorization: 'Bearer secret' },
            })
          ).status,
        ).toBe(200)
      expect((await get(`${server.url}/message`)).status).toBe(200)
      await eventuallyPasses(async () => {
        const issues = await store.issues()
        const counts = issues.map((issue) => issue.count)
        if (counts.reduce((sum, count) => sum + count, 0) !== 5) throw new Error(`not yet: ${counts}`)
        // An issue's row can be written a moment before its event's.
        for (const issue of issues)
          if ((await store.events(issue.id)).length === 0) throw new Error(`no event yet for ${issue.title}`)
      })
    } finally {
      await server.stop()
    }
    const issues = await store.issues()
    // The same site: one issue by the default grouping, one by the fingerprint that extends it.
    const invoices = issues.filter((issue) => issue.title.includes('could not be sent'))
    expect(invoices.map((issue) => issue.count).sort()).toEqual([2, 2])
    // Events of one issue arriving together are stored as one occurrence: its count, its latest event.
    const latest = (await Promise.all(invoices.map((issue) => store.events(issue.id)))).flat()
    expect(latest.map((event) => [event.extra.invoice, event.fingerprint])).toEqual(
      expect.arrayContaining([
        [10, ['billing', '{{ default }}']],
        [8, undefined],
      ]),
    )
    const first = latest.find((event) => event.extra.invoice === 8)
    expect(first).toMatchObject({
      level: 'warning',
      release: 'r-9',
      environment: 'staging',
      server_name: 'web-3',
      tags: { area: 'billing', kind: 'manual', route: '/captured/:id' },
      extra: { invoice: 8 },
      request: { method: 'GET', query_string: 'token=[Filtered]', env: { REMOTE_ADDR: '127.0.0.1' } },
    })
    expect(first?.tags.request_id).toMatch(/^[0-9a-f-]{36}$/)
    expect(first?.request?.headers).not.toHaveProperty('cookie')
    expect(first?.request?.headers).not.toHaveProperty('authorization')
    expect(first?.exception?.values[0]).toMatchObject({ type: 'Error', value: 'invoice 8 could not be sent' })

    const message = issues.find((issue) => issue.title === 'the cache is cold')
    expect(message).toMatchObject({ level: 'warning', count: 1 })
    const [said] = await store.events(message?.id as string)
    expect(said).toMatchObject({ message: { formatted: 'the cache is cold' }, environment: 'staging' })
  })
})
