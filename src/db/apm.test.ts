/**
 * The APM over a real pg pool on the machine's Postgres: per-request counts on the access line
 * and through queryStats(), N+1 reports with the app's call site (through raw pg and through
 * Kysely), expectQueries, metrics, and nothing at all when disabled.
 */
import { readFileSync } from 'node:fs'
import { eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { integer, pgTable, text } from 'drizzle-orm/pg-core'
import pg from 'pg'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get } from '../_test/client.js'
import { contributedMetrics } from '../_test/metrics.js'
import { type LogLine, serve } from '../_test/pipeline.js'
import type { AppHandler } from '../types.js'
import { type Apm, instrumentPool } from './_apm.js'
import {
  kyselyJoined,
  kyselyNPlusOne,
  kyselyOver,
  postsWithAuthors,
  postsWithAuthorsNPlusOne,
  seed,
} from './_test/blog.js'
import { freshDatabase } from './_test/postgres.js'
import { expectQueries, queryStats } from './index.js'

let database: Awaited<ReturnType<typeof freshDatabase>>
let pool: pg.Pool
let apm: Apm
const apmLogs: LogLine[] = []

/** The line of blog.ts holding `text`, as a call site names it. */
function blogLine(text: string): RegExp {
  const lines = readFileSync(new URL('./_test/blog.ts', import.meta.url), 'utf8').split('\n')
  const line = lines.findIndex((candidate) => candidate.includes(text)) + 1
  return new RegExp(`^src/db/_test/blog\\.ts:${line}:\\d+`)
}

beforeAll(async () => {
  database = await freshDatabase()
  pool = database.pool()
  const logger = pino({ level: 'debug' }, { write: (line: string) => void apmLogs.push(JSON.parse(line)) })
  apm = instrumentPool(pool, { logger, rollupIntervalMs: 0, nPlusOneFloorMs: 0 })
  await seed(pool)
})
afterAll(async () => {
  await apm?.close()
  await database?.drop()
})

describe('per-request accounting', () => {
  it('puts the query count, database time, pool wait and slowest query on the access line and in queryStats()', async () => {
    let inside: ReturnType<typeof queryStats>
    const app: AppHandler = async ({ res }) => {
      await pool.query('SELECT 1')
      const client = await pool.connect()
      try {
        await client.query('SELECT count(*) FROM posts WHERE author_id = $1', [2])
      } finally {
        client.release()
      }
      inside = queryStats()
      res.end('ok')
    }
    const server = await serve(app, {}, [apm.middleware()])
    try {
      expect((await get(server.port, '/stats/1')).status).toBe(200)
      const line = server.logs.find((l) => l.msg === 'request') as LogLine
      expect(line.dbQueries).toBe(2)
      expect(line.dbMs).toBeGreaterThan(0)
      expect(typeof line.dbWaitMs).toBe('number')
      expect(['select ?', 'select count(*) from posts where author_id = ?']).toContain(line.dbSlowest)
      expect(line.dbSlowestMs).toBeLessThanOrEqual(line.dbMs as number)
      expect(line.route).toBe('/stats/:id')
      expect(inside?.queries).toBe(2)
      expect(inside?.dbMs).toBeCloseTo(line.dbMs as number, 1)
    } finally {
      await server.close()
    }
  })

  it('counts queries by callback, failed ones, and none outside a request', async () => {
    const app: AppHandler = async ({ res }) => {
      await new Promise<void>((done) => pool.query('SELECT $1::int', [1], () => done()))
      await pool.query('SELECT * FROM no_such_table').catch(() => {})
      res.end('ok')
    }
    await pool.query('SELECT 2') // outside any request: counted in the metrics only
    const server = await serve(app, {}, [apm.middleware()])
    try {
      await get(server.port, '/')
      expect(server.logs.find((l) => l.msg === 'request')?.dbQueries).toBe(2)
    } finally {
      await server.close()
    }
    // The failed query's connection was dropped from the pool (pg does that after an error): open another.
    await pool.query('SELECT 3')
    const metrics = await contributedMetrics()
    expect(metrics).toMatch(
      /shipshape_db_client_operation_duration_seconds_count\{db_operation_name="select"\} [1-9]/,
    )
    expect(metrics).toMatch(/shipshape_db_client_operation_errors_total\{db_operation_name="select"\} [1-9]/)
    expect(metrics).toMatch(/shipshape_db_client_connection_count\{state="idle"\} [1-9]/)
    expect(metrics).toMatch(/shipshape_db_client_connection_pending_requests 0/)
    expect(metrics).toMatch(/shipshape_db_client_connection_wait_time_seconds_count [1-9]/)
  })
})

