/**
 * Probes against real servers on this machine: HTTP conditions, a target that hangs (bounded by
 * the timeout), a closed port, TLS with a real (self-signed, short-lived) certificate, and DNS
 * against a real DNS server (dns2) on 127.0.0.1.
 */
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, createServer as createTcpServer } from 'node:net'
import dns2 from 'dns2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CheckInput, checkSchema, checksOf } from './_checks.js'
import { probe } from './_probe.js'
import { selfSignedCert } from './_test/fixtures.js'

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
    const files = selfSignedCert(5)
    const server = createHttpsServer(
      { key: readFileSync(files.key), cert: readFileSync(files.cert) },
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

  it('ask a DNS server for A, MX and TXT records, and say what is missing, unknown or silent', async () => {
    const { Packet } = dns2
    const zone: Record<string, Record<string, unknown>[]> = {
      'app.test:1': [{ address: '10.0.0.7' }, { address: '10.0.0.8' }],
      'app.test:15': [{ exchange: 'mail.app.test', priority: 10 }],
      'app.test:16': [{ data: 'v=spf1 -all' }],
    }
    const server = dns2.createServer({
      udp: true,
      handle: (request, send) => {
        const response = Packet.createResponseFromRequest(request)
        const question = request.questions[0] as { name: string; type: number }
        const records = zone[`${question.name}:${question.type}`]
        if (records === undefined) response.header.rcode = 3 // NXDOMAIN
        // A plain record, as dns2's README answers (its types ask for a Resource instance).
        for (const record of records ?? [])
          response.answers.push({
            name: question.name,
            type: question.type,
            class: Packet.CLASS.IN,
            ttl: 60,
            ...record,
          } as unknown as (typeof response.answers)[number])
        send(response)
      },
    })
    await server.listen({ udp: { port: 0, address: '127.0.0.1' } })
    servers.push({ close: () => server.close() })
    const resolver = `127.0.0.1:${server.addresses().udp?.port}`
    // A UDP socket that reads every query and answers none.
    const mute = createSocket('udp4')
    await new Promise<void>((ready) => mute.bind(0, '127.0.0.1', ready))
    servers.push(mute)
    const dns = (input: Omit<CheckInput, 'name' | 'resolver'>, at = resolver) =>
      probe(check({ ...input, resolver: at }), 'here')
    const results = await Promise.all([
      dns({ dns: 'app.test', expect: { record: '10.0.0.8' } }),
      dns({ dns: 'app.test', recordType: 'MX', expect: { record: 'mail.app.test' } }),
      dns({ dns: 'app.test', recordType: 'TXT', expect: { record: 'v=spf1 -all' } }),
      dns({ dns: 'app.test', expect: { record: '10.0.0.9' } }),
      dns({ dns: 'gone.test' }),
      dns({ dns: 'app.test', timeout: '300ms' }, `127.0.0.1:${mute.address().port}`),
    ])
    expect(results.map((result) => result.error ?? 'ok')).toEqual([
      'ok',
      'ok',
      'ok',
      'A records 10.0.0.7, 10.0.0.8 lack 10.0.0.9',
      expect.stringMatching(/ENOTFOUND/),
      'no answer within 300 ms',
    ])
  })
})
