/**
 * Probes against real servers on this machine: HTTP conditions, a target that hangs (bounded by
 * the timeout), a closed port, and TLS with a real (self-signed, short-lived) certificate.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, createServer as createTcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CheckInput, checkSchema, checksOf } from './_checks.js'
import { probe } from './_probe.js'

const servers: { close(): unknown }[] = []
let base = ''

const check = (input: Omit<CheckInput, 'name'>) =>
  checksOf([checkSchema.parse({ name: 'c', timeout: '3s', ...input })])[0] as ReturnType<typeof checksOf>[0]

beforeAll(async () => {
  const server: Server = createServer((req, res) => {
    if (req.url === '/json')
      return void res.end(JSON.stringify({ status: 'ok', items: [{ state: 'ready' }] }))
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 150)
    if (req.url === '/hang') return // never answers
    res.writeHead(req.url === '/missing' ? 404 : 200).end('Welcome home')
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  servers.push(server)
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  for (const server of servers) (server as Server).closeAllConnections?.()
  for (const server of servers) server.close()
})

describe('probes', () => {
  it('judge HTTP status, keywords, a JSON path and the response time', async () => {
    const results = await Promise.all([
      probe(check({ url: `${base}/` }), 'here'),
      probe(check({ url: `${base}/missing` }), 'here'),
      probe(check({ url: `${base}/missing`, expect: { status: [404] } }), 'here'),
      probe(check({ url: `${base}/`, expect: { keyword: 'Welcome' } }), 'here'),
      probe(check({ url: `${base}/`, expect: { keyword: 'Goodbye' } }), 'here'),
      probe(check({ url: `${base}/`, expect: { notKeyword: 'home' } }), 'here'),
      probe(
        check({ url: `${base}/json`, expect: { json: { path: '$.items[0].state', equals: 'ready' } } }),
        'here',
      ),
      probe(check({ url: `${base}/json`, expect: { json: { path: '$.status', equals: 'down' } } }), 'here'),
      probe(check({ url: `${base}/slow`, expect: { maxResponseTime: '50ms' } }), 'here'),
    ])
    expect(results.map((result) => result.error ?? 'ok')).toEqual([
      'ok',
      'status 404',
      'ok',
      'ok',
      'the body lacks "Goodbye"',
      'the body contains "home"',
      'ok',
      '$.status is "ok", expected "down"',
      expect.stringMatching(/^answered in \d+ ms, over 50 ms$/),
    ])
    expect(results[0]).toMatchObject({ check: 'c', vantage: 'here', ok: true })
  })

  it('give up on a target that hangs at the timeout, and report a closed port', async () => {
    const silent = createTcpServer(() => {}) // accepts, never speaks
    await new Promise<void>((ready) => silent.listen(0, '127.0.0.1', ready))
    servers.push(silent)
    const port = (silent.address() as AddressInfo).port
    const [hung, tcpHung, refused] = await Promise.all([
      probe(check({ url: `${base}/hang`, timeout: '300ms' }), 'here'),
      probe(check({ url: `http://127.0.0.1:${port}/`, timeout: '300ms' }), 'here'),
      probe(check({ tcp: '127.0.0.1:1' }), 'here'),
    ])
    for (const result of [hung, tcpHung]) {
      expect(result.error).toBe('no answer within 300 ms')
      expect(result.ms).toBeGreaterThanOrEqual(295)
      expect(result.ms).toBeLessThan(3000) // the bound itself, with room for a busy machine
    }
    expect(refused.error).toMatch(/ECONNREFUSED/)
  })

  it('read a certificate’s expiry over TLS and HTTPS, and say why it is not trusted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-monitor-tls-'))
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '5', '-subj', '/CN=localhost'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    )
    const server = createHttpsServer(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      (_req, res) => res.end('secure'),
    )
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
    servers.push(server)
    const port = (server.address() as AddressInfo).port
    const [tls, https] = await Promise.all([
      probe(check({ tls: `localhost:${port}` }), 'here'),
      probe(check({ url: `https://localhost:${port}/` }), 'here'),
    ])
    for (const result of [tls, https]) {
      expect(result.error).toBe('certificate not trusted: DEPTH_ZERO_SELF_SIGNED_CERT')
      const days = ((result.certExpiresAt as number) - Date.now()) / 86_400_000
      expect(days).toBeGreaterThan(4)
      expect(days).toBeLessThan(5.1)
    }
  })
})
