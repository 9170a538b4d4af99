/**
 * The endpoint browsers post CSP violation reports to. Each report becomes one warning log line.
 * Anyone can post here, so reports are rate-limited per client address and per worker (a flood
 * must not fill the logs or cost more than a counter lookup), bodies are capped, and only a
 * few short fields are logged, with query strings cut from URLs (they may hold tokens).
 */

import type { RateLimiterMemory } from 'rate-limiter-flexible'
import type { Logger } from '../observe/index.js'
import type { RequestContext } from '../types.js'
import { refuse } from './_refuse.js'

/** A report is a few hundred bytes; a browser batching several stays well under this. */
const maxReportBytes = 64 * 1024
/** Reports logged per report, from a batch. */
const maxPerBody = 10

export interface ReportLimits {
  /** Reports accepted per client address per minute. Default: 10. */
  perClientPerMinute: number
  /** Reports accepted per worker per minute, from everyone. Default: 100. */
  perWorkerPerMinute: number
}

export function cspReportEndpoint(
  logger: () => Logger,
  limits: ReportLimits = { perClientPerMinute: 10, perWorkerPerMinute: 100 },
): (ctx: RequestContext) => Promise<void> {
  // rate-limiter-flexible loads every store it has (~40 ms): loaded on the first report, not at every worker start.
  let limiters: Promise<[RateLimiterMemory, RateLimiterMemory]> | undefined
  const limit = () => {
    limiters ??= import('rate-limiter-flexible').then(({ RateLimiterMemory }) => [
      new RateLimiterMemory({ points: limits.perClientPerMinute, duration: 60 }),
      new RateLimiterMemory({ points: limits.perWorkerPerMinute, duration: 60 }),
    ])
    return limiters
  }
  return async function cspReport(ctx) {
    const { req, res } = ctx
    if (ctx.method !== 'POST') {
      res.setHeader('Allow', 'POST')
      return refuse(ctx, 'SHIPSHAPE_E_METHOD_NOT_ALLOWED')
    }
    const [perClient, perWorker] = await limit()
    try {
      await perClient.consume(ctx.clientIp)
      await perWorker.consume('worker')
    } catch {
      res.setHeader('Retry-After', '60')
      return refuse(ctx, 'SHIPSHAPE_E_RATE_LIMITED')
    }
    // Refused on its declared length before any of it is read, and the connection closes
    // rather than read on: a client must not hold a worker's socket by promising megabytes.
    const body =
      Number(req.headers['content-length'] ?? 0) > maxReportBytes
        ? undefined
        : await readLimited(req, maxReportBytes)
    if (body === undefined) {
      res.setHeader('Connection', 'close')
      return refuse(ctx, 'SHIPSHAPE_E_BODY_TOO_LARGE')
    }
    const violations = parseReports(body)
    if (violations === undefined) return refuse(ctx, 'SHIPSHAPE_E_CSP_REPORT')
    const log = logger()
    for (const violation of violations.slice(0, maxPerBody)) {
      log.warn(
        { requestId: ctx.id, clientIp: ctx.clientIp, csp: violation },
        'content security policy violation',
      )
    }
    res.writeHead(204, { 'Cache-Control': 'no-store' })
    res.end()
  }
}

async function readLimited(stream: AsyncIterable<Buffer>, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of stream) {
    size += chunk.length
    if (size > limit) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

interface Violation {
  documentUrl?: string
  blockedUrl?: string
  directive?: string
  sourceFile?: string
  line?: number
  column?: number
  disposition?: string
  sample?: string
}

/**
 * Both report formats: `report-uri` posts `{"csp-report": {...}}` (application/csp-report);
 * the Reporting API posts `[{"type": "csp-violation", "body": {...}}]` (application/reports+json).
 * Undefined when the body is neither.
 */
function parseReports(body: Buffer): Violation[] | undefined {
  let json: unknown
  try {
    json = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (Array.isArray(json)) {
    return json
      .filter((entry) => isObject(entry) && entry.type === 'csp-violation' && isObject(entry.body))
      .map((entry) => {
        const report = (entry as { body: Record<string, unknown> }).body
        return violation(
          report.documentURL,
          report.blockedURL,
          report.effectiveDirective,
          report,
          'sourceFile',
          'lineNumber',
          'columnNumber',
          'sample',
        )
      })
  }
  if (isObject(json) && isObject(json['csp-report'])) {
    const report = json['csp-report']
    return [
      violation(
        report['document-uri'],
        report['blocked-uri'],
        report['effective-directive'] ?? report['violated-directive'],
        report,
        'source-file',
        'line-number',
        'column-number',
        'script-sample',
      ),
    ]
  }
  return undefined
}

function violation(
  documentUrl: unknown,
  blockedUrl: unknown,
  directive: unknown,
  report: Record<string, unknown>,
  sourceKey: string,
  lineKey: string,
  columnKey: string,
  sampleKey: string,
): Violation {
  return {
    documentUrl: url(documentUrl),
    blockedUrl: url(blockedUrl),
    directive: text(directive),
    sourceFile: url(report[sourceKey]),
    line: number(report[lineKey]),
    column: number(report[columnKey]),
    disposition: text(report.disposition),
    sample: text(report[sampleKey]),
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Short and printable ASCII: a report is written by the client, and ends up in the logs. */
function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  return value.replace(/[^\x20-\x7e]/g, '').slice(0, 200)
}

function url(value: unknown): string | undefined {
  const plain = text(value)
  if (plain === undefined) return undefined
  const cut = plain.search(/[?#]/)
  return cut === -1 ? plain : plain.slice(0, cut)
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}
