/**
 * The cache under a real `shipshape serve`: invalidations across 2 workers in memory mode
 * (relayed by the primary), and across 2 instances on the real Redis.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { get, type Running, ready, startServe } from '../_test/cli.js'
import { eventually } from '../_test/pipeline.js'
import { closedPort } from '../_test/sites.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
const servers: Running[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop()
})

async function start(workers: number, env: Record<string, string> = {}): Promise<Running> {
  const server = await startServe([app, '--workers', String(workers)], env)
  servers.push(server)
  await ready(server, workers)
  return server
}

const json = async (url: string) => JSON.parse((await get(url)).body) as Record<string, unknown>

/** Asks until every one of `count` workers has answered `path`; returns the answers by pid. */
async function fromEach(url: string, path: string, count: number) {
  const byPid = new Map<number, Record<string, unknown>>()
  for (let i = 0; i < 200 && byPid.size < count; i++) {
    const answer = await json(`${url}${path}`)
    byPid.set(answer.pid as number, answer)
  }
  expect(byPid.size).toBe(count)
  return byPid
}

describe('memory cache under serve --workers 2', () => {
  it('a delete or deleteByTag in one worker clears the key in the other', async () => {
    const server = await start(2)
    expect((await json(`${server.url}/mode`)).mode).toBe('memory')
    for (const [pid, answer] of await fromEach(server.url, '/fill?key=a&tag=group', 2))
      expect(answer.value).toBe(pid) // each worker holds its own copy
    await fromEach(server.url, '/fill?key=b&tag=group', 2)
    const deleting = (await json(`${server.url}/delete?key=a`)).pid
    await eventually(async () => {
      const all = await fromEach(server.url, '/get?key=a', 2)
      return [...all.values()].every((answer) => answer.value === null)
    }, `the delete by ${deleting} to reach the other worker`)
    const gets = await fromEach(server.url, '/get?key=b', 2)
    expect([...gets.values()].every((answer) => answer.value === answer.pid)).toBe(true)
    await json(`${server.url}/tag?tag=group`)
    await eventually(async () => {
      const all = await fromEach(server.url, '/get?key=b', 2)
      return [...all.values()].every((answer) => answer.value === null)
    }, 'the deleteByTag to reach the other worker')
  })

  it('10,000 concurrent misses run the factory once in the worker', async () => {
    const server = await start(1)
    const answer = await json(`${server.url}/stampede?key=hot&n=10000&ms=200`)
    expect(answer).toMatchObject({ runs: 1, values: [`computed by ${answer.pid}`] })
  })

  it('caches the navigation fragment and sends CDN headers', async () => {
    const server = await start(1)
    const page = await get(`${server.url}/page`)
    expect(page.body).toBe('<body><nav>…</nav></body>')
    expect(page.headers).toMatchObject({
      'cache-control': 'public, max-age=0, s-maxage=120',
      'cdn-cache-control': 'max-age=120',
      'surrogate-key': 'home',
    })
  })
})

describe('a Redis that cannot be reached', () => {
  it('leaves every request answered, from the factory and the memory tier', async () => {
    const server = await start(1, { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` })
    expect((await json(`${server.url}/mode`)).mode).toBe('redis')
    const first = await get(`${server.url}/fill?key=down`)
    expect(first.status).toBe(200)
    const pid = JSON.parse(first.body).pid
    expect(JSON.parse(first.body).value).toBe(pid)
    expect((await json(`${server.url}/get?key=down`)).value).toBe(pid)
    const storm = await json(`${server.url}/stampede?key=down-storm&n=1000&ms=50`)
    expect(storm.runs).toBe(1)
    await server.waitForLog(
      (line) => line.msg.includes('the shared cache (Redis) failed'),
      'the Redis warning',
    )
  })
})

describe('Redis cache under two serve instances', () => {
  const prefix = `cache-test-${randomUUID()}`
  const redis = { REDIS_URL: 'redis://127.0.0.1:6379', SHIPSHAPE_CACHE_PREFIX: prefix }
  afterAll(async () => {
    const { Redis } = await import('ioredis')
    const client = new Redis(redis.REDIS_URL)
    const keys = await client.keys(`${prefix}:*`)
    if (keys.length > 0) await client.del(...keys)
    client.disconnect()
  })

  it('shares values, invalidates tags across instances, and runs a stampede’s factory once in all', async () => {
    const [one, two] = await Promise.all([start(1, redis), start(1, redis)])
    const a = one as Running
    const b = two as Running
    expect((await json(`${a.url}/mode`)).mode).toBe('redis')
    const filled = (await json(`${a.url}/fill?key=shared&tag=t`)).value
    expect((await json(`${b.url}/fill?key=shared&tag=t`)).value).toBe(filled) // from Redis, not b's factory
    expect((await json(`${b.url}/get?key=shared`)).value).toBe(filled) // now in b's memory too
    await json(`${a.url}/tag?tag=t`)
    await eventually(async () => (await json(`${b.url}/get?key=shared`)).value === null, 'the tag to reach b')
    const [ra, rb] = await Promise.all([
      json(`${a.url}/stampede?key=storm&n=10000&ms=300`),
      json(`${b.url}/stampede?key=storm&n=10000&ms=300`),
    ])
    expect((ra?.runs as number) + (rb?.runs as number)).toBe(1)
    expect(ra?.values).toEqual(rb?.values)
  })
})
