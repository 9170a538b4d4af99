/** Cross-site request protection and the cookie helper, through a real server and a real Express body parser. */
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, send, start } from './_test/harness.js'
import { cookieName, serializeCookie } from './index.js'

afterEach(closeAll)

const form = { 'content-type': 'application/x-www-form-urlencoded' }
const withCookie = { cookie: 'session=abc' }

describe('cross-site request protection', () => {
  it('refuses a forged POST by Sec-Fetch-Site, and lets same-origin and user-started requests through', async () => {
    const { port } = await start()
    const post = (headers: Record<string, string>) =>
      send(port, {
        method: 'POST',
        path: '/form',
        headers: { ...form, ...withCookie, ...headers },
        body: 'name=ann',
      })
    for (const site of ['cross-site', 'same-site']) {
      const reply = await post({ 'sec-fetch-site': site, origin: 'http://localhost' })
      expect(reply.status, site).toBe(403)
      expect(reply.body).toContain('SHIPSHAPE_E_CROSS_SITE')
    }
    for (const site of ['same-origin', 'none']) {
      const reply = await post({ 'sec-fetch-site': site })
      expect(reply.status, site).toBe(200)
      expect(JSON.parse(reply.body).body).toEqual({ name: 'ann' })
    }
    const put = await send(port, {
      method: 'PUT',
      path: '/thing',
      headers: { ...withCookie, 'sec-fetch-site': 'cross-site' },
    })
    expect(put.status).toBe(403)
  })

  it('falls back to Origin when Sec-Fetch-Site is missing', async () => {
    const { port } = await start()
    const post = (origin: string) =>
      send(port, { method: 'POST', path: '/form', headers: { ...form, ...withCookie, origin }, body: 'a=1' })
    expect((await post('http://localhost')).status).toBe(200)
    for (const origin of [
      'http://evil.example',
      'null',
      'http://localhost:9999',
      'http://localhost.evil.example',
      'http://localhost@evil.example',
      'http://localhost/',
      'garbage',
    ]) {
      expect((await post(origin)).status, origin).toBe(403)
    }
  })

  it('lets through requests without cookies, safe methods, and everything when turned off', async () => {
    const { port } = await start()
    const crossSite = { 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' }
    expect(
      (await send(port, { method: 'POST', path: '/form', headers: { ...form, ...crossSite }, body: 'a=1' }))
        .status,
    ).toBe(200)
    expect((await send(port, { path: '/', headers: { ...withCookie, ...crossSite } })).status).toBe(200)
    const off = await start({ crossSiteProtection: false })
    const reply = await send(off.port, {
      method: 'POST',
      path: '/form',
      headers: { ...form, ...withCookie, ...crossSite },
      body: 'a=1',
    })
    expect(reply.status).toBe(200)
  })

  it('asks clients that send neither header for the token, from a header or the form, and leaves the body to the app', async () => {
    const { port } = await start()
    const page = await send(port, { path: '/form' })
    const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1] as string
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const setCookie = String(page.headers['set-cookie'])
    expect(setCookie).toMatch(/^shipshape-csrf=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/)
    const cookie = `session=abc; shipshape-csrf=${token}`
    const post = (headers: Record<string, string>, body: string) =>
      send(port, { method: 'POST', path: '/form', headers: { ...form, cookie, ...headers }, body })

    expect((await post({}, 'name=ann')).status).toBe(403)
    expect((await post({}, 'name=ann&csrf_token=wrong')).status).toBe(403)
    const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
    expect((await post({ 'x-csrf-token': altered }, 'name=ann')).status).toBe(403)
    expect((await post({ 'x-csrf-token': token }, 'name=ann')).status).toBe(200)
    const viaForm = await post({}, `name=ann&message=${'x'.repeat(20_000)}&csrf_token=${token}`)
    expect(viaForm.status).toBe(200)
    expect(JSON.parse(viaForm.body).body).toMatchObject({ name: 'ann', csrf_token: token })
    expect(JSON.parse(viaForm.body).body.message).toHaveLength(20_000)
    // The token must match the cookie: a token alone, or a cookie alone, proves nothing.
    expect(
      (
        await send(port, {
          method: 'POST',
          path: '/form',
          headers: { ...form, cookie: 'session=abc' },
          body: `csrf_token=${token}`,
        })
      ).status,
    ).toBe(403)
    // Too large to look through for the token: refused, not buffered.
    expect((await post({}, `a=${'x'.repeat(70_000)}&csrf_token=${token}`)).status).toBe(403)
    const json = await send(port, {
      method: 'POST',
      path: '/json',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': token },
      body: '{"a":1}',
    })
    expect(JSON.parse(json.body).body).toEqual({ a: 1 })
  })

  it('keeps the token for the request and reuses the cookie; the cookie is __Host- and Secure over HTTPS', async () => {
    const { port } = await start({}, { trustedProxies: ['loopback'] })
    const first = await send(port, { path: '/token', headers: { 'x-forwarded-proto': 'https' } })
    const { token, again } = JSON.parse(first.body)
    expect(again).toBe(token)
    expect(String(first.headers['set-cookie'])).toBe(
      `__Host-shipshape-csrf=${token}; Path=/; HttpOnly; Secure; SameSite=Lax`,
    )
    const reuse = await send(port, {
      path: '/token',
      headers: { 'x-forwarded-proto': 'https', cookie: `__Host-shipshape-csrf=${token}` },
    })
    expect(JSON.parse(reuse.body).token).toBe(token)
    expect(reuse.headers['set-cookie']).toBeUndefined()
  })
})

