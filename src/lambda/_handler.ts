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
import { createLogger, type ErrorTracker, startErrorTracking } from '../observe/index.js'
import { defaultMiddleware, loadServeOptions } from '../server/index.js'
import type { Middleware } from '../types.js'

type Event = APIGatewayProxyEvent | APIGatewayProxyEventV2
type Result = APIGatewayProxyResult | APIGatewayProxyStructuredResultV2

/**
 * The header the handler names the invocation's deadline in (epoch milliseconds). Requests reach
 * the pipeline only from the handler, over a socket in a private directory, and the handler
 * always sets it, so the value an event carries is overwritten.
 */
const deadlineHeader = 'x-shipshape-lambda-deadline'
/**
 * The handler's own 504 comes this long before the function's time runs out; the pipeline's 503
 * comes `answerMs` before that, and earlier by the request clock's sweep (1/20 of its limit).
 */
const handlerMarginMs = 200
const answerMs = 300

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

/**
 * What the Lambda Node.js runtime offers for streamed responses (function URLs with
 * `InvokeMode: RESPONSE_STREAM`): a global `awslambda`, present in the runtime only.
 */
interface StreamingRuntime {
  streamifyResponse<H>(handler: H): H
  HttpResponseStream: {
    /** Writes `prelude` (status, headers, cookies) as the response stream's first bytes. */
    from(
      stream: ResponseStream,
      prelude: { statusCode: number; headers: Record<string, string>; cookies?: string[] },
    ): ResponseStream
  }
}
/** The runtime's response stream: a writable, as far as a handler uses it. */
interface ResponseStream {
  write(chunk: Buffer): boolean
  end(callback?: () => void): void
  once(event: 'drain', listener: () => void): unknown
  destroy(error?: Error): void
}

export interface LambdaHandlerOptions {
  /**
   * Stream responses (a function URL with `InvokeMode: RESPONSE_STREAM`): the body goes out as
   * the app writes it, not once it is complete, and is neither buffered nor base64-encoded.
   * Needs the runtime's `awslambda.streamifyResponse`; elsewhere the handler buffers, with a
   * warning. Default false (API Gateway integrations take buffered results only).
   */
  streaming?: boolean
}

type BufferedHandler = (event: Event, context?: Partial<Context>) => Promise<Result>
type StreamingHandler = (event: Event, stream: ResponseStream, context?: Partial<Context>) => Promise<void>

/** Starts the pipeline's server once; each call of the returned handler replays one event to it. */
export function lambdaHandler(app?: string, options?: { streaming?: false }): BufferedHandler
export function lambdaHandler(
  app: string | undefined,
  options: LambdaHandlerOptions,
): BufferedHandler | StreamingHandler
export function lambdaHandler(
  app?: string,
  { streaming = false }: LambdaHandlerOptions = {},
): BufferedHandler | StreamingHandler {
  let started: Promise<Started> | undefined
  // The handler's own lines are no request's: no breadcrumbs to keep.
  const logger = createLogger({ buffered: false, breadcrumbs: false })
  /** The event as a request to the pipeline, and how long the handler may wait for its answer. */
  const prepare = async (event: Event, context: Partial<Context> | undefined) => {
    // Answer before Lambda cuts the invocation off: the pipeline's 503 (logged, with a request
    // id) when the app overruns, else the handler's own 504 just before the end.
    const remaining = context?.getRemainingTimeInMillis?.() ?? 30_000
    started ??= start(app, remaining)
    const { socketPath, errors } = await started
    const request = requestOf(event)
    request.headers[deadlineHeader] = String(Date.now() + remaining)
    const waitMs = Math.max(100, remaining - handlerMarginMs)
    return { socketPath, request, waitMs, flushed: () => flushed(errors, Date.now() + waitMs) }
  }
  const failed = (error: unknown) => logger.error({ err: error }, 'lambda: the request could not be answered')
  // Lambda may freeze the environment the moment the handler returns: the invocation's errors
  // (sent to SENTRY_DSN, notified) and the logs go out first, within the invocation's time.
  const flushed = async (errors: ErrorTracker, by: number) => {
    await Promise.race([
      errors.flush(),
      new Promise((done) => setTimeout(done, Math.max(0, by - Date.now()))),
    ])
    await new Promise((done) => logger.flush(() => done(undefined)))
  }

  const runtime = (globalThis as { awslambda?: StreamingRuntime }).awslambda
  if (streaming && runtime?.streamifyResponse) {
    return runtime.streamifyResponse(async function shipshapeLambdaStream(
      event: Event,
      stream: ResponseStream,
      context?: Partial<Context>,
    ): Promise<void> {
      const { socketPath, request, waitMs, flushed } = await prepare(event, context)
      try {
        await streamTo(socketPath, request, waitMs, (status, headers) =>
          runtime.HttpResponseStream.from(stream, preludeOf(status, headers)),
        )
      } catch (error) {
        failed(error)
      } finally {
        await flushed()
      }
    })
  }
  if (streaming) logger.warn('lambda: no awslambda.streamifyResponse in this runtime; responses are buffered')
  return async function shipshapeLambda(event: Event, context?: Partial<Context>): Promise<Result> {
    const { socketPath, request, waitMs, flushed } = await prepare(event, context)
    try {
      return await forward(socketPath, request, waitMs, event)
    } catch (error) {
      failed(error)
      return resultOf(
        event,
        504,
        { 'content-type': 'text/plain; charset=utf-8' },
        Buffer.from('Gateway Timeout\n'),
      )
    } finally {
      await flushed()
    }
  }
}

