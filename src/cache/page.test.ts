/** The response cache: what it keeps, what it never keeps, and how Vary splits its keys. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { serve } from '../_test/pipeline.js'
import { cachePage, createCache } from './index.js'

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
})

interface Reply {
  status: number
  body: string
  headers: IncomingMessage['headers']
}

function call(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Serves `handler` behind cachePage; `runs` counts how often the handler itself ran. */
async function site(
  handler: (req: IncomingMessage, res: ServerResponse, run: number) => void,
  options: Parameters<typeof cachePage>[0] = {},
) {
  const cache = await createCache({ name: 'pages' })
  let runs = 0
  const page = cachePage({ cache, ...options }, (req, res) => handler(req, res, ++runs))
  const served = await serve(async ({ req, res }) => {
    await page(req, res)
  })
  closers.push(served.close)
  return { url: served.url, runs: () => runs, cache }
}

describe('cachePage', () => {
  it('keeps a 200 per path and query, and replays it', async () => {
    const { url, runs } = await site((req, res, run) => {
      res.writeHead(200, { 'Content-Type': 'text/html', 'X-Run': String(run) })
      res.write('<p>')
      res.end(`${req.url}</p>`)
    })
    const first = await call(`${url}/about?x=1`)
    expect(first.headers['x-shipshape-cache']).toBe('miss')
    const second = await call(`${url}/about?x=1`)
    expect(second).toMatchObject({ status: 200, body: '<p>/about?x=1</p>' })
    expect(second.headers).toMatchObject({
      'x-shipshape-cache': 'hit',
      'x-run': '1',
      'content-type': 'text/html',
    })
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id'])
    expect(second.headers.age).toBe('0')
    await call(`${url}/about?x=2`)
    expect(runs()).toBe(2)
    const head = await call(`${url}/about?x=1`, {}, 'HEAD')
    expect(head).toMatchObject({ status: 200, body: '' })
    expect(head.headers['x-shipshape-cache']).toBe('hit')
    expect(runs()).toBe(2)
  })

  it('keys by the request headers Vary names', async () => {
    const { url, runs } = await site((req, res) => {
      res.writeHead(200, { Vary: 'Accept-Language', 'Content-Type': 'text/plain' })
      res.end(`hello in ${req.headers['accept-language']}`)
    })
    expect((await call(`${url}/`, { 'Accept-Language': 'fr' })).body).toBe('hello in fr')
    expect((await call(`${url}/`, { 'Accept-Language': 'en' })).body).toBe('hello in en')
    const fr = await call(`${url}/`, { 'Accept-Language': 'fr' })
    expect(fr).toMatchObject({ body: 'hello in fr', headers: { 'x-shipshape-cache': 'hit' } })
    expect((await call(`${url}/`, { 'Accept-Language': 'en' })).body).toBe('hello in en')
    expect(runs()).toBe(2)
  })

  it('never keeps a response that sets a cookie, is private or no-store, varies on *, or has a CSP nonce', async () => {
    for (const headers of [
      { 'Set-Cookie': 'session=abc' },
      { 'Cache-Control': 'private, max-age=60' },
      { 'Cache-Control': 'no-store' },
      { Vary: '*' },
      { 'Content-Security-Policy': "script-src 'nonce-abc123' 'strict-dynamic'" },
    ]) {
      const { url, runs } = await site((_req, res) => {
        for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
        res.end('personal')
      })
      await call(`${url}/me`)
      const again = await call(`${url}/me`)
      expect(again.headers['x-shipshape-cache'], JSON.stringify(headers)).toBe('miss')
      expect(runs()).toBe(2)
    }
  })

  it('keeps 200, 301 and 404 only, unless told other statuses', async () => {
    const byPath: Record<string, number> = {
      '/ok': 200,
      '/moved': 301,
      '/missing': 404,
      '/broken': 500,
      '/made': 201,
    }
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      res.statusCode = byPath[req.url ?? ''] ?? 200
      res.end(String(res.statusCode))
    }
    const { url } = await site(handler)
    for (const [path, status] of Object.entries(byPath)) {
      await call(`${url}${path}`)
      const again = await call(`${url}${path}`)
      expect(again.status).toBe(status)
      expect(again.headers['x-shipshape-cache'], path).toBe([200, 301, 404].includes(status) ? 'hit' : 'miss')
    }
    const told = await site(handler, { statuses: [500] })
    await call(`${told.url}/broken`)
    expect((await call(`${told.url}/broken`)).headers['x-shipshape-cache']).toBe('hit')
  })

  it('passes other methods and authenticated requests through, and drops pages by tag', async () => {
    const { url, runs, cache } = await site(
      (_req, res) => {
        res.end('page')
      },
      { tags: ['pages'] },
    )
    await call(`${url}/x`, {}, 'POST')
    await call(`${url}/x`, {}, 'POST')
    await call(`${url}/x`, { Authorization: 'Bearer t' })
    await call(`${url}/x`, { Authorization: 'Bearer t' })
    expect(runs()).toBe(4)
    await call(`${url}/x`)
    await call(`${url}/x`)
    expect(runs()).toBe(5)
    await cache.deleteByTag('pages')
    expect((await call(`${url}/x`)).headers['x-shipshape-cache']).toBe('miss')
  })
})

describe('the access line', () => {
  it('shows the cache’s share of the request, without the factory’s own time', async () => {
    const cache = await createCache({ name: 'timing' })
    const served = await serve(async ({ res }) => {
      const value = await cache.getOrSet('slow', async () => {
        await new Promise((wake) => setTimeout(wake, 50))
        return 'v'
      })
      res.end(value)
    })
    closers.push(served.close)
    await call(`${served.url}/`)
    await call(`${served.url}/`)
    const lines = served.logs.filter((line) => line.msg === 'request')
    expect(lines).toHaveLength(2)
    const [miss, hit] = lines as [(typeof lines)[0], (typeof lines)[0]]
    expect(typeof miss.cacheMs).toBe('number')
    // The miss took the factory's 50 ms; the cache's share leaves it out.
    expect((miss.cacheMs as number) + 45).toBeLessThanOrEqual(miss.ms as number)
    expect(hit.cacheMs).toBeUndefined() // a hit is not timed: it costs well under a microsecond
  })
})
