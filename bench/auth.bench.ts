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
 * Usage: npm run bench -- auth [--checks 20000] [--seconds 5] [--rate 1000] [--redis redis://127.0.0.1:6379]
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
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    worker: { type: 'boolean', default: false },
  },
  allowPositionals: true,
})
const checks = Number(values.checks)
const tiers = [{ failures: 3, lockMs: 900_000 }]

/** p50 and p99 in ms of `op`, run `checks` times one after another. */
async function latency(op: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
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
  // (1) memory mode: this process plays the primary, a forked child the worker.
  const table = new CounterTable()
  const child = fork(new URL(import.meta.url).pathname, ['--worker', '--checks', String(checks)])
  const ipc = await new Promise<{ p50: number; p99: number }>((resolve) => {
    child.on('message', (message: { type?: string; result?: { p50: number; p99: number } }) => {
      if (message.type === 'counters') answerCounters(table, child, message as never)
      else if (message.result) resolve(message.result)
    })
  })
  table.close()
  const memory = new RateLimiterMemory({ points: 3, duration: 900 })
  const rlfMemory = await latency((i) => memory.get(keysOf(i)[0] as string))

  // (1) Redis mode.
  const prefix = `auth-bench-${randomBytes(4).toString('hex')}`
  const ourClient = await connectRedis(values.redis)
  const ours = await redisStore(ourClient, prefix)
  const limiter = new Limiter(ours, tiers)
  const redisOurs = await latency((i) => limiter.retryAfter(keysOf(i)))
  const client = new Redis(values.redis, { enableOfflineQueue: false })
  await new Promise((resolve) => client.once('ready', resolve))
  const rlf = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `${prefix}-rlf`,
    points: 3,
    duration: 900,
  })
  const redisRlf = await latency((i) => rlf.get(keysOf(i)[0] as string))
  await closeRedis(ourClient)
  client.disconnect()
  const ms = (value: number) => value.toFixed(3)
  printTable([
    {
      check: 'memory: primary counters over IPC (2 keys)',
      p50: ms(ipc.p50),
      p99: ms(ipc.p99),
      target: '≤ 0.1 ms',
    },
    {
      check: 'anchor: RateLimiterMemory.get() in-process (1 key)',
      p50: ms(rlfMemory.p50),
      p99: ms(rlfMemory.p99),
      target: '',
    },
    {
      check: 'Redis: our store (2 keys, RateLimiterRedis)',
      p50: ms(redisOurs.p50),
      p99: ms(redisOurs.p99),
      target: '≤ 2.5 ms',
    },
    {
      check: 'anchor: RateLimiterRedis.get() (1 key)',
      p50: ms(redisRlf.p50),
      p99: ms(redisRlf.p99),
      target: '',
    },
  ])

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
    const load = () => wrk(page, { seconds, connections: 20 })
    await load() // warm-up
    const alone = await load()
    const attack = bruteForce(port, Number(values.rate), seconds + 1, '/admin/sign-in')
    const during = await load()
    const attempts = await attack
    // The anchor: as many requests a second that need no auth at all (a POST the app answers).
    const plain = bruteForce(port, Number(values.rate), seconds + 1, '/public')
    const duringPlain = await load()
    const plainSent = await plain
    printTable([
      { run: 'sign-in page alone', 'req/s': Math.round(alone.rps), p99: alone.p99Ms, ratio: '1.00' },
      {
        run: `…while ${attempts.sent} wrong passwords were posted (${Math.round(attempts.sent / (seconds + 1))}/s; ${attempts.locked} got 429)`,
        'req/s': Math.round(during.rps),
        p99: during.p99Ms,
        ratio: (during.rps / alone.rps).toFixed(2),
      },
      {
        run: `anchor: …while ${plainSent.sent} POSTs to a public page of the app (no auth) were sent`,
        'req/s': Math.round(duringPlain.rps),
        p99: duringPlain.p99Ms,
        ratio: (duringPlain.rps / alone.rps).toFixed(2),
      },
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
