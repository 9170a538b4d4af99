/**
 * shipshape/auth's costs, against anchors in the same run:
 *
 * 1. A limiter check (is this IP or username locked?), per call, p50 and p99:
 *    - memory mode: a worker asking the primary's counters over a real fork IPC channel, as
 *      `shipshape serve` does; anchor: rate-limiter-flexible's RateLimiterMemory.get() in-process
 *      (its README: "memory … < 0.1 ms");
 *    - Redis mode: our Redis store (two keys, through RateLimiterRedis) against
 *      RateLimiterRedis.get() of one key on the same Redis (its own figure: ~0.7 ms on a LAN).
 *    Targets: ≤ 0.1 ms in memory mode, ≤ 2.5 ms with Redis.
 * 2. The sign-in page's throughput under `shipshape serve` (2 workers, Postgres), with wrk,
 *    alone and while a brute-force run posts ~1,000 wrong passwords a second from one address.
 *    Target: ≥ 90% of the throughput without the attack (locked attempts cost no hash).
 *
 *    Rounds alternate the order of the runs (alone, attack, anchor); medians over rounds are quoted.
 *
 * Usage: npm run bench -- auth [--checks 20000] [--seconds 5] [--rounds 3] [--rate 1000] [--redis redis://127.0.0.1:6379]
 */
import { fork } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Agent, request } from 'node:http'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import pg from 'pg'
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible'
import { closeRedis, connectRedis, countersStore, Limiter, redisStore } from '../dist/auth/index.js'
import { answerCounters, workerCounters } from '../dist/server/_counters.js'
import { CounterTable } from '../dist/server/index.js'
import { ensureWrk, freePort, printTable, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: {
    checks: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '3' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    worker: { type: 'boolean', default: false },
  },
  allowPositionals: true,
})
const checks = Number(values.checks)
const tiers = [{ failures: 3, lockMs: 900_000 }]

interface Latency {
  p50: number
  p99: number
}

/** p50 and p99 in ms of `op`, run `checks` times one after another. */
async function latency(op: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < 1000; i++) await op(i) // warm-up
  const times = new Float64Array(checks)
  for (let i = 0; i < checks; i++) {
    const started = performance.now()
    await op(i)
    times[i] = performance.now() - started
  }
  times.sort()
  return { p50: times[Math.floor(checks / 2)] as number, p99: times[Math.floor(checks * 0.99)] as number }
}
const keysOf = (i: number) => [`ip:10.0.${(i >> 8) & 255}.${i & 255}`, `user:user${i % 500}@example.com`]

