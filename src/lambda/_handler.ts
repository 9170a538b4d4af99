/**
 * Any app `shipshape serve` runs, on AWS Lambda: the same pipeline (request ids, security
 * headers, static files, timeouts, the app's adapter) behind a real node:http server on a Unix
 * socket in the function's /tmp, started once per execution environment (the cold start), and
 * each event replayed to it as an HTTP request. A real server rather than fake req/res objects:
 * every app kind, every middleware and every body behaves exactly as under serve.
 *
 * Events: API Gateway HTTP APIs (payload 2.0) and Lambda function URLs (the same shape), and
 * API Gateway REST APIs (payload 1.0, with multi-value headers and query strings).
 */
import { mkdtempSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type {
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda'
import { becomeWorker, createHttpServer, createPipeline, loadApp } from '../http/index.js'
import { createLogger } from '../observe/index.js'
import { defaultMiddleware, loadServeOptions } from '../server/index.js'

type Event = APIGatewayProxyEvent | APIGatewayProxyEventV2
type Result = APIGatewayProxyResult | APIGatewayProxyStructuredResultV2

interface Forwarded {
  method: string
  path: string
  headers: Record<string, string | string[]>
  body: Buffer
}

const isV2 = (event: Event): event is APIGatewayProxyEventV2 =>
  (event as APIGatewayProxyEventV2).version === '2.0'

/** The event as the HTTP request the client sent API Gateway (or the function URL). */
function requestOf(event: Event): Forwarded {
  const body = event.body
    ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
    : Buffer.alloc(0)
  const headers: Record<string, string | string[]> = {}
  if (isV2(event)) {
    for (const [name, value] of Object.entries(event.headers ?? {}))
      if (value !== undefined) headers[name.toLowerCase()] = value
    // Payload 2.0 moves the Cookie header into `cookies`.
    if (event.cookies?.length) headers.cookie = event.cookies.join('; ')
    headers['x-forwarded-for'] = event.requestContext.http.sourceIp
    headers.host ??= event.requestContext.domainName
    const query = event.rawQueryString ? `?${event.rawQueryString}` : ''
    return {
      method: event.requestContext.http.method,
      path: `${event.rawPath}${query}`,
      headers,
      body: withLength(headers, body),
    }
  }
  const multi = event.multiValueHeaders ?? {}
  for (const [name, value] of Object.entries(event.headers ?? {}))
    if (value !== undefined) headers[name.toLowerCase()] = value
  for (const [name, values] of Object.entries(multi))
    if (values?.length) headers[name.toLowerCase()] = values.length === 1 ? (values[0] as string) : values
  headers['x-forwarded-for'] = event.requestContext?.identity?.sourceIp ?? '127.0.0.1'
  if (event.requestContext?.domainName) headers.host ??= event.requestContext.domainName
  const params = new URLSearchParams()
  const multiQuery = event.multiValueQueryStringParameters ?? {}
  for (const [name, values] of Object.entries(multiQuery))
    for (const value of values ?? []) params.append(name, value)
  if (Object.keys(multiQuery).length === 0)
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
      if (value !== undefined) params.append(name, value)
  const query = params.size > 0 ? `?${params}` : ''
  return { method: event.httpMethod, path: `${event.path}${query}`, headers, body: withLength(headers, body) }
}

function withLength(headers: Record<string, string | string[]>, body: Buffer): Buffer {
  // API Gateway and function URLs are reached over HTTPS only (REST APIs say so themselves).
  headers['x-forwarded-proto'] ??= 'https'
  headers['content-length'] = String(body.length)
  delete headers['transfer-encoding']
  return body
}

/** Text types go back as they are; anything else (images, compressed bodies) base64-encoded, as API Gateway requires. */
function isText(headers: IncomingHttpHeaders): boolean {
  if (headers['content-encoding'] && headers['content-encoding'] !== 'identity') return false
  const type = String(headers['content-type'] ?? 'text/plain')
  return /^text\/|[/+](json|xml|javascript|x-www-form-urlencoded)\b|^image\/svg\+xml/i.test(type)
}

/** The answer in the shape the event's integration expects: 2.0 with `cookies`, 1.0 with multiValueHeaders. */
function resultOf(event: Event, status: number, headers: IncomingHttpHeaders, body: Buffer): Result {
  const text = isText(headers)
  const encoded = { body: body.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text }
  if (isV2(event)) {
    const single: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers)) {
      if (name === 'set-cookie' || value === undefined) continue
      single[name] = Array.isArray(value) ? value.join(', ') : String(value)
    }
    const cookies = headers['set-cookie'] ?? []
    return { statusCode: status, headers: single, ...(cookies.length ? { cookies } : {}), ...encoded }
  }
  const multiValueHeaders: Record<string, string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) multiValueHeaders[name] = Array.isArray(value) ? value : [String(value)]
  }
  return { statusCode: status, headers: {}, multiValueHeaders, ...encoded }
}