describe('cookies', () => {
  it('default to Secure, HttpOnly, SameSite=Lax and the __Host- prefix', () => {
    expect(serializeCookie('sid', 'v')).toBe('__Host-sid=v; Path=/; HttpOnly; Secure; SameSite=Lax')
    expect(serializeCookie('sid', 'a b;c=')).toBe(
      '__Host-sid=a%20b%3Bc%3D; Path=/; HttpOnly; Secure; SameSite=Lax',
    )
    // The prefix only where the browser would accept it.
    expect(serializeCookie('sid', 'v', { path: '/app' })).toBe(
      'sid=v; Path=/app; HttpOnly; Secure; SameSite=Lax',
    )
    expect(serializeCookie('sid', 'v', { domain: 'example.com' })).toMatch(
      /^sid=v; Domain=example.com; Path=\/; HttpOnly; Secure/,
    )
    expect(serializeCookie('sid', 'v', { secure: false })).toBe('sid=v; Path=/; HttpOnly; SameSite=Lax')
    expect(serializeCookie('sid', 'v', { hostPrefix: false })).toMatch(/^sid=v;/)
    expect(serializeCookie('sid', 'v', { maxAge: 60, sameSite: 'Strict' })).toMatch(
      /^__Host-sid=v; Max-Age=60; Path=\/; Expires=[^;]+ GMT; HttpOnly; Secure; SameSite=Strict$/,
    )
    expect(cookieName('sid')).toBe('__Host-sid')
  })

  it('refuses what would make a broken or dangerous header', () => {
    expect(() => serializeCookie('a b', 'v')).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_ARGUMENT' }),
    )
    expect(() => serializeCookie('a\r\nSet-Cookie: x', 'v')).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_ARGUMENT' }),
    )
    expect(() => serializeCookie('sid', 'v', { sameSite: 'None', secure: false })).toThrow(/SameSite=None/)
    expect(() => serializeCookie('sid', 'v', { path: '/a;b' })).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_ARGUMENT' }),
    )
    expect(() => serializeCookie('sid', 'v', { domain: 'evil.example; Secure' })).toThrow(
      expect.objectContaining({ code: 'SHIPSHAPE_E_ARGUMENT' }),
    )
  })

  it("adds to the response's cookies from inside a request, and reads them back under the prefixed name", async () => {
    const { port } = await start()
    const reply = await send(port, { path: '/cookie' })
    expect(reply.headers['set-cookie']).toEqual([
      'theme=dark; Path=/',
      '__Host-session=a%20b%3Bc; Path=/; HttpOnly; Secure; SameSite=Lax',
      expect.stringMatching(/^prefs=x; Max-Age=60; Path=\/; Expires=.* GMT; SameSite=Strict$/),
    ])
    const read = await send(port, {
      path: '/read-cookie',
      headers: { cookie: 'session=plain; __Host-session=a%20b%3Bc' },
    })
    expect(JSON.parse(read.body)).toEqual({ session: 'a b;c' })
  })
})