describe('N+1 detection', () => {
  it('reports an N+1 page once per request, with the call site in the app, the count and the time', async () => {
    const app: AppHandler = async ({ req, res }) => {
      const listed =
        req.url === '/fixed' ? await postsWithAuthors(pool) : await postsWithAuthorsNPlusOne(pool)
      res.end(JSON.stringify(listed))
    }
    const server = await serve(app, {}, [apm.middleware()])
    try {
      const before = apmLogs.length
      const slow = await get(server.port, '/n-plus-one')
      const fixed = await get(server.port, '/fixed')
      expect(JSON.parse(slow.body.toString())).toEqual(JSON.parse(fixed.body.toString()))
      const reports = apmLogs.slice(before).filter((l) => l.msg.startsWith('N+1'))
      expect(reports).toHaveLength(1)
      const [report] = reports as [LogLine]
      expect(report.fingerprint).toBe('select name from authors where id = ?')
      expect(report.count).toBe(20)
      expect(report.ms).toBeGreaterThan(0)
      expect(report.route).toBe('/n-plus-one')
      expect(report.requestId).toBe(server.logs.find((l) => l.msg === 'request')?.requestId)
      expect(report.callSite).toMatch(blogLine("'SELECT name FROM authors WHERE id = $1'"))
      const lines = server.logs.filter((l) => l.msg === 'request')
      expect(lines.map((l) => l.dbQueries)).toEqual([21, 1])
    } finally {
      await server.close()
    }
  })

  it('needs the floor in total time when one is set (production: 150 ms)', async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => void apmLogs.push(JSON.parse(line)) })
    const floored = database.pool()
    const withFloor = instrumentPool(floored, { logger, rollupIntervalMs: 0, nPlusOneFloorMs: 60_000 })
    const app: AppHandler = async ({ res }) => {
      res.end(JSON.stringify(await postsWithAuthorsNPlusOne(floored)))
    }
    const server = await serve(app, {}, [withFloor.middleware()])
    try {
      const before = apmLogs.length
      await get(server.port, '/')
      expect(server.logs.find((l) => l.msg === 'request')?.dbQueries).toBe(21)
      expect(apmLogs.slice(before).filter((l) => l.msg.startsWith('N+1'))).toEqual([])
    } finally {
      await server.close()
      await withFloor.close()
    }
  })

  it('expectQueries fails a block with an N+1, naming the app frame past Kysely and pg in node_modules', async () => {
    const db = kyselyOver(pool)
    const failure = await expectQueries(() => kyselyNPlusOne(db)).catch((error: unknown) => error)
    expect(failure).toMatchObject({ code: 'SHIPSHAPE_E_N_PLUS_ONE' })
    const message = (failure as Error).message
    expect(message).toContain('20 × select "name" from "authors" where "id" = ?')
    const site = /ms\) from (\S+)/.exec(message)?.[1] as string
    expect(site).toMatch(blogLine('const author = await db'))
    expect(site).not.toContain('node_modules')

    const fixed = await expectQueries(() => kyselyJoined(db), { max: 1 })
    expect(fixed.queries).toBe(1)
    expect(fixed.result).toHaveLength(20)
    await expect(expectQueries(() => kyselyJoined(db), { max: 0 })).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_TOO_MANY_QUERIES',
    })
  })

  it('expectQueries with raw pg: the call site is the loop, not pool.query', async () => {
    const failure = (await expectQueries(() => postsWithAuthorsNPlusOne(pool)).catch(
      (e: unknown) => e,
    )) as Error
    expect(failure.message).toMatch(
      /^The code ran the same query once per item \(an N\+1\): 20 × select name from authors where id = \? \([\d.]+ ms\) from /,
    )
    expect(/ms\) from (\S+)/.exec(failure.message)?.[1]).toMatch(
      blogLine("'SELECT name FROM authors WHERE id = $1'"),
    )
  })
})

describe('over Drizzle', () => {
  it('counts its queries and finds its N+1 at the app line, past drizzle-orm', async () => {
    const authors = pgTable('authors', { id: integer('id').primaryKey(), name: text('name').notNull() })
    const orm = drizzle({ client: pool })
    const byId = (id: number) => orm.select({ name: authors.name }).from(authors).where(eq(authors.id, id))
    const once = await expectQueries(() => byId(1), { max: 1 })
    expect(once.result).toEqual([{ name: 'author 1' }])
    const loop = async () => {
      // .execute(): awaiting Drizzle's query itself (a thenable, not a promise) leaves no trace of
      // the awaiting code in the stack, so its call site would be unknown (docs/db-apm.md).
      for (let id = 1; id <= 5; id++) await byId(id).execute() // the N+1 line
    }
    const failure = (await expectQueries(loop).catch((error: unknown) => error)) as Error
    expect(failure.message).toContain('5 × select "name" from "authors" where "authors"."id" = ?')
    const lines = readFileSync(new URL(import.meta.url), 'utf8').split('\n')
    const line = lines.findIndex((candidate) => candidate.includes('// the N+1 line')) + 1
    expect(/ms\) from (\S+)/.exec(failure.message)?.[1]).toMatch(
      new RegExp(`^src/db/apm\\.test\\.ts:${line}:`),
    )
  })
})

describe('when disabled', () => {
  it('leaves the pool untouched and counts nothing', async () => {
    const untouched = new pg.Pool({ host: '127.0.0.1', user: 'postgres', database: database.name })
    const logger = pino({ level: 'silent' })
    const off = instrumentPool(untouched, { logger, enabled: false })
    expect(untouched.query).toBe(pg.Pool.prototype.query)
    expect(untouched.connect).toBe(pg.Pool.prototype.connect)
    const app: AppHandler = async ({ res }) => {
      await untouched.query('SELECT 1')
      res.end(String(queryStats()?.queries))
    }
    const server = await serve(app, {}, [off.middleware()])
    try {
      expect((await get(server.port, '/')).body.toString()).toBe('undefined')
      expect(server.logs.find((l) => l.msg === 'request')?.dbQueries).toBeUndefined()
    } finally {
      await server.close()
      await untouched.end()
    }
  })
})
