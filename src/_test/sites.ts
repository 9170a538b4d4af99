/**
 * Real local sites for `shipshape scan` tests: an HTTPS server with a self-signed certificate made
 * by openssl, and a plain HTTP server, both on port 0. Each test sets what they answer.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The name the test sites answer to; `--resolve` sends it to 127.0.0.1. */
export const siteHost = 'shipshape.test'

export interface Certificate {
  cert: string
  key: string
}

/**
 * A self-signed certificate for shipshape.test, www.shipshape.test, localhost and 127.0.0.1,
 * with `commonName` as its subject (tests tell certificates apart by it).
 */
export function makeCertificate(commonName = siteHost): Certificate {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        // An EC key: handshakes cost a fraction of RSA's, and every scan makes several.
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '2',
        '-subj',
        `/CN=${commonName}`,
        '-addext',
        `subjectAltName=DNS:${siteHost},DNS:www.${siteHost},DNS:localhost,IP:127.0.0.1`,
      ],
      { stdio: 'ignore' },
    )
    return {
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

export interface Site {
  port: number
  /** Replaces what the site answers. */
  respond(handler: Handler): void
  close(): Promise<void>
}

export async function startSite(certificate?: Certificate): Promise<Site> {
  let handler: Handler = (_req, res) => res.end('ok')
  const listener = (req: IncomingMessage, res: ServerResponse) => handler(req, res)
  const server: Server =
    certificate === undefined ? createHttpServer(listener) : createHttpsServer(certificate, listener)
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  return {
    port: (server.address() as AddressInfo).port,
    respond(next) {
      handler = next
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

/** A port nothing listens on: one a server held a moment ago. */
export async function closedPort(): Promise<number> {
  const site = await startSite()
  await site.close()
  return site.port
}

/** A handler answering 200 HTML with these headers and body. */
export function page(headers: Record<string, string | string[]>, body = '<p>hello</p>'): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers })
    res.end(body)
  }
}