/** Starts the pipeline's server once; each call of the returned handler replays one event to it. */
export function lambdaHandler(app?: string) {
  let started: Promise<string> | undefined
  const logger = createLogger({ buffered: false })
  return async function shipshapeLambda(event: Event, context?: Partial<Context>): Promise<Result> {
    started ??= start(app)
    const socketPath = await started
    const request = requestOf(event)
    // Answer before Lambda cuts the invocation off, so the client gets a 504, not a bare timeout.
    const remaining = context?.getRemainingTimeInMillis?.() ?? 30_000
    try {
      return await forward(socketPath, request, Math.max(100, remaining - 200), event)
    } catch (error) {
      logger.error({ err: error }, 'lambda: the request could not be answered')
      return resultOf(
        event,
        504,
        { 'content-type': 'text/plain; charset=utf-8' },
        Buffer.from('Gateway Timeout\n'),
      )
    } finally {
      // Lambda may freeze the environment the moment the handler returns: flush the logs first.
      await new Promise((done) => logger.flush(() => done(undefined)))
    }
  }
}

async function start(app: string | undefined): Promise<string> {
  // Behind API Gateway every request comes over the socket from this handler: trust it for the
  // X-Forwarded-For it sets from the event's source IP.
  const options = loadServeOptions(app, { 'trusted-proxies': 'unix' }, process.env)
  const logger = createLogger({ level: options.logLevel, buffered: false })
  const pipeline = createPipeline(
    await loadApp(options.app, options.kind),
    {
      timeoutMs: options.timeoutMs,
      trustedProxies: options.trustedProxies,
      livezPath: options.livezPath,
      readyzPath: options.readyzPath,
      maxBodyBytes: options.maxBodyBytes ?? Number.POSITIVE_INFINITY,
      accessLog: options.accessLog,
    },
    logger,
    await defaultMiddleware(options, logger),
  )
  becomeWorker(pipeline.worker)
  const server = createHttpServer(pipeline, {
    headersTimeoutMs: options.headersTimeoutMs,
    requestTimeoutMs: options.bodyTimeoutMs,
    keepAliveTimeoutMs: options.keepAliveMs,
    maxHeaderBytes: options.maxHeaderBytes,
  })
  const socketPath = join(mkdtempSync(join(tmpdir(), 'shipshape-lambda-')), 'http.sock')
  await new Promise<void>((listening, failed) => server.once('error', failed).listen(socketPath, listening))
  server.unref()
  return socketPath
}

function forward(socketPath: string, request: Forwarded, timeoutMs: number, event: Event): Promise<Result> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        socketPath,
        method: request.method,
        path: request.path,
        headers: request.headers,
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve(resultOf(event, response.statusCode ?? 502, response.headers, Buffer.concat(chunks))),
        )
        response.on('error', reject)
      },
    )
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    outgoing.on('error', reject)
    outgoing.end(request.body)
  })
}
