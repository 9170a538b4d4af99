/**
 * The database APM's cost and its N+1 finding, on the machine's real Postgres (127.0.0.1:5432,
 * user postgres; a database of its own, dropped after).
 *
 * 1. Accounting per query: the same sequential `SELECT $1::int` through three pools in one
 *    process, rounds alternating: plain pg (the anchor), instrumented with the APM off, and
 *    instrumented inside a request scope. The figure is the CPU time of this process per query
 *    (the round trip to Postgres is waiting, not CPU), so the difference is the accounting.
 * 2. The N+1 page: one served page listing 20 posts with their authors as 1 + 20 queries, and
 *    the same page fixed (one join), both through the pipeline with the APM, under wrk. Reports
 *    the req/s ratio and what the APM logged about each page.
 *
 * Usage: npm run bench -- db-apm [--queries 40000] [--rounds 5] [--seconds 5]
 */
import { randomBytes } from 'node:crypto'
import { Session } from 'node:inspector'
import type { AddressInfo } from 'node:net'
import { parseArgs } from 'node:util'
import pg from 'pg'
import pino from 'pino'
import { Scope, scopeStorage } from '../dist/db/_scope.js'
import { instrumentPool } from '../dist/db/index.js'
import { createHttpServer, createPipeline } from '../dist/http/index.js'
import type { AppHandler } from '../dist/types.js'
import { ensureWrk, median, printTable, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
  },
  allowPositionals: true,
})
const queries = Number(values.queries)
const rounds = Number(values.rounds)
ensureWrk()

const server = { host: '127.0.0.1', port: 5432, user: 'postgres' }
const name = `dbapm_bench_${randomBytes(4).toString('hex')}`
const admin = new pg.Client({ ...server, database: 'postgres' })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const silent = pino({ level: 'silent' })
const pools: pg.Pool[] = []
const newPool = () => {
  const pool = new pg.Pool({ ...server, database: name, max: 4 })
  pools.push(pool)
  return pool
}

