/**
 * The cache: (1) memory get hit and getOrSet hit, ops/s, against bentocache (memory L1 driver)
 * and cache-manager (its default in-memory Keyv) in the same run, rounds alternating; (2) the
 * stampede counts: 10,000 concurrent misses on one key, in memory and across instances on Redis;
 * (3) the talk's case: a page whose navigation takes 2 s to render, uncached and cached as a
 * fragment for 2 minutes, under wrk load through `shipshape serve`.
 * Usage: npm run bench -- cache [--ops 1000000] [--rounds 5] [--seconds 10] [--redis redis://127.0.0.1:6379]
 *   [--only hits|stampede|relay|page]
 */
import { randomUUID } from 'node:crypto'
import { openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { createCache as createCacheManager } from 'cache-manager'
import { createCache } from '../dist/cache/index.js'
import { ensureWrk, freePort, median, printTable, root, start, stop, waitForOk, wrk } from './_lib.ts'

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '10' },
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    only: { type: 'string' },
  },
  allowPositionals: true,
})
const ops = Number(values.ops)
const runs = (part: string) => values.only === undefined || values.only === part
const rounds = Number(values.rounds)

// (1) Hits. Each contender holds one small object under one key; a loop awaits each call, as an
// app does. Keys cycle through 100 so the lookup is not one cached slot.
const keys = Array.from({ length: 100 }, (_, i) => `user:${i}`)
const value = { id: 1, name: 'Ada Lovelace', roles: ['admin'] }
const ours = await createCache({ name: 'bench', ttl: 3600 })
// Bounded in bytes, as ours is: bentocache then keeps entries serialized and parses on each hit.
const bento = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxSize: '64mb' })) },
})
// Its fastest: live objects, bounded by count (bentocache cannot size them).
const bentoLive = new BentoCache({
  default: 'memory',
  stores: { memory: bentostore().useL1Layer(memoryDriver({ maxItems: 100_000, serialize: false })) },
})
const manager = createCacheManager({ ttl: 3_600_000 })
for (const key of keys) {
  await ours.set(key, value)
  await bento.set({ key, value, ttl: '1h' })
  await bentoLive.set({ key, value, ttl: '1h' })
  await manager.set(key, value)
}
const factory = () => value
type Op = (key: string) => Promise<unknown>
const contenders: Record<string, { get: Op; getOrSet: Op }> = {
  shipshape: { get: (key) => ours.get(key), getOrSet: (key) => ours.getOrSet(key, factory) },
  bentocache: {
    get: (key) => bento.get({ key }),
    getOrSet: (key) => bento.getOrSet({ key, factory, ttl: '1h' }),
  },
  'bentocache(serialize:false)': {
    get: (key) => bentoLive.get({ key }),
    getOrSet: (key) => bentoLive.getOrSet({ key, factory, ttl: '1h' }),
  },
  'cache-manager': { get: (key) => manager.get(key), getOrSet: (key) => manager.wrap(key, factory) },
}
async function opsPerSecond(op: Op): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < ops; i++) await op(keys[i % 100] as string)
  return ops / ((performance.now() - started) / 1000)
}
const rates: Record<string, number[]> = {}
for (let round = 0; runs('hits') && round <= rounds; round++) {
  for (const [name, contender] of Object.entries(contenders)) {
    for (const kind of ['get', 'getOrSet'] as const) {
      const rate = await opsPerSecond(contender[kind])
      if (round === 0) continue // round 0 warms up
      const samples = rates[`${name} ${kind}`] ?? []
      samples.push(rate)
      rates[`${name} ${kind}`] = samples
    }
  }
}
if (runs('hits'))
  console.log(`### memory hits: ${ops.toLocaleString('en')} awaited calls per round, median of ${rounds}\n`)
const rows = Object.entries(rates).map(([name, samples]) => {
  const [who, kind] = name.split(' ') as [string, string]
  const ourRate = median(rates[`shipshape ${kind}`] as number[])
  return {
    contender: who,
    call: kind,
    'ops/s': Math.round(median(samples)).toLocaleString('en'),
    'shipshape ×': (ourRate / median(samples)).toFixed(2),
  }
})
if (runs('hits')) printTable(rows)
await bento.disconnect()
await bentoLive.disconnect()