/** A streamed response's prelude: headers joined, Set-Cookie as `cookies` (the function URL's 2.0 shape). */
function preludeOf(status: number, headers: IncomingHttpHeaders) {
  const { headers: single, cookies } = resultOf(
    { version: '2.0' } as APIGatewayProxyEventV2,
    status,
    headers,
    Buffer.alloc(0),
  ) as APIGatewayProxyStructuredResultV2
  return { statusCode: status, headers: single as Record<string, string>, ...(cookies ? { cookies } : {}) }
}

interface Started {
  socketPath: string
  /** The function's error tracker: no store (a function has no database of its own), SENTRY_DSN and the notifiers. */
  errors: ErrorTracker
}

/** `functionMs`: the first invocation's remaining time, about the function's timeout. */
async function start(app: string | undefined, functionMs: number): Promise<Started> {
  // Behind API Gateway every request comes over the socket from this handler: trust it for the
  // X-Forwarded-For it sets from the event's source IP.
  const options = loadServeOptions(app, { 'trusted-proxies': 'unix' }, process.env)
  // --timeout within the function's own: the request clock then sweeps often enough for it.
  const timeoutMs = Math.max(
    100,
    Math.min(
      options.timeoutMs > 0 ? options.timeoutMs : Number.POSITIVE_INFINITY,
      functionMs - handlerMarginMs - answerMs,
    ),
  )
  const sweepMs = Math.min(1000, timeoutMs / 20)
  const logger = createLogger({ level: options.logLevel, buffered: false })
  const errors = startErrorTracking(options.observe, logger)
  const pipeline = createPipeline(
    await loadApp(options.app, options.kind),
    {
      timeoutMs,
      trustedProxies: options.trustedProxies,
      livezPath: options.livezPath,
      readyzPath: options.readyzPath,
      maxBodyBytes: options.maxBodyBytes ?? Number.POSITIVE_INFINITY,
      accessLog: options.accessLog,
      worker: { errors },
    },
    logger,
    [lambdaDeadline(timeoutMs, sweepMs), ...(await defaultMiddleware(options, logger))],
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
  return { socketPath, errors }
}

/** The request's time limit: --timeout, or less when the invocation's remaining time is shorter. */
function lambdaDeadline(timeoutMs: number, sweepMs: number): Middleware {
  return function lambdaDeadline(ctx, next) {
    const end = Number(ctx.req.headers[deadlineHeader])
    delete ctx.req.headers[deadlineHeader]
    const left = end - Date.now() - handlerMarginMs - answerMs - sweepMs
    if (left < timeoutMs) ctx.setTimeout(Math.max(1, left))
    return next()
  }
}

/**
 * Replays `request` and writes the response to the stream `open` returns once its status and
 * headers are known, chunk by chunk as the app writes it. Without an answer within `timeoutMs`
 * (before any byte was sent), a 504; a response cut off midway ends the stream with an error.
 */
function streamTo(
  socketPath: string,
  request: Forwarded,
  timeoutMs: number,
  open: (status: number, headers: IncomingHttpHeaders) => ResponseStream,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let body: ResponseStream | undefined
    const outgoing = httpRequest(requestTo(socketPath, request, timeoutMs), (response) => {
      // Streamed bytes go as they are: no base64 (the prelude's format carries binary bodies).
      const sink = open(response.statusCode ?? 502, response.headers)
      body = sink
      outgoing.setTimeout(0)
      response.on('data', (chunk: Buffer) => {
        if (!sink.write(chunk)) {
          response.pause()
          sink.once('drain', () => response.resume())
        }
      })
      response.on('end', () => sink.end(resolve))
      response.on('error', (error) => {
        sink.destroy(error)
        reject(error)
      })
    })
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    outgoing.on('error', (error) => {
      if (body === undefined) {
        const sink = open(504, { 'content-type': 'text/plain; charset=utf-8' })
        sink.write(Buffer.from('Gateway Timeout\n'))
        sink.end()
      }
      reject(error)
    })
    outgoing.end(request.body)
  })
}

/** The request to the pipeline's socket, bounded by `timeoutMs` without an answer. */
function requestTo(socketPath: string, request: Forwarded, timeoutMs: number) {
  return {
    socketPath,
    method: request.method,
    path: request.path,
    headers: request.headers,
    timeout: timeoutMs,
  }
}

function forward(socketPath: string, request: Forwarded, timeoutMs: number, event: Event): Promise<Result> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(requestTo(socketPath, request, timeoutMs), (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () =>
        resolve(resultOf(event, response.statusCode ?? 502, response.headers, Buffer.concat(chunks))),
      )
      response.on('error', reject)
    })
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    outgoing.on('error', reject)
    outgoing.end(request.body)
  })
}
