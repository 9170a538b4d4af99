/** Every security header, through a real server: defaults, HTTPS-only HSTS, nonces, per-route changes, scrubbing. */
import { afterEach, describe, expect, it } from 'vitest'
import { ShipshapeError } from '../errors/index.js'
import { closeAll, raw, rawHeaders, send, start } from './_test/harness.js'
import { securityMiddleware } from './index.js'

afterEach(closeAll)

const https = { 'x-forwarded-proto': 'https' }

describe('security headers', () => {
  it('sends the strict defaults on every response, HSTS excepted over plain HTTP', async () => {
    const { port } = await start()
    const reply = await send(port)
    expect(reply.status).toBe(200)
    expect(reply.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'strict-origin-when-cross-origin',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    })
    expect(reply.headers['permissions-policy']).toMatch(/camera=\(\), .*geolocation=\(\), .*microphone=\(\)/)
    expect(reply.headers['strict-transport-security']).toBeUndefined()
    expect(reply.headers['x-powered-by']).toBeUndefined()
    const csp = String(reply.headers['content-security-policy'])
    for (const directive of [
      "default-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "frame-ancestors 'none'",
      "form-action 'self'",
      'report-uri /_shipshape/csp-report',
    ]) {
      expect(csp).toContain(directive)
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/)
  })

  it('gives each request its own nonce, in the CSP, ctx.state and cspNonce()', async () => {
    const { port } = await start()
    const first = await send(port)
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(String(first.headers['content-security-policy']))?.[1]
    expect(nonce).toHaveLength(24)
    expect(first.body).toContain(`<script nonce="${nonce}">`)
    expect(String(first.headers['content-security-policy'])).toContain(`script-src 'self' 'nonce-${nonce}'`)
    expect(String(first.headers['content-security-policy'])).toContain(`style-src 'self' 'nonce-${nonce}'`)
    const second = await send(port, { path: '/nonce' })
    const { state, getter } = JSON.parse(second.body)
    expect(state).toBe(getter)
    expect(state).not.toBe(nonce)
    expect(String(second.headers['content-security-policy'])).toContain(`'nonce-${state}'`)
    // A response whose app never asks for a nonce gets none: nothing inline may run.
    const plain = String((await send(port, { path: '/plain-server' })).headers['content-security-policy'])
    expect(plain).toContain("script-src 'self'; style-src 'self'; object-src 'none'")
    expect(plain).not.toContain('nonce')
    const nonces = new Set<string>()
    for (let i = 0; i < 300; i++) nonces.add(JSON.parse((await send(port, { path: '/nonce' })).body).state)
    expect(nonces.size).toBe(300) // past the 256-nonce pool refill too
  })

  it('sends HSTS on HTTPS responses only: one year with subdomains, preload when asked', async () => {
    const trusted = await start({}, { trustedProxies: ['loopback'] })
    expect((await send(trusted.port, { headers: https })).headers['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains',
    )
    expect((await send(trusted.port)).headers['strict-transport-security']).toBeUndefined()
    // X-Forwarded-Proto from a peer that is not a trusted proxy is a claim anyone can make.
    const untrusted = await start({}, { trustedProxies: ['10.0.0.0/8'] })
    expect(
      (await send(untrusted.port, { headers: https })).headers['strict-transport-security'],
    ).toBeUndefined()
    const preload = await start({ hstsPreload: true }, { trustedProxies: ['loopback'] })
    expect((await send(preload.port, { headers: https })).headers['strict-transport-security']).toBe(
      'max-age=31536000; includeSubDomains; preload',
    )
    const off = await start({ hstsMaxAgeSeconds: 0 }, { trustedProxies: ['loopback'] })
    expect((await send(off.port, { headers: https })).headers['strict-transport-security']).toBeUndefined()
  })

  it('refuses an HSTS preload the preload list would reject, and malformed directives, at start-up', () => {
    expect(() => securityMiddleware({ hstsPreload: true, hstsMaxAgeSeconds: 86_400 })).toThrow(ShipshapeError)
    expect(() => securityMiddleware({ hstsPreload: true, hstsIncludeSubdomains: false })).toThrow(/preload/)
    for (const bad of ["img-src 'self', data:", 'img src', "script-src 'self'\u0007"]) {
      expect(() => securityMiddleware({ cspDirectives: bad })).toThrow(/CSP directive/)
    }
  })

  it('removes X-Powered-By and version-revealing Server headers however the app sets them', async () => {
    const { port } = await start()
    for (const path of ['/powered', '/powered-object', '/powered-array']) {
      const reply = await send(port, { path })
      expect(reply.status, path).toBe(200)
      expect(reply.headers['x-powered-by'], path).toBeUndefined()
      expect(reply.headers.server, path).toBeUndefined()
      expect(reply.headers['x-content-type-options'], path).toBe('nosniff')
    }
    expect((await send(port, { path: '/plain-server' })).headers.server).toBe('example')
  })

  it('lets one route relax its own headers while every other response keeps the defaults', async () => {
    const { port } = await start()
    const relaxed = await send(port, { path: '/embeddable' })
    const csp = String(relaxed.headers['content-security-policy'])
    expect(csp).toContain('frame-ancestors https://partner.example')
    expect(csp).toContain("img-src 'self' data:")
    expect(csp).toContain("object-src 'none'")
    expect(csp).not.toContain('nonce') // this route asked for none
    expect(relaxed.headers['x-frame-options']).toBeUndefined()
    expect(relaxed.headers['cross-origin-resource-policy']).toBe('cross-origin')
    const both = await send(port, { path: '/embeddable-script' })
    const nonce = /nonce="([^"]+)"/.exec(both.body)?.[1]
    expect(String(both.headers['content-security-policy'])).toContain(`script-src 'self' 'nonce-${nonce}'`)
    expect(String(both.headers['content-security-policy'])).toContain("frame-ancestors 'self'")
    const bare = await send(port, { path: '/no-csp' })
    expect(bare.headers['content-security-policy']).toBeUndefined()
    expect(bare.headers['permissions-policy']).toBeUndefined()
    expect(bare.headers['x-frame-options']).toBe('DENY')
    const next = await send(port, { path: '/' })
    expect(String(next.headers['content-security-policy'])).toContain("frame-ancestors 'none'")
    expect(next.headers['x-frame-options']).toBe('DENY')
    expect(next.headers['cross-origin-resource-policy']).toBe('same-origin')
  })

  it('has a report-only mode, an off switch, and takes added directives', async () => {
    const reportOnly = await start({ csp: 'report-only' })
    const reply = await send(reportOnly.port)
    expect(reply.headers['content-security-policy']).toBeUndefined()
    expect(String(reply.headers['content-security-policy-report-only'])).toContain("default-src 'self'")
    const off = await start({ csp: 'off' })
    const plain = await send(off.port, { path: '/nonce' })
    expect(plain.headers['content-security-policy']).toBeUndefined()
    expect(JSON.parse(plain.body).getter).toHaveLength(24) // templates using the nonce keep working
    const strict = await start({
      cspDirectives: "default-src 'none'; img-src 'self' data:; upgrade-insecure-requests",
      cspReportPath: '',
    })
    const csp = String((await send(strict.port)).headers['content-security-policy'])
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("img-src 'self' data:")
    expect(csp).toMatch(/; upgrade-insecure-requests(;|$)/)
    expect(csp).not.toContain('report-uri')
  })

  it("keeps the headers on shipshape's own refusals and the app's 404", async () => {
    const { port } = await start()
    const refused = await raw(port, 'GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n')
    expect(refused).toMatch(/^HTTP\/1.1 400/)
    expect(rawHeaders(refused).map(([name]) => name)).toEqual(
      expect.arrayContaining(['content-security-policy', 'x-frame-options', 'x-content-type-options']),
    )
    expect((await send(port, { path: '/missing' })).headers['x-frame-options']).toBe('DENY')
  })
})