if (runs('stampede')) {
  // (2) Stampede: 10,000 concurrent misses on one key, the factory taking 100 ms.
  console.log('\n### stampede: 10,000 concurrent misses on one key (factory: 100 ms)\n')
  async function storm(caches: Awaited<ReturnType<typeof createCache>>[]): Promise<number> {
    let runs = 0
    const slow = async () => {
      runs++
      await new Promise((wake) => setTimeout(wake, 100))
      return 'v'
    }
    const each = Math.floor(10_000 / caches.length)
    await Promise.all(
      caches.flatMap((cache) => Array.from({ length: each }, () => cache.getOrSet('storm', slow))),
    )
    return runs
  }
  const prefix = `bench-${randomUUID()}`
  const instances = await Promise.all(
    [1, 2, 3, 4].map(() => createCache({ name: 'storm', redisUrl: values.redis, prefix })),
  )
  const stormRows = [
    {
      mode: 'memory, one worker',
      callers: '10,000',
      'factory runs': await storm([await createCache({ name: 's' })]),
    },
    { mode: 'Redis, 4 instances', callers: '4 × 2,500', 'factory runs': await storm(instances) },
  ]
  // Tag invalidation across instances: from deleteByTag on one to the value gone from another's memory.
  const lags: number[] = []
  for (let i = 0; i < 20; i++) {
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]]
    await a.set(`tagged${i}`, i, { tags: [`t${i}`] })
    await b.get(`tagged${i}`)
    const started = performance.now()
    await a.deleteByTag(`t${i}`)
    while ((await b.get(`tagged${i}`)) !== undefined) await new Promise((wake) => setImmediate(wake))
    lags.push(performance.now() - started)
  }
  await instances[0]?.clear()
  for (const cache of instances) cache.close()
  printTable(stormRows)
  console.log(
    `\nTag invalidation across instances (deleteByTag on one → gone from another's memory tier), median of 20: ${median(lags).toFixed(1)} ms, max ${Math.max(...lags).toFixed(1)} ms`,
  )
}

// (3) Invalidation across 2 workers of `shipshape serve`, relayed by the primary: from sending
// the delete to one worker to the first answer of the other worker without the key (each
// request on a new connection; the primary hands connections to workers in turn).
if (runs('relay')) {
  const port = await freePort()
  const server = start(process.execPath, [
    'dist/cli/bin.js',
    'serve',
    'bench/apps/cache-relay.ts',
    '--workers',
    '2',
    '--bind',
    `127.0.0.1:${port}`,
    '--access-log',
    'false',
  ])
  try {
    await waitForOk(`http://127.0.0.1:${port}/readyz`)
    const ask = async (path: string) =>
      (await (
        await fetch(`http://127.0.0.1:${port}${path}`, { headers: { connection: 'close' } })
      ).json()) as {
        pid: number
        value: unknown
      }
    const lagsMs: number[] = []
    for (let i = 0; i < 20; i++) {
      const filled = new Set<number>()
      while (filled.size < 2) filled.add((await ask(`/fill?key=r${i}`)).pid)
      const started = performance.now()
      const deleter = (await ask(`/delete?key=r${i}`)).pid
      for (;;) {
        const answer = await ask(`/get?key=r${i}`)
        if (answer.pid !== deleter && answer.value === null) break
      }
      lagsMs.push(performance.now() - started)
    }
    console.log(
      `\n### relay: delete in one worker → gone in the other (2 workers, HTTP round trips included), median of 20: ${median(lagsMs).toFixed(1)} ms, max ${Math.max(...lagsMs).toFixed(1)} ms`,
    )
  } finally {
    await stop(server)
  }
}

if (runs('page')) {
  // (4) The talk's case, under `shipshape serve --workers 2`.
  ensureWrk()
  const port = await freePort()
  const log = join(tmpdir(), `cache-bench-${port}.log`)
  const server = start(
    process.execPath,
    [
      'dist/cli/bin.js',
      'serve',
      'bench/apps/nav-page.ts',
      '--workers',
      '2',
      '--bind',
      `127.0.0.1:${port}`,
      '--access-log',
      'false',
    ],
    { NODE_ENV: 'production' },
    openSync(log, 'w'),
  )
  try {
    await waitForOk(`http://127.0.0.1:${port}/readyz`)
    const seconds = Number(values.seconds)
    console.log(`\n### the talk's case: navigation rendered in 2 s; wrk -c20 for ${seconds} s, 2 workers\n`)
    const uncached = await wrk(`http://127.0.0.1:${port}/uncached`, {
      seconds,
      connections: 20,
      timeoutSeconds: 10,
    })
    const cached = await wrk(`http://127.0.0.1:${port}/cached`, {
      seconds,
      connections: 20,
      timeoutSeconds: 10,
    })
    const renders = readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"rendered cached nav"')).length
    printTable([
      {
        page: 'uncached',
        'req/s': uncached.rps.toFixed(1),
        'p50 ms': uncached.p50Ms.toFixed(1),
        'p99 ms': uncached.p99Ms.toFixed(1),
        failures: uncached.failures,
      },
      {
        page: 'fragment cached 2 min',
        'req/s': cached.rps.toFixed(1),
        'p50 ms': cached.p50Ms.toFixed(1),
        'p99 ms': cached.p99Ms.toFixed(1),
        failures: cached.failures,
      },
    ])
    console.log(
      `\np50 ratio: ${(uncached.p50Ms / cached.p50Ms).toFixed(0)}× ; cached navigation renders during the run: ${renders} (one per worker per TTL at most: 2)`,
    )
  } finally {
    await stop(server)
  }
}
console.log(`\nroot: ${root}`)
