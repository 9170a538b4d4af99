/** CDN headers and their limits; purge against local fakes of the Fastly and Cloudflare APIs. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { cdn, cdnHeaders, purger } from './index.js'

describe('cdnHeaders', () => {
  it('writes Cache-Control, CDN-Cache-Control and each CDN’s tag header', () => {
    expect(
      cdnHeaders({
        maxAge: 60,
        sMaxAge: '10m',
        staleWhileRevalidate: '30s',
        staleIfError: '1d',
        tags: ['page', 'post-1', 'page'],
      }),
    ).toEqual({
      'Cache-Control': 'public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400',
      'CDN-Cache-Control': 'max-age=600, stale-while-revalidate=30, stale-if-error=86400',
      'Surrogate-Key': 'page post-1',
      'Cache-Tag': 'page,post-1',
      'Edge-Cache-Tag': 'page,post-1',
    })
    expect(cdnHeaders()).toEqual({ 'Cache-Control': 'public, max-age=0' })
    expect(cdnHeaders({ tags: ['a'], cdns: ['fastly'] })).toEqual({
      'Cache-Control': 'public, max-age=0',
      'Surrogate-Key': 'a',
    })
  })

  it('refuses a tag set a CDN would cut, naming the CDN and the limit', () => {
    const many = Array.from({ length: 129 }, (_, i) => `t${i}`)
    expect(() => cdnHeaders({ tags: many })).toThrow('129 tags, and akamai keeps at most 128')
    expect(() => cdnHeaders({ tags: many, cdns: ['fastly', 'cloudflare'] })).not.toThrow()
    const fifty1 = Array.from({ length: 51 }, (_, i) => `t${i}`)
    expect(() => cdnHeaders({ tags: fifty1, cdns: ['cloudfront'] })).toThrow('cloudfront keeps at most 50')
    // 128 tags of 128 characters: within Akamai's count and length, past Cloudflare's 16 KB header.
    const long = Array.from({ length: 128 }, (_, i) => `${i}`.padStart(128, 'x'))
    expect(() => cdnHeaders({ tags: long, cdns: ['akamai'] })).not.toThrow()
    expect(() => cdnHeaders({ tags: long, cdns: ['cloudflare'] })).toThrow(
      /Cache-Tag header would be 16511 bytes, and cloudflare reads at most 16384/,
    )
    expect(() => cdnHeaders({ tags: long })).toThrow(/Surrogate-Key header would be 16511 bytes/)
    try {
      cdn({ tags: many })
    } catch (error) {
      expect(error).toMatchObject({
        code: 'SHIPSHAPE_E_CDN_TAGS',
        message: expect.stringContaining('cdn():'),
      })
    }
    expect(() => cdnHeaders({ tags: ['two words'] })).toThrow(/SHIPSHAPE|tag/)
    expect(() => cdnHeaders({ maxAge: 'an hour' })).toThrow('maxAge must be seconds')
  })

  it('sets them on a response as middleware', async () => {
    const withHeaders = cdn({ sMaxAge: 300, tags: ['home'] })
    const server = createServer((req, res) => withHeaders(req, res, () => res.end('ok')))
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    expect(response.headers.get('cache-control')).toBe('public, max-age=0, s-maxage=300')
    expect(response.headers.get('surrogate-key')).toBe('home')
    server.close()
  })
})

interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
}

const fakes: { close(): void }[] = []
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.close()
})

/** A local API that records each request and answers as `answer` decides. */
async function fakeApi(answer: (seen: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body }
      seen.push(request)
      answer(request, res)
    })
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  fakes.push(server)
  return { seen, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

/** Fastly: POST /service/{id}/purge, Fastly-Key, Surrogate-Key space-separated, Fastly-Soft-Purge: 1. */
const fastlyAnswer = (seen: Seen, res: ServerResponse) => {
  const ok =
    seen.method === 'POST' &&
    /^\/service\/[^/]+\/purge$/.test(seen.url) &&
    seen.headers['fastly-key'] === 'fastly-token' &&
    typeof seen.headers['surrogate-key'] === 'string'
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
  const keys = String(seen.headers['surrogate-key'] ?? '').split(' ')
  res.end(JSON.stringify(ok ? Object.fromEntries(keys.map((k, i) => [k, `purge-${i}`])) : { msg: 'no' }))
}

/** Cloudflare: POST /client/v4/zones/{zone}/purge_cache, Bearer token, {"tags": [...]} of at most 30. */
const cloudflareAnswer = (seen: Seen, res: ServerResponse) => {
  let tags: unknown
  try {
    tags = (JSON.parse(seen.body) as { tags?: unknown }).tags
  } catch {}
  const ok =
    seen.method === 'POST' &&
    /^\/client\/v4\/zones\/[^/]+\/purge_cache$/.test(seen.url) &&
    seen.headers.authorization === 'Bearer cf-token' &&
    String(seen.headers['content-type']).startsWith('application/json') &&
    Array.isArray(tags) &&
    tags.length <= 30
  res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' })
  res.end(
    JSON.stringify(
      ok
        ? { success: true, errors: [], messages: [], result: { id: 'purge-id' } }
        : { success: false, errors: [{ code: 1012, message: 'Request must contain one of tags' }] },
    ),
  )
}

describe('purger', () => {
  it('soft-purges by surrogate key on Fastly and by tag on Cloudflare, in batches each API takes', async () => {
    const fastly = await fakeApi(fastlyAnswer)
    const cloudflare = await fakeApi(cloudflareAnswer)
    const purge = purger({
      fastly: { serviceId: 'SU1Z0isxPaozGVKXdv0eY', token: 'fastly-token', baseUrl: fastly.baseUrl },
      cloudflare: {
        zoneId: '023e105f4ecef8ad9ca31a8372d0c353',
        token: 'cf-token',
        baseUrl: cloudflare.baseUrl,
      },
    })
    const tags = Array.from({ length: 45 }, (_, i) => `post-${i}`)
    await purge(tags)
    expect(fastly.seen).toHaveLength(1)
    expect(fastly.seen[0]).toMatchObject({
      method: 'POST',
      url: '/service/SU1Z0isxPaozGVKXdv0eY/purge',
      headers: { 'fastly-soft-purge': '1', 'surrogate-key': tags.join(' ') },
    })
    expect(cloudflare.seen.map((seen) => JSON.parse(seen.body).tags)).toEqual([
      tags.slice(0, 30),
      tags.slice(30),
    ])
    expect(cloudflare.seen[0]?.url).toBe('/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache')
  })

  it('reports what the CDN answered when it refuses', async () => {
    const fastly = await fakeApi(fastlyAnswer)
    const cloudflare = await fakeApi(cloudflareAnswer)
    const wrongToken = purger({ fastly: { serviceId: 's', token: 'wrong', baseUrl: fastly.baseUrl } })
    await expect(wrongToken(['a'])).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_CDN_PURGE',
      message: expect.stringContaining('fastly answered 401'),
    })
    const hard = purger({
      fastly: { serviceId: 's', token: 'fastly-token', soft: false, baseUrl: fastly.baseUrl },
    })
    await hard(['a'])
    expect(fastly.seen.at(-1)?.headers['fastly-soft-purge']).toBeUndefined()
    const cf = purger({ cloudflare: { zoneId: 'z', token: 'wrong', baseUrl: cloudflare.baseUrl } })
    await expect(cf(['a'])).rejects.toThrow(/cloudflare answered 400: .*Request must contain/)
    await expect(cf(['no spaces please'])).rejects.toMatchObject({ code: 'SHIPSHAPE_E_CACHE_TAG' })
    const down = purger({ cloudflare: { zoneId: 'z', token: 't', baseUrl: 'http://127.0.0.1:9' } })
    await expect(down(['a'])).rejects.toMatchObject({ code: 'SHIPSHAPE_E_CDN_PURGE' })
    expect(() => purger({})).toThrow('configure fastly, cloudflare, or both')
  })
})
