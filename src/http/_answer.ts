/**
 * shipshape's one short answer: every refusal, redirect, health check and error page it writes
 * itself goes through here, so each carries the same headers whichever part gives it.
 */
import { randomUUID } from 'node:crypto'
import { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse, STATUS_CODES } from 'node:http'
import type { RequestContext, WorkerState } from '../types.js'

type HeaderPairs = readonly (readonly [string, string])[]

/** Headers describing the body the app meant to send; dropped when shipshape answers instead. */
const bodyHeaders = [
  'content-type',
  'content-length',
  'content-encoding',
  'content-range',
  'content-disposition',
  'etag',
  'last-modified',
  'transfer-encoding',
]

/**
 * An inbound X-Request-Id is reused (so one id follows a request through proxies and services)
 * only when it is short and plain: it ends up in logs and headers, so nothing that could forge a
 * log line or smuggle a header.
 */
const inboundRequestId = /^[A-Za-z0-9._:+=@/-]{1,128}$/

/** The request's id: its X-Request-Id when usable, otherwise a fresh UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const inbound = req.headers['x-request-id']
  return typeof inbound === 'string' && inboundRequestId.test(inbound) ? inbound : randomUUID()
}

const contextKey = Symbol('shipshape.context')
type Tagged = ServerResponse & { [contextKey]?: RequestContext }

/** Marks `res` as the response of `ctx`, so an answer given with only the response finds its request. */
export function tagResponse(res: ServerResponse, ctx: RequestContext): void {
  ;(res as Tagged)[contextKey] = ctx
}

export function contextOfResponse(res: ServerResponse): RequestContext | undefined {
  return (res as Tagged)[contextKey]
}

/**
 * Answers with a short `text/plain` body of shipshape's own (a refusal, a redirect, a 404). Each
 * such answer carries the same headers: the worker's security headers, `X-Request-Id`,
 * `Cache-Control: no-store` (a refusal must never be cached in place of the page),
 * `X-Content-Type-Options: nosniff`, then `headers`; a HEAD request gets the headers and no body.
 * Headers describing the body the app meant to send (its type, length, ETag) are dropped.
 */
export function plainAnswer(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: OutgoingHttpHeaders,
): void {
  const ctx = contextOfResponse(res)
  answerPlain(res, status, text, { headers, worker: ctx?.worker, https: ctx?.protocol === 'https' })
}

export interface AnswerOptions {
  headers?: OutgoingHttpHeaders | undefined
  /** The worker whose answer headers to add where the response lacks them. */
  worker?: WorkerState | undefined
  https?: boolean
  /** Close the connection after the answer: the request body may be unread, or the request is hostile. */
  close?: boolean
}

/** plainAnswer for the pipeline, which may answer before a context exists (health checks, a repeated Host). */
export function answerPlain(res: ServerResponse, status: number, text: string, options: AnswerOptions): void {
  // The app may still try to write after this; those writes fail quietly instead of crashing the worker.
  res.on('error', ignore)
  for (const name of bodyHeaders) res.removeHeader(name)
  // Answers given before the security middleware ran (or after the app removed one) get them here.
  for (const [name, value] of options.worker?.answerHeaders?.(options.https === true) ?? []) {
    if (!res.hasHeader(name)) res.setHeader(name, value)
  }
  if (!res.hasHeader('x-request-id')) res.setHeader('X-Request-Id', requestIdOf(res.req))
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', Buffer.byteLength(text))
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('X-Content-Type-Options', 'nosniff')
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) res.setHeader(name, value)
  }
  if (options.close) res.setHeader('Connection', 'close')
  res.end(res.req.method === 'HEAD' ? undefined : text)
}

function ignore(): void {}

/**
 * The same answer as raw bytes, for a socket node:http gave up on before there was a request
 * object (a malformed request, oversized headers, a header timeout, a CONNECT). The connection
 * closes after it.
 */
export function plainAnswerBytes(status: number, worker: WorkerState | undefined, https: boolean): string {
  const text = `${STATUS_CODES[status] ?? 'Error'}\n`
  const preset: HeaderPairs = worker?.answerHeaders?.(https) ?? []
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`
  for (const [name, value] of preset) {
    if (name.toLowerCase() !== 'x-content-type-options') head += `${name}: ${value}\r\n`
  }
  return (
    `${head}X-Request-Id: ${randomUUID()}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\n` +
    `X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${text}`
  )
}

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Text made safe inside HTML, in an element or a quoted attribute: for the pages shipshape renders itself. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => htmlEscapes[char] ?? char)
}
