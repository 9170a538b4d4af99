/**
 * One probe of one check: HTTP(S) with its conditions, a TCP connect, a TLS handshake (for the
 * certificate), a DNS lookup. Asynchronous only and bounded by the check's timeout as a whole
 * (connect, TLS, headers and body together): a target that hangs costs its timeout and no more,
 * which matters most in the primary, whose loop the watchdog depends on.
 */
import { Resolver } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { connect as netConnect } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { connect as tlsConnect } from 'node:tls'
import type { Check } from './_checks.js'

export interface ProbeResult {
  check: string
  vantage: string
  /** When the probe started, ms since the epoch. */
  at: number
  ok: boolean
  /** How long it took to answer (or to fail). */
  ms: number
  /** Why it failed, in a few words. */
  error?: string
  /** The certificate's expiry (https:, tls:), ms since the epoch. */
  certExpiresAt?: number
}

/** At most this much of a response body is read for keyword and JSON conditions. */
const maxBodyBytes = 1024 * 1024

export async function probe(check: Check, vantage: string): Promise<ProbeResult> {
  const at = Date.now()
  const started = performance.now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), check.timeoutMs)
  try {
    const outcome = await Promise.race([
      run(check, controller.signal),
      new Promise<never>((_, reject) =>
        controller.signal.addEventListener('abort', () =>
          reject(new Error(`no answer within ${check.timeoutMs} ms`)),
        ),
      ),
    ])
    const ms = Math.round(performance.now() - started)
    const slow = check.expect.maxResponseMs !== undefined && ms > check.expect.maxResponseMs
    const error =
      outcome.error ?? (slow ? `answered in ${ms} ms, over ${check.expect.maxResponseMs} ms` : undefined)
    return {
      check: check.name,
      vantage,
      at,
      ok: error === undefined,
      ms,
      ...(error === undefined ? {} : { error }),
      ...(outcome.certExpiresAt === undefined ? {} : { certExpiresAt: outcome.certExpiresAt }),
    }
  } catch (error) {
    const ms = Math.round(performance.now() - started)
    return { check: check.name, vantage, at, ok: false, ms, error: reasonOf(error) }
  } finally {
    clearTimeout(timer)
    controller.abort()
  }
}

interface Outcome {
  error?: string
  certExpiresAt?: number
}

function run(check: Check, signal: AbortSignal): Promise<Outcome> {
  switch (check.kind) {
    case 'http':
      return probeHttp(check, signal)
    case 'tcp':
      return probeSocket(check, signal, false)
    case 'tls':
      return probeSocket(check, signal, true)
    case 'dns':
      return probeDns(check, signal)
  }
}

function probeHttp(check: Check, signal: AbortSignal): Promise<Outcome> {
  const url = new URL(check.target)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: check.method,
        headers: { 'user-agent': 'shipshape-monitor', ...check.headers },
        signal,
        agent: false,
        // Checked below instead, so that an untrusted certificate still reports its expiry.
        rejectUnauthorized: false,
      },
      (res) => {
        const socket = res.socket as TLSSocket
        const certExpiresAt = certExpiry(socket)
        readBody(res, check).then(
          (body) =>
            resolve({ error: untrusted(socket) ?? judge(check, res.statusCode ?? 0, body), certExpiresAt }),
          reject,
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

function readBody(res: IncomingMessage, check: Check): Promise<string> {
  const { keyword, notKeyword, json } = check.expect
  if (keyword === undefined && notKeyword === undefined && json === undefined) {
    res.resume()
    return new Promise((resolve, reject) => res.on('end', () => resolve('')).on('error', reject))
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      if (size >= maxBodyBytes) return
      chunks.push(chunk)
      size += chunk.length
    })
    res.on('end', () => resolve(Buffer.concat(chunks).subarray(0, maxBodyBytes).toString('utf8')))
    res.on('error', reject)
  })
}

/** Why the response fails the check's conditions, or undefined when it passes them. */
function judge(check: Check, status: number, body: string): string | undefined {
  const { expect } = check
  const statusOk = expect.status ? expect.status.includes(status) : status >= 200 && status < 400
  if (!statusOk) return `status ${status}${expect.status ? `, expected ${expect.status.join(' or ')}` : ''}`
  if (expect.keyword !== undefined && !body.includes(expect.keyword))
    return `the body lacks ${JSON.stringify(expect.keyword)}`
  if (expect.notKeyword !== undefined && body.includes(expect.notKeyword))
    return `the body contains ${JSON.stringify(expect.notKeyword)}`
  if (expect.json) {
    let value: unknown
    try {
      value = jsonPath(JSON.parse(body), expect.json.path)
    } catch {
      return 'the body is not JSON'
    }
    if (value !== expect.json.equals)
      return `${expect.json.path} is ${JSON.stringify(value)}, expected ${JSON.stringify(expect.json.equals)}`
  }
  return undefined
}

/** `$.a.b[0].c` of a parsed document; undefined where the path leads nowhere. */
function jsonPath(document: unknown, path: string): unknown {
  let value = document
  for (const [, key, index] of path.slice(1).matchAll(/\.([\w-]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[(key ?? index) as string]
  }
  return value
}

function probeSocket(check: Check, signal: AbortSignal, tls: boolean): Promise<Outcome> {
  const split = check.target.lastIndexOf(':')
  const host = check.target.slice(0, split).replace(/^\[|\]$/g, '')
  const port = Number(check.target.slice(split + 1))
  return new Promise((resolve, reject) => {
    const socket = tls
      ? tlsConnect({
          host,
          port,
          servername: /^[\d.:]+$/.test(host) ? undefined : host,
          rejectUnauthorized: false,
        })
      : netConnect({ host, port })
    signal.addEventListener('abort', () => socket.destroy())
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      const certExpiresAt = tls ? certExpiry(socket as TLSSocket) : undefined
      const error = tls ? untrusted(socket as TLSSocket) : undefined
      socket.destroy()
      resolve({ certExpiresAt, ...(error ? { error } : {}) })
    })
    socket.once('error', reject)
  })
}

async function probeDns(check: Check, signal: AbortSignal): Promise<Outcome> {
  const resolver = new Resolver({ timeout: check.timeoutMs, tries: 1 })
  if (check.resolver !== undefined) resolver.setServers([check.resolver])
  signal.addEventListener('abort', () => resolver.cancel())
  const records = (await resolver.resolve(check.target, check.recordType)) as unknown[]
  const answers = records.map((record) =>
    typeof record === 'string'
      ? record
      : Array.isArray(record)
        ? record.join('')
        : String((record as { exchange?: string }).exchange ?? JSON.stringify(record)),
  )
  if (answers.length === 0) return { error: `no ${check.recordType} record` }
  const wanted = check.expect.record
  if (wanted !== undefined && !answers.includes(wanted))
    return { error: `${check.recordType} records ${answers.join(', ')} lack ${wanted}` }
  return {}
}

/** Why a TLS peer is not trusted (expired, self-signed, another host's), or undefined; plain sockets pass. */
function untrusted(socket: TLSSocket): string | undefined {
  if (typeof socket.getPeerCertificate !== 'function' || socket.authorized) return undefined
  return `certificate not trusted: ${String(socket.authorizationError ?? 'unknown reason')}`
}

function certExpiry(socket: TLSSocket): number | undefined {
  if (typeof socket.getPeerCertificate !== 'function') return undefined
  const validTo = socket.getPeerCertificate()?.valid_to
  return validTo ? Date.parse(validTo) : undefined
}

function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as NodeJS.ErrnoException).code
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message
}
