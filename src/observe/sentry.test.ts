/** Sending to a Sentry-compatible server: a real HTTP receiver, envelopes read with the Sentry SDK's own parser. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { parseEnvelope } from '@sentry/core'
import { afterEach, describe, expect, it } from 'vitest'
import { get, ready, startServe } from '../_test/cli.js'
import { eventuallyPasses } from '../_test/pipeline.js'
import type { ErrorEvent } from './_event.js'
import { parseDsn, sentryTransport } from './_sentry.js'

interface Received {
  headers: IncomingMessage['headers']
  url: string
  envelope: ReturnType<typeof parseEnvelope>
}

/** An item's payload: bytes when its header gave a length (as ours do), parsed here. */
const payload = (value: unknown) =>
  value instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(value)) : value

const closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers.splice(0)) close()
})

/** A receiver that answers each envelope with `answer` (default 200). */
async function receiver(answer: (n: number, res: ServerResponse) => boolean = () => false) {
  const received: Received[] = []
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body =
      req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks)
    received.push({ headers: req.headers, url: req.url ?? '', envelope: parseEnvelope(new Uint8Array(body)) })
    if (!answer(received.length, res)) res.writeHead(200).end('{}')
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  closers.push(() => server.close())
  const { port } = server.address() as AddressInfo
  return { received, dsn: `http://public123@127.0.0.1:${port}/7` }
}

const event = (message: string): ErrorEvent =>
  ({
    event_id: Math.random().toString(16).slice(2).padEnd(32, '0'),
    timestamp: Date.now() / 1000,
    level: 'error',
    platform: 'node',
    exception: { values: [{ type: 'Error', value: message }] },
    tags: {},
    extra: {},
    contexts: { runtime: { name: 'node', version: process.version } },
  }) as ErrorEvent