if (values.worker) {
  // The worker side of (1): the primary's counters over this process's IPC channel.
  const limiter = new Limiter(countersStore(workerCounters()), tiers)
  const result = await latency((i) => limiter.retryAfter(keysOf(i)))
  process.send?.({ result }, () => process.exit(0))
} else {
  // (1) Each round: memory mode (this process plays the primary, a forked child the worker), its
  // anchor, Redis mode and its anchor; medians over the rounds.
  const prefix = `auth-bench-${randomBytes(4).toString('hex')}`
  const ourClient = await connectRedis(values.redis)
  const limiter = new Limiter(await redisStore(ourClient, prefix), tiers)
  const client = new Redis(values.redis, { enableOfflineQueue: false })
  await new Promise((resolve) => client.once('ready', resolve))
  const rlf = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `${prefix}-rlf`,
    points: 3,
    duration: 900,
  })
  const memory = new RateLimiterMemory({ points: 3, duration: 900 })
  const rows = {
    ipc: { check: 'memory: primary counters over IPC (2 keys)', target: '≤ 0.1 ms', runs: [] as Latency[] },
    rlfMemory: {
      check: 'anchor: RateLimiterMemory.get() in-process (1 key)',
      target: '',
      runs: [] as Latency[],
    },
    redis: {
      check: 'Redis: our store (2 keys, RateLimiterRedis)',
      target: '≤ 2.5 ms',
      runs: [] as Latency[],
    },
    rlfRedis: { check: 'anchor: RateLimiterRedis.get() (1 key)', target: '', runs: [] as Latency[] },
  }
  for (let round = 0; round < Number(values.rounds); round++) {
    const table = new CounterTable()
    const child = fork(new URL(import.meta.url).pathname, ['--worker', '--checks', String(checks)])
    rows.ipc.runs.push(
      await new Promise<Latency>((resolve) => {
        child.on('message', (message: { type?: string; result?: Latency }) => {
          if (message.type === 'counters') answerCounters(table, child, message as never)
          else if (message.result) resolve(message.result)
        })
      }),
    )
    table.close()
    rows.rlfMemory.runs.push(await latency((i) => memory.get(keysOf(i)[0] as string)))
    rows.redis.runs.push(await latency((i) => limiter.retryAfter(keysOf(i))))
    rows.rlfRedis.runs.push(await latency((i) => rlf.get(keysOf(i)[0] as string)))
  }
  await closeRedis(ourClient)
  client.disconnect()
  const ms = (value: number) => value.toFixed(3)
  const middle = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number
  printTable(
    Object.values(rows).map(({ check, target, runs }) => ({
      check,
      'p50 per round': runs.map((run) => ms(run.p50)).join(' / '),
      'median p50': ms(middle(runs.map((run) => run.p50))),
      'median p99': ms(middle(runs.map((run) => run.p99))),
      target,
    })),
  )

  // (2) The sign-in page under a brute-force run.
  ensureWrk()
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' })
  await admin.connect()
  const name = `auth_bench_${randomBytes(4).toString('hex')}`
  await admin.query(`CREATE DATABASE ${name}`)
  const url = `postgresql://postgres@127.0.0.1:5432/${name}`
  const port = await freePort()
  const server = start(
    process.execPath,
    [
      'dist/cli/bin.js',
      'serve',
      'src/auth/_test/app.ts',
      '--workers',
      '2',
      '--bind',
      `127.0.0.1:${port}`,
      '--access-log',
      'false',
    ],
    {
      DATABASE_URL: url,
      SHIPSHAPE_AUTH_PROTECT: '/admin',
      NODE_ENV: 'production',
      LOG_LEVEL: 'error',
      SHIPSHAPE_DB_EMBEDDED: 'false',
    },
  )
  try {
    const page = `http://127.0.0.1:${port}/admin/sign-in`
    await waitForOk(page)
    const seconds = Number(values.seconds)
    const rate = Number(values.rate)
    const load = () => wrk(page, { seconds, connections: 20 })
    await load() // warm-up
    // Rounds alternate which run goes first, so that a busier moment of the shared machine falls on each alike.
    const runs: Record<'alone' | 'attack' | 'plain', { rps: number; p99Ms: number }[]> = {
      alone: [],
      attack: [],
      plain: [],
    }
    let attempts = { sent: 0, locked: 0 }
    const order = ['alone', 'attack', 'plain'] as const
    for (let round = 0; round < Number(values.rounds); round++) {
      for (let i = 0; i < order.length; i++) {
        const run = order[(i + round) % order.length] as (typeof order)[number]
        // The attack posts wrong passwords to the sign-in page; the anchor as many POSTs to a public page of the app (no auth).
        const sending =
          run === 'alone'
            ? undefined
            : bruteForce(port, rate, seconds + 1, run === 'attack' ? '/admin/sign-in' : '/public')
        runs[run].push(await load())
        const sent = await sending
        if (run === 'attack' && sent)
          attempts = { sent: attempts.sent + sent.sent, locked: attempts.locked + sent.locked }
      }
    }
    const ratios = (run: 'attack' | 'plain') =>
      runs[run].map((result, i) => result.rps / (runs.alone[i]?.rps ?? 1))
    const row = (name: string, run: 'alone' | 'attack' | 'plain') => ({
      run: name,
      'req/s per round': runs[run].map((result) => Math.round(result.rps)).join(' / '),
      'median req/s': Math.round(middle(runs[run].map((result) => result.rps))),
      'median p99': middle(runs[run].map((result) => result.p99Ms)),
      'ratio per round':
        run === 'alone'
          ? ''
          : ratios(run)
              .map((ratio) => ratio.toFixed(2))
              .join(' / '),
      'median ratio': run === 'alone' ? '1.00' : middle(ratios(run)).toFixed(2),
    })
    printTable([
      row('sign-in page alone', 'alone'),
      row(
        `…while ~${rate}/s wrong passwords are posted from one address (${attempts.locked} of ${attempts.sent} got 429)`,
        'attack',
      ),
      row(`anchor: …while ~${rate}/s POSTs go to a public page of the app (no auth)`, 'plain'),
    ])
    console.log(
      `\ntarget: ≥ 0.90 of the page's throughput without the attack. load average: ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    )
  } finally {
    await stop(server)
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

/** Posts wrong passwords to `path` from one address at `rate` a second for `seconds`; counts the 429s. */
async function bruteForce(
  port: number,
  rate: number,
  seconds: number,
  path: string,
): Promise<{ sent: number; locked: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 })
  const body = 'email=ops%40example.com&password=guess'
  let sent = 0
  let locked = 0
  const deadline = performance.now() + seconds * 1000
  const inflight: Promise<void>[] = []
  while (performance.now() < deadline) {
    const due = Math.floor(((performance.now() - (deadline - seconds * 1000)) / 1000) * rate)
    for (; sent < due; sent++) {
      inflight.push(
        new Promise((resolve) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              path,
              method: 'POST',
              agent,
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                'sec-fetch-site': 'same-origin',
                cookie: 'x=1',
              },
            },
            (res) => {
              if (res.statusCode === 429) locked++
              res.resume().on('end', () => resolve())
            },
          )
          req.on('error', () => resolve())
          req.end(body)
        }),
      )
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await Promise.all(inflight)
  agent.destroy()
  return { sent, locked }
}
