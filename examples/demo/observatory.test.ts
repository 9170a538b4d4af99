/**
 * The demo under the real `shipshape serve`, behind a small TLS-terminating proxy as it would run
 * in production: graded by `shipshape scan` with the MDN HTTP Observatory's tests (target: A+ with
 * at least 120), and passing `shipshape check --deploy` with no warning.
 *
 * The proxy listens for HTTPS on 127.0.0.1:443, because shipshape's HTTPS redirect sends browsers
 * to the default port; tests run as root here and in CI. Plain HTTP goes to a port of its own.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, runCli, startServe } from '../../src/_test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../src/_test/postgres.js'
import { type Certificate, makeCertificate, siteHost } from '../../src/_test/sites.js'
import { type SiteScan, scanSite } from '../../src/scan/index.ts'
import { collectStatic } from '../../src/static/collect.ts'

const entry = new URL('./app.ts', import.meta.url).pathname
const demoStatic = new URL('./static', import.meta.url).pathname
let server: Running
let certificate: Certificate
let tlsProxy: Server
let plainProxy: Server
let report: SiteScan
/** The /admin area's users and sessions (shipshape/auth): on the real Postgres, quicker to make than an embedded database. */
let database: TestDatabase
const scratch: string[] = []
/** The proxy's certificate, trusted by the scans as a CA. */
const caFile = () => join(scratch[0] as string, 'ca.pem')
const production = {
  NODE_ENV: 'production',
  SHIPSHAPE_ALLOWED_HOSTS: siteHost,
  // The proxy runs on this machine: its X-Forwarded-Proto and X-Forwarded-For are believed.
  SHIPSHAPE_TRUSTED_PROXIES: 'loopback',
  SHIPSHAPE_ERROR_DSN: 'https://public@errors.example.com/1',
}

/** Forwards to shipshape as a TLS-terminating proxy does, saying which scheme the client used. */
function forward(scheme: 'http' | 'https') {
  return (req: IncomingMessage, res: ServerResponse) => {
    const backend = new URL(server.url)
    const upstream = request(
      {
        host: backend.hostname,
        port: backend.port,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          'x-forwarded-proto': scheme,
          'x-forwarded-for': req.socket.remoteAddress ?? '',
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  }
}

const listen = (listener: Server, port: number) =>
  new Promise<void>((resolve, reject) => {
    listener.once('error', reject)
    listener.listen(port, '127.0.0.1', () => resolve())
  })

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'demo-data-'))
  const sources = mkdtempSync(join(tmpdir(), 'demo-sources-'))
  const staticRoot = mkdtempSync(join(tmpdir(), 'demo-static-'))
  scratch.push(dataDir, sources, staticRoot)
  // As `npm start` does (Vite build, then collectstatic), in directories of this test's own, so
  // the other demo test building at the same time is not disturbed.
  cpSync(demoStatic, sources, {
    recursive: true,
    filter: (path) => !path.startsWith(join(demoStatic, 'build')),
  })
  await build({
    configFile: new URL('./frontend/vite.config.ts', import.meta.url).pathname,
    build: { outDir: join(sources, 'build'), emptyOutDir: true },
  })
  await collectStatic({ sources: [sources], output: staticRoot })
  database = await createTestDatabase('demo_observatory')
  server = await startServe([entry, '--workers', '1', '--static-root', staticRoot], {
    DEMO_DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    ...production,
  })
  await ready(server, 1)
  certificate = makeCertificate()
  writeFileSync(caFile(), certificate.cert)
  tlsProxy = createHttpsServer(certificate, forward('https'))
  plainProxy = createHttpServer(forward('http'))
  await listen(tlsProxy, 443)
  await listen(plainProxy, 0)
  report = await scanSite(`https://${siteHost}/`, {
    ca: certificate.cert,
    httpPort: (plainProxy.address() as AddressInfo).port,
    resolve: { [siteHost]: '127.0.0.1' },
  })
})

afterAll(async () => {
  tlsProxy?.closeAllConnections()
  plainProxy?.closeAllConnections()
  await new Promise((done) => (tlsProxy?.listening ? tlsProxy.close(done) : done(undefined)))
  await new Promise((done) => (plainProxy?.listening ? plainProxy.close(done) : done(undefined)))
  server?.child.kill('SIGTERM')
  await server?.exited
  await database?.drop()
  for (const directory of scratch) rmSync(directory, { recursive: true, force: true })
})

describe('the demo behind a TLS-terminating proxy', () => {
  it('gets A+ with at least 120 from the MDN HTTP Observatory tests', () => {
    const results = Object.fromEntries(
      Object.entries(report.tests).map(([name, test]) => [name, test.result]),
    )
    expect(results).toEqual({
      'content-security-policy': 'csp-implemented-with-no-unsafe',
      // The home page's error button is a form, so its CSRF cookie is set (Secure, HttpOnly, SameSite).
      cookies: 'cookies-secure-with-httponly-sessions-and-samesite',
      'cross-origin-resource-sharing': 'cross-origin-resource-sharing-not-implemented',
      redirection: 'redirection-to-https',
      'referrer-policy': 'referrer-policy-private',
      'strict-transport-security': 'hsts-implemented-max-age-at-least-six-months',
      'subresource-integrity': 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
      'x-content-type-options': 'x-content-type-options-nosniff',
      'x-frame-options': 'x-frame-options-implemented-via-csp',
      'cross-origin-resource-policy': 'corp-implemented-with-same-origin',
    })
    expect(report.grade).toBe('A+')
    expect(report.score).toBeGreaterThanOrEqual(120)
    expect(report.testsPassed).toBe(10)
  })

  it('grades the /admin sign-in page (shipshape/auth) A+ as well', async () => {
    const signIn = await scanSite(`https://${siteHost}/admin/sign-in`, {
      ca: certificate.cert,
      httpPort: (plainProxy.address() as AddressInfo).port,
      resolve: { [siteHost]: '127.0.0.1' },
    })
    expect(signIn.tests['content-security-policy']?.result).toBe('csp-implemented-with-no-unsafe')
    expect(signIn.grade).toBe('A+')
    expect(signIn.score).toBeGreaterThanOrEqual(120)
  })

  it('`shipshape scan` prints the same grade and score, and exits 0 at --min-grade A+ --min-score 120', async () => {
    const scan = await runCli([
      'scan',
      `https://${siteHost}/`,
      '--ca',
      caFile(),
      '--http-port',
      String((plainProxy.address() as AddressInfo).port),
      '--resolve',
      `${siteHost}:127.0.0.1`,
      '--min-grade',
      'A+',
      '--min-score',
      '120',
    ])
    expect(scan.stderr).toBe('')
    expect(scan.stdout).toContain(`Grade A+   Score ${report.score}   Tests passed 10/10`)
    expect(scan.status).toBe(0)
  })

  it('passes `shipshape check --deploy --url` with no warning when configured for production', async () => {
    const check = await runCli(
      [
        'check',
        '--deploy',
        '--fail-level',
        'warning',
        '--url',
        `https://${siteHost}/`,
        '--ca',
        caFile(),
        '--resolve',
        `${siteHost}:127.0.0.1`,
      ],
      {
        cwd: new URL('.', import.meta.url).pathname,
        env: { PATH: process.env.PATH, ...production, SHIPSHAPE_STATIC_ROOT: scratch[2] },
      },
    )
    expect(check.stderr).toBe('')
    expect(check.stdout).toContain('0 errors, 0 warnings')
    expect(check.status).toBe(0)
  })
})
