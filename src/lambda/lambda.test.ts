/**
 * shipshape/lambda: AWS's documented events replayed through the handler, into the real
 * pipeline and app, and the results in the shape each integration expects.
 */
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { parseEnvelope } from '@sentry/core'
import { describe, expect, it } from 'vitest'
import { functionUrl, httpApiV2, restApiV1 } from './_test/events.js'
import { lambdaHandler } from './index.js'

// The hosts API Gateway and function URLs answer on: an unknown Host gets a 400, as under serve.
process.env.SHIPSHAPE_ALLOWED_HOSTS = '.amazonaws.com,.on.aws'
// A Sentry-compatible receiver for the function's errors (SENTRY_DSN, read at the first invocation).
const envelopes: ReturnType<typeof parseEnvelope>[] = []
const sentry = createServer(async (req, res) => {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const body = Buffer.concat(chunks)
  envelopes.push(
    parseEnvelope(new Uint8Array(req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body)),
  )
  res.writeHead(200).end('{}')
})
await new Promise<void>((ready) => sentry.listen(0, '127.0.0.1', ready))
sentry.unref()
process.env.SENTRY_DSN = `http://public1@127.0.0.1:${(sentry.address() as AddressInfo).port}/3`
const handler = lambdaHandler(new URL('./_test/app.ts', import.meta.url).pathname)
const context = { getRemainingTimeInMillis: () => 10_000 }

/** What API Gateway reads of a handler's result (both payload versions' fields). */
interface LambdaResult {
  statusCode: number
  body: string
  isBase64Encoded: boolean
  headers: Record<string, string>
  multiValueHeaders: Record<string, string[]>
  cookies?: string[]
}

describe('lambdaHandler', () => {
  it('HTTP API (payload 2.0): method, path, query, cookies and source IP reach the app; cookies come back in `cookies`', async () => {
    // The documented POST carries cookies and no Origin: the pipeline's cross-site check refuses it, as serve does.
    expect(((await handler(httpApiV2, context)) as LambdaResult).statusCode).toBe(403)
    const fromSite = {
      ...httpApiV2,
      headers: { ...httpApiV2.headers, origin: 'https://id.execute-api.us-east-1.amazonaws.com' },
    }
    const result = (await handler(fromSite, context)) as LambdaResult
    expect(result.statusCode).toBe(200)
    expect(result.isBase64Encoded).toBe(false)
    expect(result.cookies).toEqual(['session=abc; HttpOnly; Secure', 'theme=dark'])
    expect(result.headers['set-cookie']).toBeUndefined()
    expect(result.headers['x-multi']).toBe('one, two')
    expect(result.headers['x-request-id']).toMatch(/\S/)
    expect(result.headers['x-content-type-options']).toBe('nosniff') // the security middleware ran
    expect(JSON.parse(result.body)).toEqual({
      method: 'POST',
      url: '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
      cookie: 'cookie1; cookie2',
      forwardedFor: '192.0.2.1',
      body: Buffer.from('Hello from Lambda').toString('base64'),
    })
  })

  it('REST API (payload 1.0): multi-value query strings and headers in, multiValueHeaders out', async () => {
    const result = (await handler(restApiV1, context)) as LambdaResult
    expect(result.statusCode).toBe(200)
    expect(result.multiValueHeaders['set-cookie']).toEqual(['session=abc; HttpOnly; Secure', 'theme=dark'])
    // Node joins a repeated header (but Set-Cookie) into one value, as HTTP allows.
    expect(result.multiValueHeaders['x-multi']).toEqual(['one, two'])
    const seen = JSON.parse(result.body)
    expect(seen).toMatchObject({
      method: 'GET',
      url: '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
      forwardedFor: '192.0.2.1',
    })
  })

  it('function URLs (payload 2.0): a base64 request body arrives as bytes; a binary answer goes back base64', async () => {
    // The documented '<url-id>' is a placeholder, not a host name: a real one, and the page's Origin.
    const host = 'abc123.lambda-url.us-west-2.on.aws'
    const headers = { ...functionUrl.headers, host, origin: `https://${host}` }
    const bytes = Buffer.from([0, 1, 2, 250, 255])
    const posted = (await handler(
      { ...functionUrl, headers, body: bytes.toString('base64'), isBase64Encoded: true },
      context,
    )) as LambdaResult
    expect(Buffer.from(JSON.parse(posted.body).body, 'base64')).toEqual(bytes)
    const png = (await handler(
      { ...functionUrl, headers, rawPath: '/png', rawQueryString: '' },
      context,
    )) as LambdaResult
    expect(png.isBase64Encoded).toBe(true)
    expect(Buffer.from(png.body, 'base64')).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]),
    )
    expect(png.headers['content-type']).toBe('image/png')
  })

  it("an app that throws gets the pipeline's 500, with its request id, and its error is sent to SENTRY_DSN before the handler returns", async () => {
    const headers = { ...httpApiV2.headers, origin: 'https://id.execute-api.us-east-1.amazonaws.com' }
    const result = (await handler(
      { ...httpApiV2, headers, rawPath: '/throw', rawQueryString: '' },
      context,
    )) as LambdaResult
    expect(result.statusCode).toBe(500)
    expect(result.body).toMatch(/^Internal Server Error \(request id \S+\)/)
    expect(result.headers['x-request-id']).toMatch(/\S/)
    // Sent before the handler returned (Lambda may freeze the environment then), with its request.
    const events = envelopes.flatMap((envelope) =>
      envelope[1]
        .filter((item) => item[0].type === 'event')
        .map(({ 1: payload }) =>
          payload instanceof Uint8Array ? JSON.parse(new TextDecoder().decode(payload)) : payload,
        ),
    )
    expect(events).toHaveLength(1)
    const sent = events[0]
    expect(sent.exception.values[0].value).toBe('the app failed on purpose')
    expect(JSON.stringify(sent)).toContain(result.headers['x-request-id'])
  })

  it("times a request out from the function's remaining time: the pipeline's 503 before Lambda's cut", async () => {
    const headers = { ...httpApiV2.headers, origin: 'https://id.execute-api.us-east-1.amazonaws.com' }
    const started = performance.now()
    const result = (await handler(
      { ...httpApiV2, headers, rawPath: '/slow', rawQueryString: '' },
      { getRemainingTimeInMillis: () => 3000 },
    )) as LambdaResult
    const tookMs = performance.now() - started
    expect(result.statusCode).toBe(503)
    expect(result.body).toMatch(/^Service Unavailable: the request timed out/)
    // Within the 3 s left, less the handler's margin, the answer's and the request clock's sweep.
    expect(tookMs).toBeGreaterThan(1900)
    expect(tookMs).toBeLessThan(2800)
    // The deadline travels in a header the app never sees, whatever the event says.
    const echoed = (await handler(
      { ...httpApiV2, headers: { ...headers, 'x-shipshape-lambda-deadline': '1' } },
      context,
    )) as LambdaResult
    expect(JSON.parse(echoed.body).deadline).toBeUndefined()
  })
})