describe('sending to a Sentry-compatible server', () => {
  it('parses DSNs and refuses malformed ones', () => {
    expect(parseDsn('https://abc@o1.ingest.sentry.io/42')).toEqual({
      url: 'https://o1.ingest.sentry.io/api/42/envelope/',
      publicKey: 'abc',
      projectId: '42',
    })
    expect(parseDsn('https://abc@example.com/sentry/9')?.url).toBe(
      'https://example.com/sentry/api/9/envelope/',
    )
    for (const bad of ['nonsense', 'https://example.com/42', 'https://abc@example.com/x', 'ftp://a@b/1'])
      expect(parseDsn(bad)).toBeUndefined()
  })

  it('posts gzipped envelopes with X-Sentry-Auth that the Sentry SDK parses, and flushes them', async () => {
    const { received, dsn } = await receiver()
    const transport = sentryTransport(parseDsn(dsn) as NonNullable<ReturnType<typeof parseDsn>>)
    for (let i = 0; i < 5; i++) transport.send(event(`boom ${i}`))
    await transport.flush()
    expect(received).toHaveLength(5)
    const [first] = received
    expect(first?.url).toBe('/api/7/envelope/')
    expect(first?.headers['content-encoding']).toBe('gzip')
    expect(first?.headers['x-sentry-auth']).toMatch(
      /^Sentry sentry_version=7, sentry_client=shipshape\/[\d.]+, sentry_key=public123$/,
    )
    const [header, items] = first?.envelope ?? []
    expect(header).toMatchObject({ dsn, event_id: expect.any(String) })
    expect(items?.[0]?.[0]).toMatchObject({ type: 'event' })
    expect(payload(items?.[0]?.[1])).toMatchObject({
      level: 'error',
      exception: { values: [{ type: 'Error' }] },
    })
    expect(transport.counts()).toEqual({ sent: 5, dropped: {} })
  })

  it('honours 429 with X-Sentry-Rate-Limits, then reports what it dropped in a client_report', async () => {
    const { received, dsn } = await receiver((n, res) => {
      if (n !== 1) return false
      res.writeHead(429, { 'x-sentry-rate-limits': '1:error:organization' }).end()
      return true
    })
    const transport = sentryTransport(parseDsn(dsn) as NonNullable<ReturnType<typeof parseDsn>>)
    transport.send(event('first'))
    await transport.flush()
    for (let i = 0; i < 3; i++) transport.send(event('while paused'))
    await transport.flush()
    expect(received).toHaveLength(1)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    transport.send(event('after'))
    await transport.flush()
    expect(received).toHaveLength(2)
    const report = received[1]?.envelope[1].find((item) => item[0].type === 'client_report')
    expect(payload(report?.[1])).toMatchObject({
      discarded_events: [{ reason: 'ratelimit_backoff', category: 'error', quantity: 4 }],
    })
  })

  it('honours Retry-After on a 429, pauses only the categories X-Sentry-Rate-Limits names, and 60 s on a bare 429', async () => {
    const { received, dsn } = await receiver((n, res) => {
      if (n === 1) res.writeHead(429, { 'retry-after': '1' }).end()
      else if (n === 3) res.writeHead(200, { 'x-sentry-rate-limits': '60:transaction:organization' }).end()
      else if (n === 5) res.writeHead(429).end()
      else return false
      return true
    })
    const transport = sentryTransport(parseDsn(dsn) as NonNullable<ReturnType<typeof parseDsn>>)
    const sent = async (message: string) => {
      transport.send(event(message))
      await transport.flush()
      return received.length
    }
    expect(await sent('limited')).toBe(1)
    expect(await sent('within Retry-After')).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await sent('after Retry-After')).toBe(2)
    // Transactions limited for a minute: errors still go.
    expect(await sent('transactions limited')).toBe(3)
    expect(await sent('an error meanwhile')).toBe(4)
    // A 429 that says nothing: 60 s, so a second later it is still paused.
    expect(await sent('bare 429')).toBe(5)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    expect(await sent('a second later')).toBe(5)
    expect(transport.counts().dropped).toEqual({ ratelimit_backoff: 4 })
  })

  it('stays bounded when the server hangs: the sender never waits, drops are counted', async () => {
    const { dsn } = await receiver(() => true) // never answers
    const transport = sentryTransport(parseDsn(dsn) as NonNullable<ReturnType<typeof parseDsn>>)
    for (let i = 0; i < 1000; i++) transport.send(event('storm'))
    expect(transport.counts().dropped.queue_overflow).toBeGreaterThanOrEqual(1000 - 102)
    await transport.flush(100) // gives up waiting, as shutdown does
  })

  it('retries a failing server with backoff, then drops', async () => {
    const { received, dsn } = await receiver((n, res) => {
      if (n > 2) return false
      res.writeHead(503).end()
      return true
    })
    const transport = sentryTransport(parseDsn(dsn) as NonNullable<ReturnType<typeof parseDsn>>)
    transport.send(event('flaky'))
    await transport.flush(10_000)
    expect(received).toHaveLength(3)
    expect(transport.counts()).toEqual({ sent: 1, dropped: {} })
  })

  it('under shipshape serve: SENTRY_DSN, SENTRY_RELEASE and SENTRY_ENVIRONMENT apply, and SIGTERM flushes what is queued', async () => {
    const { received, dsn } = await receiver()
    const app = new URL('./_test/app.ts', import.meta.url).pathname
    const server = await startServe([app, '--workers', '1'], {
      SENTRY_DSN: dsn,
      SENTRY_RELEASE: 'r-sentry',
      SENTRY_ENVIRONMENT: 'preview',
    })
    try {
      await ready(server, 1)
      expect((await get(`${server.url}/captured/5`)).status).toBe(200)
      // Straight away: the event is built and sent off the request path, and must not be lost.
      server.child.kill('SIGTERM')
      expect(await server.exited).toBe(0)
    } finally {
      await server.stop()
    }
    const events = received.flatMap(({ envelope }) =>
      envelope[1].filter((item) => item[0].type === 'event').map((item) => payload(item[1])),
    )
    expect(events).toEqual([
      expect.objectContaining({
        release: 'r-sentry',
        environment: 'preview',
        exception: { values: [expect.objectContaining({ value: 'invoice 5 could not be sent' })] },
      }),
    ])
  })

  it('under shipshape serve: a Sentry server that fails leaves the app answering, and its drops are on /metrics', async () => {
    const { dsn } = await receiver((_n, res) => {
      res.writeHead(503).end()
      return true
    })
    const app = new URL('./_test/app.ts', import.meta.url).pathname
    const server = await startServe([app, '--workers', '1', '--metrics-bind', '127.0.0.1:0'], {
      SENTRY_DSN: dsn,
    })
    try {
      await ready(server, 1)
      const { metricsUrl } = await server.waitForLog(
        (l) => typeof l.metricsUrl === 'string',
        'serving metrics',
      )
      for (let id = 0; id < 3; id++) expect((await get(`${server.url}/captured/${id}`)).status).toBe(200)
      expect((await get(`${server.url}/`)).body).toBe('ok\n')
      await eventuallyPasses(async () => {
        const { body } = await get(metricsUrl as string)
        expect(Number(/^shipshape_sentry_dropped_total (\d+)$/m.exec(body)?.[1])).toBeGreaterThanOrEqual(1)
      })
    } finally {
      await server.stop()
    }
  })
})
