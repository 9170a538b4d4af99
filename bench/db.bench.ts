/**
 * shipshape/db's connection costs, all in one process and one run, against named anchors:
 *
 * 1. A persistent pool vs a new connection per request, on the machine's real Postgres over TCP
 *    (127.0.0.1:5432): per "request", one `SELECT 1` through a warm pool, against connect +
 *    query + end with a new client (what an app without a pool pays; the talk's anchor is 20–30 ms
 *    with TLS and password authentication). TLS is used when the server has `ssl` on; this
 *    machine's says which (see bench/README.md).
 * 2. A primary-key lookup, p50 and p95: native Postgres through a pool (the anchor), PGlite
 *    in-process (its own figure: ~0.09 ms per small select), and PGlite through shipshape's
 *    database process over its Unix socket with the same pg pool (target: p50 ≤ 0.5 ms).
 *
 * Usage: npm run bench -- db [--requests 300] [--lookups 3000]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import pino from 'pino'
import { openDatabase } from '../dist/db/index.js'
import { superviseDatabase } from '../dist/db/supervisor.js'
import { median, printTable } from './_lib.ts'

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '300' }, lookups: { type: 'string', default: '3000' } },
  allowPositionals: true,
})
const requests = Number(values.requests)
const lookups = Number(values.lookups)
const rows = 10_000

const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' })
await admin.connect()
const ssl = (await admin.query('SHOW ssl')).rows[0].ssl === 'on'
const name = `dbcore_bench_${randomBytes(4).toString('hex')}`
await admin.query(`CREATE DATABASE ${name}`)
const config = {
  host: '127.0.0.1',
  port: 5432,
  user: 'postgres',
  database: name,
  ...(ssl ? { ssl: { rejectUnauthorized: false } } : {}),
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}
const ms = (value: number) => Math.round(value * 1000) / 1000

async function timed(times: number, run: (i: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < times; i++) {
    const start = performance.now()
    await run(i)
    samples.push(performance.now() - start)
  }
  return samples
}

const schema = `CREATE TABLE items (id int PRIMARY KEY, v text NOT NULL);
  INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, ${rows}) g`
const lookup = 'SELECT v FROM items WHERE id = $1'
const key = (i: number) => 1 + ((i * 7919) % rows)

try {
  // 1. Persistent pool vs a new connection per request, interleaved in blocks so load drifts hit both.
  const pool = new pg.Pool({ ...config, max: 1 })
  await pool.query('SELECT 1')
  const pooled: number[] = []
  const fresh: number[] = []
  for (let block = 0; block < 10; block++) {
    pooled.push(...(await timed(requests / 10, () => pool.query('SELECT 1'))))
    fresh.push(
      ...(await timed(requests / 10, async () => {
        const client = new pg.Client(config)
        await client.connect()
        await client.query('SELECT 1')
        await client.end()
      })),
    )
  }
  console.log(
    `\nPer request, one SELECT 1 over TCP ${ssl ? 'with' : 'without'} TLS (server ssl=${ssl ? 'on' : 'off'}):`,
  )
  printTable([
    {
      connection: 'persistent pool (shipshape)',
      'p50 ms': ms(median(pooled)),
      'p95 ms': ms(percentile(pooled, 95)),
    },
    {
      connection: 'new connection per request',
      'p50 ms': ms(median(fresh)),
      'p95 ms': ms(percentile(fresh, 95)),
    },
  ])
  console.log(`saving per request: ${ms(median(fresh) - median(pooled))} ms (p50)`)

  // 2. Primary-key lookups.
  await pool.query(schema)
  const native = await timed(lookups, (i) => pool.query(lookup, [key(i)]))
  await pool.end()

  const dir = mkdtempSync(join(tmpdir(), 'dbcore-bench-'))
  const local = await PGlite.create({ dataDir: join(dir, 'inprocess') })
  await local.exec(schema)
  const inProcess = await timed(lookups, (i) => local.query(lookup, [key(i)]))
  await local.close()

  const options = {
    url: '',
    embedded: true,
    dataDir: join(dir, 'db'),
    socketDir: join(dir, 'sock'),
    poolSize: 1,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 30_000,
    idleInTransactionMs: 30_000,
    maxLifetimeMs: 0,
    idleTimeoutMs: 30_000,
    busyTimeoutMs: 5000,
    migrate: '',
    migrateOnServe: false,
    instances: 1,
  }
  const supervisor = await superviseDatabase(options, pino({ level: 'silent' }))
  const database = openDatabase(options)
  await database.pool.query(schema)
  const throughSocket = await timed(lookups, (i) => database.pool.query(lookup, [key(i)]))
  await database.close()
  await supervisor.stop()
  rmSync(dir, { recursive: true, force: true })

  console.log(`\nPrimary-key lookup in a ${rows}-row table, ${lookups} sequential lookups each:`)
  printTable(
    [
      ['native Postgres, pg pool over TCP (anchor)', native],
      ['PGlite in-process (db.query)', inProcess],
      ['PGlite through the database process (pg pool, Unix socket)', throughSocket],
    ].map(([what, samples]) => ({
      database: what as string,
      'p50 ms': ms(median(samples as number[])),
      'p95 ms': ms(percentile(samples as number[], 95)),
      'p50 vs anchor': `${(median(samples as number[]) / median(native)).toFixed(2)}×`,
    })),
  )
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