describe('lambdaHandler, every app kind', () => {
  // The http suite's conformance fixtures, one per app kind (hono is a fetch handler too).
  const kinds = ['node', 'express', 'connect', 'koa', 'fastify', 'hono', 'fetch']
  it.each(kinds)(
    '%s: a GET through the handler reaches the app and comes back through the pipeline',
    async (kind) => {
      const app = new URL(`../http/_test/${kind}.ts`, import.meta.url).pathname
      const event = {
        ...httpApiV2,
        rawPath: '/',
        rawQueryString: '',
        cookies: [],
        body: undefined,
        isBase64Encoded: false,
        requestContext: {
          ...httpApiV2.requestContext,
          http: { ...httpApiV2.requestContext.http, method: 'GET', path: '/' },
        },
      }
      const result = (await lambdaHandler(app)(event, context)) as LambdaResult
      expect(result.statusCode).toBe(200)
      expect(result.body).toBe('hello\n')
      expect(result.headers['x-app']).toBe(kind)
      expect(result.headers['x-request-id']).toMatch(/\S/)
      expect(result.headers['x-content-type-options']).toBe('nosniff')
    },
  )
})

describe('lambdaHandler, streaming', () => {
  it('streams through the runtime’s response stream: the prelude, 8 NULs, then each chunk as the app writes it', async () => {
    // The Runtime API's side: it takes the streamed response as a chunked POST, as the runtime
    // interface client sends it, and notes when each chunk arrives.
    const arrivals: { at: number; bytes: Buffer }[] = []
    const received = new Promise<void>((done) => {
      const api = createServer((req, res) => {
        req.on('data', (bytes: Buffer) => arrivals.push({ at: performance.now(), bytes }))
        req.on('end', () => {
          res.writeHead(202).end()
          api.close()
          done()
        })
      }).listen(0, '127.0.0.1')
      api.once('listening', () => {
        const { port } = api.address() as AddressInfo
        responseUrl = `http://127.0.0.1:${port}/2018-06-01/runtime/invocation/id-1/response`
      })
    })
    let responseUrl = ''
    while (!responseUrl)
      await new Promise((resolve) => setTimeout(resolve, 10))
      // The runtime's contract, as the Node.js runtime interface client implements it.
    ;(globalThis as { awslambda?: unknown }).awslambda = {
      streamifyResponse: (handler: unknown) => handler,
      HttpResponseStream: {
        from(stream: NodeJS.WritableStream, prelude: unknown) {
          stream.write(JSON.stringify(prelude))
          stream.write(Buffer.alloc(8))
          return stream
        },
      },
    }
    const streamed = lambdaHandler(new URL('./_test/app.ts', import.meta.url).pathname, { streaming: true })
    delete (globalThis as { awslambda?: unknown }).awslambda
    const stream = request(responseUrl, {
      method: 'POST',
      headers: {
        'lambda-runtime-function-response-mode': 'streaming',
        'content-type': 'application/vnd.awslambda.http-integration-response',
        'transfer-encoding': 'chunked',
      },
    })
    const host = 'abc123.lambda-url.us-west-2.on.aws'
    await (streamed as (e: unknown, s: unknown, c: unknown) => Promise<void>)(
      {
        ...functionUrl,
        headers: { ...functionUrl.headers, host, origin: `https://${host}` },
        rawPath: '/chunks',
        rawQueryString: '',
      },
      stream,
      context,
    )
    await received
    const whole = Buffer.concat(arrivals.map((arrival) => arrival.bytes))
    const delimiter = whole.indexOf(Buffer.alloc(8))
    const prelude = JSON.parse(whole.subarray(0, delimiter).toString())
    expect(prelude).toMatchObject({ statusCode: 200, cookies: ['seen=1'] })
    expect(prelude.headers['content-type']).toBe('text/plain')
    expect(prelude.headers['x-request-id']).toMatch(/\S/)
    expect(whole.subarray(delimiter + 8).toString()).toBe('first\nsecond\n')
    const first = arrivals.find((arrival) => arrival.bytes.includes('first'))
    const second = arrivals.find((arrival) => arrival.bytes.includes('second'))
    // The first chunk did not wait for the second (a loaded machine may delay it some).
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThan(500)
  })
})
