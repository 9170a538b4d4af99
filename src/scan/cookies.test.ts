/**
 * `shipshape scan`'s cookies and CORS tests against real local servers, one header set at a time. The cases and
 * their expected results are the MDN HTTP Observatory's own analyzer test fixtures (test/*.test.js
 * in mdn/mdn-http-observatory), re-expressed as real responses: the same header sets must give the
 * same result names and score modifiers. Cases marked "shipshape" are hostile or edge inputs added here.
 */
import { describe, expect, it } from 'vitest'
import { closedPort, type Handler, page, siteHost } from '../_test/sites.js'
import { expectResult, http, resolve, resultOf, scanWith, useSites } from './_test/observatory.js'
import { type Expectation, scanSite } from './index.js'

useSites()

describe('cookies', () => {
  const setting = (cookies: string[], extra: Record<string, string> = {}) =>
    page({ 'set-cookie': cookies, ...extra })
  const domain = `Domain=${siteHost}`

  it('no cookies', async () => {
    expectResult(await resultOf('cookies', page({})), 'cookies-not-found', true)
  })

  it('secure with HttpOnly sessions (the affinity cookie is ignored)', async () => {
    const test = await resultOf(
      'cookies',
      setting([
        `SESSIONID=bar; ${domain}; Path=/; Secure; HttpOnly`,
        `foo=bar; ${domain}; Secure; Path=/`,
        `heroku-session-affinity=bar; ${domain}; Path=/`,
      ]),
    )
    expectResult(test, 'cookies-secure-with-httponly-sessions', true)
    expect(test.data).toMatchObject({ sameSite: false })
  })

  it('secure with HttpOnly sessions and SameSite everywhere', async () => {
    const test = await resultOf(
      'cookies',
      setting([
        `SESSIONID_SAMESITE_STRICT=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=Strict`,
        `SESSIONID_SAMESITE_LAX=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=Lax`,
        `SESSIONID_SAMESITE_NONE=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=None`,
      ]),
    )
    expectResult(test, 'cookies-secure-with-httponly-sessions-and-samesite', true)
    expect(test.data).toMatchObject({
      sameSite: true,
      cookies: {
        SESSIONID_SAMESITE_STRICT: { sameSite: 'strict' },
        SESSIONID_SAMESITE_LAX: { sameSite: 'lax' },
        SESSIONID_SAMESITE_NONE: { sameSite: 'none' },
      },
    })
  })

  it('no SameSite bonus unless every cookie has SameSite', async () => {
    const test = await resultOf(
      'cookies',
      setting([
        `SESSIONID_SAMESITE_STRICT=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=Strict`,
        `SESSIONID_SAMESITE_NO_SAMESITE=bar; ${domain}; Path=/; Secure; HttpOnly`,
      ]),
    )
    expectResult(test, 'cookies-secure-with-httponly-sessions', true)
  })

  it.each([
    [[`CSRFTOKEN=bar; ${domain}; Path=/; Secure; HttpOnly`], 'cookies-anticsrf-without-samesite-flag'],
    [[`SESSIONID=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=`], 'cookies-samesite-flag-invalid'],
    [[`SESSIONID=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=True`], 'cookies-samesite-flag-invalid'],
    [
      [`SESSIONID=bar; ${domain}; Path=/; Secure; HttpOnly; SameSite=Invalid`],
      'cookies-samesite-flag-invalid',
    ],
    [[`foo=bar; ${domain}; Path=/`], 'cookies-without-secure-flag'],
    [[`SESSIONID=bar; ${domain}; Path=/; Secure`], 'cookies-session-without-httponly-flag'],
    [[`SESSIONID=bar; ${domain}; Path=/; HttpOnly`], 'cookies-session-without-secure-flag'],
    [[`SESSIONID=bar; ${domain}; Path=/`], 'cookies-session-without-secure-flag'],
    // shipshape: SameSite=None needs Secure
    [[`prefs=1; ${domain}; Path=/; SameSite=None`], 'cookies-samesite-flag-invalid'],
  ] as Array<[string[], Expectation]>)('%j gives %s', async (cookies, expected) => {
    expectResult(await resultOf('cookies', setting(cookies)), expected, false)
  })

  it('without Secure but protected by HSTS', async () => {
    const hsts = { 'strict-transport-security': 'max-age=15768000' }
    expectResult(
      await resultOf('cookies', setting([`foo=bar; ${domain}; Path=/`], hsts)),
      'cookies-without-secure-flag-but-protected-by-hsts',
      false,
    )
    expectResult(
      await resultOf('cookies', setting([`SESSIONID=bar; ${domain}; Path=/; HttpOnly`], hsts)),
      'cookies-session-without-secure-flag-but-protected-by-hsts',
      false,
    )
  })

  it('cookies a browser refuses are not graded (shipshape)', async () => {
    const refused = [
      'SESSIONID=bar; Domain=evil.example; Path=/', // another site's domain
      '__Host-session=1; Path=/', // __Host- without Secure
      '__Secure-session=1; HttpOnly', // __Secure- without Secure
      '=nameless; Secure',
      'no-equals-sign',
    ]
    expectResult(await resultOf('cookies', setting(refused)), 'cookies-not-found', true)
  })

  it('a Secure cookie set over plain HTTP is refused, as browsers refuse it (shipshape)', async () => {
    http.respond(page({ 'set-cookie': 'sessionid=1; Path=/; Secure; HttpOnly' }))
    const report = await scanSite(`http://${siteHost}:${http.port}/`, {
      httpsPort: await closedPort(),
      resolve,
    })
    expectResult(report.tests.cookies, 'cookies-not-found', true)
  })

  it('a cookie set on a redirect on the way counts (shipshape)', async () => {
    const test = await resultOf('cookies', (req, res) => {
      if (req.url === '/') {
        res.writeHead(302, { location: '/home', 'set-cookie': 'sessionid=1; Path=/; Secure' })
        res.end()
      } else page({ 'set-cookie': 'theme=dark; Path=/; Secure; SameSite=Lax' })(req, res)
    })
    expectResult(test, 'cookies-session-without-httponly-flag', false)
  })
})

