/** Every app kind's errors reach the error tracker: the conformance fixtures' /throw, in process, on the real Postgres. */
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serve } from '../_test/pipeline.js'
import { ErrorStore } from './_store.js'
import { ownDatabase } from './_test/db.js'
import { createTracker } from './_tracker.js'

// The http suite's fixtures, one per app kind, each with a /throw route (run by path, not imported).
const kinds = ['node', 'express', 'connect', 'koa', 'fastify', 'hono', 'fetch']
const fixture = (kind: string) => fileURLToPath(new URL(`../http/_test/${kind}.ts`, import.meta.url))

let db: Awaited<ReturnType<typeof ownDatabase>>
beforeAll(async () => {
  db = await ownDatabase()
})
afterAll(async () => {
  await db.drop()
})

describe('errors of every app kind', () => {
  it.each(kinds)(
    '%s: a thrown error is captured once, with its request and route, and grouped',
    async (kind) => {
      const lines: Record<string, unknown>[] = []
      const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) })
      const store = new ErrorStore(db.pool)
      const errors = createTracker({ logger, store, notifiers: [], identity: { release: kind } })
      const server = await serve(fixture(kind), { worker: { errors } })
      try {
        const replies = await Promise.all([1, 2].map(() => fetch(`${server.url}/throw`)))
        expect(replies.map((reply) => reply.status)).toEqual([500, 500])
        await errors.flush()
        const logged = lines.filter((line) => line.msg === 'the app failed to handle the request')
        expect(logged).toHaveLength(2)
        const issue = await store.issue(logged[0]?.issue as string)
        expect(issue).toMatchObject({ count: 2, releases: { [kind]: 2 } })
        expect(issue?.title).toContain('boom')
        const [event] = await store.events(issue?.id as string)
        expect(event).toMatchObject({
          tags: { kind: 'request', route: '/throw' },
          request: { method: 'GET' },
        })
        expect(
          event?.exception?.values[0]?.stacktrace?.frames.some(
            (frame) => frame.in_app && frame.filename.endsWith(`${kind}.ts`),
          ),
        ).toBe(true)
      } finally {
        await server.close()
      }
    },
  )
})
