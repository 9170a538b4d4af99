/**
 * The ops console's cost, on the machine's real Postgres (a database of its own, dropped after).
 *
 * 1. Render time: 7 days of data for 50 routes (a row per route per minute, 504,000), 200 issues
 *    (50 events each), 4 checks probed every 30 s, a server sample a minute, and 6,000 APM
 *    reports, seeded with SQL; then each page fetched through a real `shipshape serve` (1
 *    worker) by a signed-in client, sequentially. The figure is each page's median over the
 *    fetches, against the target (300 ms) and against an anchor measured in the same run:
 *    the console's sign-in page, the same stack's fixed cost. The deploy checklist's first run
 *    (a scan of the site and the lockfile's audit) is reported apart: the page keeps it 5 minutes.
 * 2. Recording: two `shipshape serve` (1 worker each) on the same database, an app answering with
 *    one query per request, under wrk in alternating rounds: recording on (the APM and its
 *    reports, the console with a server sample every second, 60× the default) against off
 *    (`--apm-enabled false --console-enabled false`). The figure is on/off in req/s.
 *
 * Usage: npm run bench -- console [--fetches 7] [--rounds 3] [--seconds 5] [--sample-interval 1s]
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { AuthStore, hashPassword } from '../dist/auth/index.js'
import { ConsoleStore } from '../dist/console/_store.js'
import { ApmStore } from '../dist/db/_apm-store.js'
import { MonitorStore } from '../dist/monitor/index.js'
import { ErrorStore } from '../dist/observe/index.js'
import { codeFor, FormClient, secretOn } from '../src/auth/_test/client.ts'
import { ensureWrk, freePort, median, printTable, root, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: {
    fetches: { type: 'string', default: '7' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    'sample-interval': { type: 'string', default: '1s' },
  },
  allowPositionals: true,
})
const fetches = Number(values.fetches)
const rounds = Number(values.rounds)
const seconds = Number(values.seconds)
ensureWrk()

const server = { host: '127.0.0.1', port: 5432, user: 'postgres' }
const name = `console_bench_${randomBytes(4).toString('hex')}`
const url = `postgresql://postgres@127.0.0.1:5432/${name}`
const admin = new pg.Client({ ...server, database: 'postgres' })
await admin.connect()
await admin.query(`CREATE DATABASE ${name}`)
const pool = new pg.Pool({ ...server, database: name, max: 2 })
const children: ReturnType<typeof start>[] = []
const pidDir = mkdtempSync(join(tmpdir(), 'shipshape-bench-console-pids-'))

async function seed(): Promise<void> {
  await new ErrorStore(pool).migrate()
  await new MonitorStore(pool).migrate()
  await new ConsoleStore(pool).migrate()
  await new ApmStore(
    (run) => run((sql: string, values?: unknown[]) => pool.query(sql, values)) as never,
  ).writeRoutes(new Date(), new Date(), [], 14)
  await new ApmStore(
    (run) => run((sql: string, values?: unknown[]) => pool.query(sql, values)) as never,
  ).writeReports(
    [
      {
        at: new Date(),
        kind: 'n+1',
        method: 'GET',
        route: '/route/1',
        fingerprint: 'select ?',
        fingerprintId: 'f0',
        callSite: 'app.ts:1:1',
        count: 6,
        ms: 10,
        requestId: 'r',
      },
    ],
    14,
    50_000,
  )
  const minutes = 7 * 1440
  await pool.query(
    `INSERT INTO shipshape_apm_routes
     SELECT now() - (m + 1) * interval '1 minute', now() - m * interval '1 minute', 'bench', 1, 'GET', '/route/' || r,
       60, 1.0, CASE WHEN r % 10 = 0 THEN 0.02 ELSE 0 END, 10 + r, 40 + r * 2, 80 + r * 3, 15 + r, 0.4, 1 + r % 7,
       CASE WHEN r % 5 = 0 AND m % 30 = 0 THEN 1 ELSE 0 END
     FROM generate_series(0, $1 - 1) m, generate_series(1, 50) r`,
    [minutes],
  )
  const event = (
    i: string,
  ) => `jsonb_build_object('event_id', md5((${i})::text), 'timestamp', 0, 'level', 'error', 'platform', 'node',
    'release', 'app@1.' || (${i} % 5), 'tags', jsonb_build_object('request_id', md5((${i})::text)), 'extra', '{}'::jsonb,
    'contexts', '{}'::jsonb, 'exception', jsonb_build_object('values', jsonb_build_array(jsonb_build_object('type', 'Error',
      'value', 'failure ' || ${i}, 'stacktrace', jsonb_build_object('frames', (SELECT jsonb_agg(jsonb_build_object('filename',
      'src/app' || f || '.ts', 'function', 'handler' || f, 'lineno', f, 'colno', 3, 'in_app', true,
      'context_line', 'throw new Error(message)')) FROM generate_series(1, 12) f))))),
    'request', jsonb_build_object('method', 'GET', 'url', 'http://example.com/route/' || ${i}, 'headers',
      jsonb_build_object('user-agent', 'bench', 'cookie', 'secret')))`
  await pool.query(
    `INSERT INTO shipshape_issues (id, title, culprit, level, first_seen, last_seen, count, window_start, window_count, latest_event)
     SELECT 'issue' || i, 'Error: failure ' || i, 'src/app.ts in handler', 'error', now() - interval '7 days',
       now() - i * interval '1 minute', 50, now(), 1, ${event('i')} FROM generate_series(1, 200) i`,
  )
  await pool.query(
    `INSERT INTO shipshape_events (issue_id, event_id, received_at, release, data)
     SELECT 'issue' || i, md5(i || '-' || e), now() - (e * 3 + i % 60) * interval '1 hour' / 25, 'app@1.0', ${event('i')}
     FROM generate_series(1, 200) i, generate_series(1, 50) e`,
  )
  await pool.query(
    `INSERT INTO shipshape_issue_releases SELECT 'issue' || i, 'app@1.' || (i % 5), 50, now() - interval '7 days', now()
     FROM generate_series(1, 200) i`,
  )
  await pool.query(
    `INSERT INTO shipshape_monitor_results (check_name, vantage, source, at, ok, ms, error)
     SELECT 'check' || c, 'server-bench', 'bench', now() - s * interval '30 seconds', s % 97 <> 0, 20 + c,
       CASE WHEN s % 97 = 0 THEN 'status 503' END
     FROM generate_series(1, 4) c, generate_series(0, 7 * 2880 - 1) s`,
  )
  await pool.query(
    `INSERT INTO shipshape_monitor_notifications (at, group_key, status, title, channel, ok, error)
     SELECT now() - n * interval '20 minutes', 'g' || (n % 4), CASE WHEN n % 2 = 0 THEN 'firing' ELSE 'resolved' END,
       '[FIRING:1] CheckFailing', 'webhook', n % 7 <> 0, CASE WHEN n % 7 = 0 THEN 'fetch failed' END
     FROM generate_series(1, 500) n`,
  )
  await pool.query(
    `INSERT INTO shipshape_console_samples (at, host, workers, cpu_percent, mem_used_bytes, mem_total_bytes, rss_bytes,
       disk_free_bytes, disk_size_bytes, loop_lag_ms, load1)
     SELECT now() - m * interval '1 minute', 'bench', 2, 30 + m % 40, 4e9, 16e9, 3e8, 5e10, 2.5e11, 1 + m % 9, 1.5
     FROM generate_series(0, $1 - 1) m`,
    [minutes],
  )
  await pool.query(
    `INSERT INTO shipshape_apm_reports
     SELECT now() - n * interval '100 seconds', (ARRAY['n+1', 'slow-query', 'slow-request'])[1 + n % 3], 'GET',
       '/route/' || (1 + n % 50), 'select * from t' || (n % 20) || ' where id = ?', 'f' || (n % 20), 'src/app.ts:' || (n % 20) || ':5',
       6, 600 + n % 300, md5(n::text), 'bench'
     FROM generate_series(1, 6000) n`,
  )
  await pool.query(
    `INSERT INTO shipshape_apm_plans SELECT 'f' || n, 'select * from t' || n || ' where id = ?',
       jsonb_build_array(jsonb_build_object('Plan', jsonb_build_object('Node Type', 'Seq Scan', 'Relation Name', 't' || n))), now()
     FROM generate_series(0, 19) n`,
  )
  await pool.query('ANALYZE')
}

async function serve(args: string[]): Promise<string> {
  const port = await freePort()
  const child = start(
    process.execPath,
    [
      join(root, 'dist/cli/bin.js'),
      'serve',
      join(root, 'bench/apps/query.ts'),
      '--bind',
      `127.0.0.1:${port}`,
      '--workers',
      '1',
      '--pidfile',
      join(pidDir, `serve-${port}.pid`),
      ...args,
    ],
    { DATABASE_URL: url, NODE_ENV: 'production', LOG_LEVEL: 'warn' },
  )
  children.push(child)
  await waitForOk(`http://127.0.0.1:${port}/readyz`, 60_000)
  return `http://127.0.0.1:${port}`
}

try {
  const seedStarted = performance.now()
  await seed()
  const seedMs = performance.now() - seedStarted
  const password = 'correct horse battery staple'
  await new AuthStore(pool).createUser('ops@example.com', await hashPassword(password))
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-bench-console-'))
  const config = join(dir, 'shipshape.json')
  writeFileSync(
    config,
    JSON.stringify({
      monitor: {
        checks: [1, 2, 3, 4].map((c) => ({ name: `check${c}`, url: '/readyz', interval: '60s' })),
        diskFree: 0,
      },
    }),
  )
  const base = await serve(['--config', config])
  const client = new FormClient(base)
  const signIn = await client.post('/_shipshape/sign-in', {
    email: 'ops@example.com',
    password,
    next: '/_shipshape/',
  })
  const enrol = await client.get(signIn.headers.location as string)
  await client.post('/_shipshape/enrol', { code: await codeFor(secretOn(enrol)), next: '/_shipshape/' })

  const timed = async (get: () => Promise<{ status: number }>) => {
    const started = performance.now()
    const page = await get()
    if (page.status !== 200) throw new Error(`status ${page.status}`)
    return performance.now() - started
  }
  const deployFirstMs = await timed(() => client.get('/_shipshape/deploy'))
  const anonymous = new FormClient(base)
  const pages: [string, () => Promise<{ status: number }>][] = [
    ['anchor: sign-in page', () => anonymous.get('/_shipshape/sign-in')],
    ...[
      '/',
      '/errors',
      '/errors/issue1',
      '/endpoints',
      '/endpoints?window=7d',
      '/endpoints/route?method=GET&route=%2Froute%2F10',
      '/database',
      '/uptime',
      '/servers',
      '/deploy',
    ].map((path): [string, () => Promise<{ status: number }>] => [
      path,
      () => client.get(`/_shipshape${path}`),
    ]),
  ]
  const results: Record<string, number[]> = {}
  for (const [, get] of pages) await timed(get) // warm: the first request loads the page's modules
  for (let i = 0; i < fetches; i++) {
    for (const [label, get] of pages) {
      results[label] ??= []
      results[label].push(await timed(get))
    }
  }
  const anchor = median(results['anchor: sign-in page'] as number[])
  console.log(
    `Seeded in ${(seedMs / 1000).toFixed(1)} s. Median of ${fetches} fetches of each page, in turn:\n`,
  )
  printTable(
    pages.map(([label]) => {
      const ms = median(results[label] as number[])
      return {
        page: label,
        'median ms': ms.toFixed(1),
        'max ms': Math.max(...(results[label] as number[])).toFixed(1),
        '× anchor': (ms / anchor).toFixed(1),
        '≤ 300 ms': ms <= 300 ? 'yes' : 'NO',
      }
    }),
  )
  console.log(
    `\nThe deploy checklist's first run (scan + audit, then kept 5 minutes): ${deployFirstMs.toFixed(0)} ms`,
  )

  // 2. Recording on and off. Three servers, their order rotating each round: the console's own
  // recording (the server sampler, at 60× its default rate, and its middleware) is `on` against
  // `console off`; the APM, which records the Endpoints and Database pages' data, is the
  // difference between `console off` and `all off`.
  const targets = {
    on: await serve(['--console-sample-interval', values['sample-interval']]),
    'console off': await serve(['--console-enabled', 'false', '--console-sample-interval', '0s']),
    'all off': await serve([
      '--apm-enabled',
      'false',
      '--console-enabled',
      'false',
      '--console-sample-interval',
      '0s',
    ]),
  }
  const labels = Object.keys(targets) as (keyof typeof targets)[]
  const rates = Object.fromEntries(labels.map((label) => [label, [] as number[]])) as Record<
    keyof typeof targets,
    number[]
  >
  for (const label of labels) await wrk(`${targets[label]}/`, { seconds: 1, connections: 16 })
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < labels.length; i++) {
      const label = labels[(round + i) % labels.length] as keyof typeof targets
      const result = await wrk(`${targets[label]}/`, { seconds, connections: 16 })
      if (result.failures > 0) throw new Error(`${label}: ${result.failures} failures`)
      rates[label].push(result.rps)
    }
  }
  console.log(`\nRecording, ${rounds} rounds of ${seconds} s each, 16 connections, one query per request:\n`)
  const anchor2 = median(rates['console off'])
  printTable(
    labels.map((label) => ({
      server: label,
      'req/s (median)': median(rates[label]).toFixed(0),
      '× console off': (median(rates[label]) / anchor2).toFixed(3),
      rounds: rates[label].map((r) => r.toFixed(0)).join(' '),
    })),
  )
  const ratio = median(rates.on) / anchor2
  console.log(
    `\nthe console's recording, on / off: ${ratio.toFixed(3)} (cost ${((1 - ratio) * 100).toFixed(1)}%; target ≤ 1%)`,
  )
  const apm = anchor2 / median(rates['all off'])
  console.log(`the APM's, console off / all off: ${apm.toFixed(3)}`)
} finally {
  for (const child of children) await stop(child)
  await pool.end()
  await new Promise((wait) => setTimeout(wait, 500))
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {})
  await admin.end()
}