describe('cross-origin-resource-sharing', () => {
  const observatory = 'https://http-observatory.security.mozilla.org'
  const cors = (headers: (origin: string | undefined) => Record<string, string>): Handler => {
    return (req, res) => page(headers(req.headers.origin))(req, res)
  }

  it.each([
    [cors(() => ({})), 'cross-origin-resource-sharing-not-implemented', true],
    [
      cors(() => ({ 'access-control-allow-origin': '*' })),
      'cross-origin-resource-sharing-implemented-with-public-access',
      true,
    ],
    [
      cors(() => ({ 'access-control-allow-origin': 'https://mozilla.org' })),
      'cross-origin-resource-sharing-implemented-with-restricted-access',
      true,
    ],
    [
      cors((origin) => ({ 'access-control-allow-origin': origin ?? '' })),
      'cross-origin-resource-sharing-implemented-with-restricted-access',
      true,
    ],
    [
      cors((origin) => ({
        'access-control-allow-origin': origin ?? '',
        'access-control-allow-credentials': 'true',
      })),
      'cross-origin-resource-sharing-implemented-with-universal-access',
      false,
    ],
  ] as Array<[Handler, Expectation, boolean]>)('case %#', async (handler, expected, pass) => {
    expectResult(await resultOf('cross-origin-resource-sharing', handler), expected, pass)
  })

  it('the preflight is sent from the Observatory origin', async () => {
    const origins: Array<string | undefined> = []
    await scanWith((req, res) => {
      if (req.method === 'OPTIONS') origins.push(req.headers.origin)
      page({})(req, res)
    })
    expect(origins).toEqual([observatory])
  })
})
