/** Allowed hosts, the HTTPS redirect and absolute URLs, through a real server, with hostile Host values and paths. */
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, raw, rawHeaders, send, start } from './_test/harness.js'
import { absoluteUrl, securityMiddleware } from './index.js'

afterEach(closeAll)

describe('allowed hosts', () => {
  it('serves this machine by default and refuses every other Host with a 400', async () => {
    const { port } = await start()
    for (const host of [
      'localhost',
      'LOCALHOST',
      'localhost.',
      `localhost:${port}`,
      '127.0.0.1:8000',
      '[::1]:8000',
    ]) {
      expect((await send(port, { headers: { host } })).status, host).toBe(200)
    }
    for (const host of [
      'evil.example',
      'localhost.evil.example',
      'localhost@evil.example',
      'evil.example#localhost',
      'localhost/evil.example',
      'localhost:99999',
      'localhost:80:80',
      '[::1',
      '[evil.example]',
      'local host',
      'localhost\\evil.example',
      '.localhost',
      'localhost..',
      '-localhost',
    ]) {
      const reply = await send(port, { headers: { host } })
      expect(reply.status, host).toBe(400)
      expect(reply.body).toContain('SHIPSHAPE_E_HOST_NOT_ALLOWED')
      expect(reply.body).not.toContain(host)
    }
  })

  it('refuses a request with no Host, or an absolute-form target naming another host', async () => {
    const { port } = await start()
    expect(await raw(port, 'GET / HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1.1 400/)
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1.1 400/)
    const absolute = await raw(
      port,
      'GET http://evil.example/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    )
    expect(absolute).toMatch(/^HTTP\/1.1 400/)
    expect(absolute).not.toMatch(/^Location:/im)
    expect(await raw(port, 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1.1 400/,
    )
  })

  it('matches exact names, .domain suffixes with their subdomains, IPv6 addresses and *', async () => {
    const { port } = await start({
      allowedHosts: ['example.com', '.example.org', '2001:db8::1'],
      httpsRedirect: 'off',
    })
    for (const host of [
      'example.com',
      'Example.COM:443',
      'example.org',
      'a.b.example.org',
      '[2001:db8::1]:8000',
    ])
      expect((await send(port, { headers: { host } })).status, host).toBe(200)
    for (const host of [
      'www.example.com',
      'badexample.org',
      'example.org.evil.example',
      'localhost',
      '[2001:db8::2]',
    ])
      expect((await send(port, { headers: { host } })).status, host).toBe(400)
    const any = await start({ allowedHosts: ['*'], httpsRedirect: 'off' })
    expect((await send(any.port, { headers: { host: 'anything.example' } })).status).toBe(200)
    expect((await send(any.port, { headers: { host: 'bad host' } })).status).toBe(400)
  })

  it('stops at start-up on an entry that is not a host', () => {
    for (const bad of [
      'example.com:80',
      'http://example.com',
      'exa mple.com',
      '..example.com',
      'example.com/',
    ]) {
      expect(() => securityMiddleware({ allowedHosts: [bad] }), bad).toThrow(/allowed host/)
    }
  })

  it('builds absolute URLs from the allowed request Host, or the first allowed name outside a request', async () => {
    const { port } = await start({ allowedHosts: ['app.example', '.example.net'], httpsRedirect: 'off' })
    const inRequest = await send(port, { path: '/absolute', headers: { host: 'shop.example.net:8443' } })
    expect(JSON.parse(inRequest.body).url).toBe('http://shop.example.net:8443/reset?token=1')
    // Outside a request there is no worker to ask: the allowed hosts come from the environment, as serve reads them.
    const saved = process.env.SHIPSHAPE_ALLOWED_HOSTS
    try {
      process.env.SHIPSHAPE_ALLOWED_HOSTS = 'app.example,.example.net'
      expect(absoluteUrl('/x')).toBe('https://app.example/x')
      delete process.env.SHIPSHAPE_ALLOWED_HOSTS
      expect(absoluteUrl('/x')).toBe('https://localhost/x')
    } finally {
      if (saved !== undefined) process.env.SHIPSHAPE_ALLOWED_HOSTS = saved
    }
    for (const bad of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', 'x']) {
      expect(() => absoluteUrl(bad), bad).toThrow(expect.objectContaining({ code: 'SHIPSHAPE_E_ARGUMENT' }))
    }
  })
})

describe('the worker’s host rules', () => {
  it('belong to each pipeline: two security stacks in one process do not interfere', async () => {
    const first = await start({ allowedHosts: ['one.example'], httpsRedirect: 'off' })
    const second = await start({ allowedHosts: ['two.example'], httpsRedirect: 'off' })
    const ask = async (port: number, host: string, other: string) =>
      JSON.parse((await send(port, { path: `/absolute?other=${other}`, headers: { host } })).body)
    expect(await ask(first.port, 'one.example', 'two.example')).toEqual({
      url: 'http://one.example/reset?token=1',
      otherAllowed: false,
    })
    expect(await ask(second.port, 'two.example', 'one.example')).toEqual({
      url: 'http://two.example/reset?token=1',
      otherAllowed: false,
    })
    expect(await ask(first.port, 'one.example', 'one.example')).toMatchObject({ otherAllowed: true })
    expect((await send(first.port, { headers: { host: 'two.example' } })).status).toBe(400)
  })
})

describe('HTTPS redirect', () => {
  const site = { allowedHosts: ['example.com'], httpsRedirect: 'on' as const }

  it('sends plain HTTP to the same host and path on https with a 301, for every method', async () => {
    const { port } = await start(site)
    const reply = await send(port, {
      path: '/guestbook?page=2&q=a%20b',
      headers: { host: 'Example.com:8080' },
    })
    expect(reply.status).toBe(301)
    expect(reply.headers.location).toBe('https://example.com/guestbook?page=2&q=a%20b')
    expect(reply.headers['strict-transport-security']).toBeUndefined()
    for (const method of ['HEAD', 'POST', 'DELETE']) {
      const other = await send(port, { method, path: '/x', headers: { host: 'example.com' } })
      expect(other.status, method).toBe(301)
      expect(other.headers.location).toBe('https://example.com/x')
    }
  })

  it('can never be turned into an open redirect or a header injection', async () => {
    const { port } = await start(site)
    for (const path of [
      '//evil.example/',
      '//evil.example',
      '/\\evil.example',
      '/%2F%2Fevil.example',
      '/.//evil.example',
      '/@evil.example',
    ]) {
      const reply = await send(port, { path, headers: { host: 'example.com' } })
      expect(reply.status, path).toBe(301)
      const location = new URL(String(reply.headers.location))
      expect(location.host, path).toBe('example.com')
      expect(location.protocol).toBe('https:')
    }
    // An encoded CRLF stays encoded; a raw one never gets past the HTTP parser.
    const encoded = await raw(
      port,
      'GET /a%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n',
    )
    expect(rawHeaders(encoded).find(([name]) => name === 'location')?.[1]).toBe(
      'https://example.com/a%0d%0aSet-Cookie:%20x=1',
    )
    expect(rawHeaders(encoded).some(([name]) => name === 'set-cookie')).toBe(false)
    const injected = await raw(
      port,
      'GET /a\r\nSet-Cookie: x=1 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n',
    )
    // Node reads `GET /a` as the whole request line and the rest as a request header: nothing reaches the response.
    expect(rawHeaders(injected).some(([name]) => name === 'set-cookie')).toBe(false)
    const injectedLocation = rawHeaders(injected).find(([name]) => name === 'location')?.[1]
    if (injectedLocation !== undefined) expect(injectedLocation).toBe('https://example.com/a')
    else expect(injected).toMatch(/^HTTP\/1.1 400/)
    // Bytes outside printable ASCII are percent-encoded, not passed into the header.
    const latin = await raw(port, 'GET /caf\xe9 HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n')
    const location = rawHeaders(latin).find(([name]) => name === 'location')?.[1]
    if (location !== undefined) expect(location).toBe('https://example.com/caf%E9')
    else expect(latin).toMatch(/^HTTP\/1.1 400/)
    // A Host outside the list is refused before any redirect is built from it.
    for (const host of ['evil.example', 'example.com@evil.example', 'evil.example/example.com']) {
      const reply = await send(port, { headers: { host } })
      expect(reply.status, host).toBe(400)
      expect(reply.headers.location).toBeUndefined()
    }
  })

  it('believes X-Forwarded-Proto only from a trusted proxy, and says so once when it is ignored', async () => {
    const behindProxy = await start(site, { trustedProxies: ['loopback'] })
    const forwarded = await send(behindProxy.port, {
      headers: { host: 'example.com', 'x-forwarded-proto': 'https' },
    })
    expect(forwarded.status).toBe(200)
    expect(forwarded.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains')
    const untrusted = await start(site, { trustedProxies: ['10.0.0.0/8'] })
    for (let i = 0; i < 3; i++) {
      const reply = await send(untrusted.port, {
        headers: { host: 'example.com', 'x-forwarded-proto': 'https' },
      })
      expect(reply.status).toBe(301)
    }
    expect(untrusted.logs.filter((line) => /X-Forwarded-Proto came from a peer/.test(line.msg))).toHaveLength(
      1,
    )
  })

  it('redirects every host but loopback names in auto mode, and nothing when off', async () => {
    const auto = await start({ allowedHosts: ['localhost', '127.0.0.1', 'app.localhost', 'example.com'] })
    for (const host of ['localhost:8000', '127.0.0.1', 'app.localhost'])
      expect((await send(auto.port, { headers: { host } })).status, host).toBe(200)
    expect((await send(auto.port, { headers: { host: 'example.com' } })).status).toBe(301)
    const off = await start({ allowedHosts: ['example.com'], httpsRedirect: 'off' })
    expect((await send(off.port, { headers: { host: 'example.com' } })).status).toBe(200)
  })
})