try {
  // 1. Accounting per query.
  const plain = newPool()
  const off = newPool()
  instrumentPool(off, { logger: silent, enabled: false })
  const on = newPool()
  const apm = instrumentPool(on, { logger: silent, rollupIntervalMs: 0, nPlusOneFloorMs: 0 })
  const run = async (pool: pg.Pool, n: number) => {
    for (let i = 0; i < n; i++) await pool.query('SELECT $1::int AS n', [i])
  }
  /** `n` queries on the instrumented pool, `perRequest` to a scope, as a page's queries are. */
  const inRequests = async (n: number, perRequest: number) => {
    for (let done = 0; done < n; done += perRequest)
      await scopeStorage.run(new Scope(), () => run(on, perRequest))
  }
  const block = 1000
  const contenders = {
    'plain pg (anchor)': () => run(plain, block),
    'APM off': () => run(off, block),
    // Below the N+1 count: the accounting alone.
    'APM on, requests of 4 queries': () => inRequests(block, 4),
    // Each request an N+1 of 20 runs: the accounting and one call-site capture per request.
    'APM on, each request an N+1 of 20': () => inRequests(block, 20),
  }
  const labels = Object.keys(contenders) as (keyof typeof contenders)[]
  const cpu: Record<string, number[]> = Object.fromEntries(labels.map((label) => [label, []]))
  for (const pool of [plain, off, on]) await run(pool, 500) // warm up: connections, JIT
  // Small blocks, the contenders' order rotating: whatever else loads the machine loads all alike.
  for (let round = 0; round < Math.ceil(queries / block); round++) {
    for (let k = 0; k < labels.length; k++) {
      const label = labels[(round + k) % labels.length] as keyof typeof contenders
      const before = process.cpuUsage()
      await contenders[label]()
      const used = process.cpuUsage(before)
      cpu[label]?.push((used.user + used.system) / block)
    }
  }
  const anchor = median(cpu['plain pg (anchor)'] as number[])
  printTable(
    labels.map((label) => ({
      contender: label,
      'CPU µs per query (median of blocks)': median(cpu[label] as number[]).toFixed(2),
      'vs anchor, µs': (median(cpu[label] as number[]) - anchor).toFixed(2),
    })),
  )

  // The same, read from a CPU profile: the self time of the APM's own functions per query. On a
  // loaded machine the CPU-time difference above drifts by several µs between identical pools
  // (plain vs off); the profile counts only the APM's code (and the profiler slows it somewhat).
  const session = new Session()
  session.connect()
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    )
  await post('Profiler.enable')
  await post('Profiler.setSamplingInterval', { interval: 50 })
  const profiled = async (perRequest: number) => {
    const n = Math.min(queries, 20_000)
    await post('Profiler.start')
    await inRequests(n, perRequest)
    const { profile } = (await post('Profiler.stop')) as {
      profile: {
        nodes: { id: number; callFrame: { url: string } }[]
        samples: number[]
        timeDeltas: number[]
      }
    }
    const own = new Set(profile.nodes.filter((n) => /\/dist\/db\/_/.test(n.callFrame.url)).map((n) => n.id))
    let micros = 0
    profile.samples.forEach((node, i) => {
      if (own.has(node)) micros += profile.timeDeltas[i] ?? 0
    })
    return (micros / n).toFixed(2)
  }
  console.log(
    `\nCPU profile (self time of the APM's functions): ${await profiled(4)} µs per query in requests of 4 queries, ${await profiled(20)} µs per query when each request is an N+1 of 20.`,
  )
  session.disconnect()
  await apm.close()

  // 2. The N+1 page.
  const page = newPool()
  await page.query('CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL)')
  await page.query(
    'CREATE TABLE posts (id serial PRIMARY KEY, author_id integer NOT NULL, title text NOT NULL)',
  )
  await page.query("INSERT INTO authors (name) SELECT 'author ' || i FROM generate_series(1, 5) i")
  await page.query(
    "INSERT INTO posts (author_id, title) SELECT 1 + i % 5, 'post ' || i FROM generate_series(1, 200) i",
  )
  const reports: Record<string, unknown>[] = []
  const logger = pino({ level: 'info' }, { write: (line: string) => void reports.push(JSON.parse(line)) })
  const pageApm = instrumentPool(page, { logger, rollupIntervalMs: 0, nPlusOneFloorMs: 0 })
  const app: AppHandler = async ({ req, res }) => {
    let listed: { title: string; author: string }[]
    if (req.url === '/fixed') {
      listed = (
        await page.query(
          'SELECT p.title, a.name AS author FROM posts p JOIN authors a ON a.id = p.author_id ORDER BY p.id LIMIT 20',
        )
      ).rows
    } else {
      const { rows } = await page.query('SELECT title, author_id FROM posts ORDER BY id LIMIT 20')
      listed = []
      for (const post of rows) {
        const author = await page.query('SELECT name FROM authors WHERE id = $1', [post.author_id])
        listed.push({ title: post.title, author: author.rows[0]?.name })
      }
    }
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify(listed))
  }
  const pipeline = createPipeline(
    app,
    {
      timeoutMs: 30_000,
      trustedProxies: [],
      livezPath: '/livez',
      readyzPath: '/readyz',
      maxBodyBytes: 1e6,
      accessLog: false,
    },
    logger,
    [pageApm.middleware()],
  )
  const http = createHttpServer(pipeline, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    keepAliveTimeoutMs: 5000,
    maxHeaderBytes: 16_384,
  })
  await new Promise<void>((ready) => http.listen(0, '127.0.0.1', ready))
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const rps: Record<string, number[]> = { '/n-plus-one': [], '/fixed': [] }
  const p50: Record<string, number[]> = { '/n-plus-one': [], '/fixed': [] }
  const found: Record<string, number> = { '/n-plus-one': 0, '/fixed': 0 }
  const served: Record<string, number> = { '/n-plus-one': 0, '/fixed': 0 }
  for (let round = 0; round < rounds; round++) {
    for (const path of Object.keys(rps)) {
      const load = await wrk(`${base}${path}`, {
        seconds: Number(values.seconds),
        connections: 10,
        threads: 1,
      })
      if (load.failures > 0) throw new Error(`${path}: ${load.failures} failed requests`)
      ;(rps[path] as number[]).push(load.rps)
      ;(p50[path] as number[]).push(load.p50Ms)
      served[path] = (served[path] as number) + load.requests
    }
  }
  // By route: a request whose client left at the end of a wrk run finishes (and is reported) during the next.
  for (const report of reports) {
    if (String(report.msg).startsWith('N+1'))
      found[report.route as string] = (found[report.route as string] ?? 0) + 1
  }
  const example = reports.find((r) => String(r.msg).startsWith('N+1') && r.count === 20)
  printTable(
    Object.keys(rps).map((path) => ({
      page: path === '/fixed' ? 'fixed: 1 query (anchor)' : 'N+1: 1 + 20 queries',
      'req/s (median)': Math.round(median(rps[path] as number[])),
      'vs fixed': (median(rps[path] as number[]) / median(rps['/fixed'] as number[])).toFixed(2),
      'p50 ms': median(p50[path] as number[]).toFixed(2),
      'N+1 reports / requests': `${found[path]} / ${served[path]}`,
    })),
  )
  console.log(`\nThe APM's report: ${example?.msg} — ${example?.fingerprint} ×${example?.count}`)
  http.closeAllConnections()
  http.close()
  await pageApm.close()
} finally {
  await Promise.all(pools.map((pool) => pool.end()))
  // pool.end() resolves before every connection has closed: a forced drop would fail those.
  const open = async () =>
    Number(
      (await admin.query('SELECT count(*) FROM pg_stat_activity WHERE datname = $1', [name])).rows[0].count,
    )
  for (const deadline = Date.now() + 10_000; (await open()) > 0 && Date.now() < deadline; ) {
    await new Promise((wait) => setTimeout(wait, 20))
  }
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.end()
}
