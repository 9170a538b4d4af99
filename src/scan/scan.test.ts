/**
 * `shipshape scan` against real local servers, one header set at a time. The cases and their
 * expected results are the MDN HTTP Observatory's own analyzer test fixtures (test/*.test.js in
 * mdn/mdn-http-observatory), re-expressed as real responses: the same header sets must give the
 * same result names and score modifiers. Cases marked "shipshape" are hostile or edge inputs added here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Certificate,
  closedPort,
  type Handler,
  makeCertificate,
  page,
  type Site,
  siteHost,
  startSite,
} from '../security/_test/sites.js'
import { runCli } from '../server/_test/harness.js'
import {
  type Expectation,
  gradeForScore,
  type SiteScan,
  scanSite,
  scoreTable,
  type TestName,
} from './index.js'

let certificate: Certificate
let https: Site
let http: Site

beforeAll(async () => {
  certificate = makeCertificate()
  https = await startSite(certificate)
  http = await startSite()
})

afterAll(async () => {
  await https?.close()
  await http?.close()
})

const resolve = { [siteHost]: '127.0.0.1', [`www.${siteHost}`]: '127.0.0.1', localhost: '127.0.0.1' }

/** The http:// site redirects to the same path on the https:// site, as a well-configured site does. */
const toHttps: Handler = (req, res) => {
  res.writeHead(301, { location: `https://${siteHost}:${https.port}${req.url}` })
  res.end()
}

async function scanWith(
  httpsHandler: Handler,
  options: { http?: Handler; trusted?: boolean; httpsUrl?: boolean } = {},
): Promise<SiteScan> {
  https.respond(httpsHandler)
  http.respond(options.http ?? toHttps)
  return scanSite(`https://${siteHost}:${https.port}/`, {
    ca: options.trusted === false ? undefined : certificate.cert,
    httpPort: http.port,
    resolve,
  })
}

async function resultOf(test: TestName, httpsHandler: Handler, options?: Parameters<typeof scanWith>[1]) {
  const report = await scanWith(httpsHandler, options)
  return report.tests[test]
}

function expectResult(
  actual: { result: Expectation; scoreModifier: number; pass: boolean },
  expected: Expectation,
  pass?: boolean,
) {
  expect(actual.result).toBe(expected)
  expect(actual.scoreModifier).toBe(scoreTable[expected][0])
  if (pass !== undefined) expect(actual.pass).toBe(pass)
}

describe('content-security-policy', () => {
  const csp = (value: string) => page({ 'content-security-policy': value })

  it('missing', async () => {
    expectResult(await resultOf('content-security-policy', page({})), 'csp-not-implemented', false)
  })

  it.each([
    '',
    "default-src 'none'; default-src 'none'",
    "default-src 'none'; img-src 'self'; default-src 'none'",
    "default-src 'none'; script-src 'strict-dynamic'",
    'defa',
  ])('header invalid: %j', async (value) => {
    expectResult(await resultOf('content-security-policy', csp(value)), 'csp-header-invalid', false)
  })

  it('invalid when a second policy carries an undecodable path (shipshape)', async () => {
    const twoPolicies = page({ 'content-security-policy': "default-src 'self'" }, '')
    const withMeta = page(
      { 'content-security-policy': 'default-src https://a.example/%E0%A4%A/' },
      `<meta http-equiv="Content-Security-Policy" content="default-src https://a.example/%E0%A4%A/x">`,
    )
    expectResult(await resultOf('content-security-policy', twoPolicies), 'csp-implemented-with-no-unsafe')
    expectResult(await resultOf('content-security-policy', withMeta), 'csp-header-invalid', false)
  })

  it.each([
    "default-src 'none'; script-src https://*",
    "default-src 'none'; script-src 'unsafe-inline'",
    "script-src 'unsafe-inline'",
    'script-src data:',
    'script-src http:',
    'script-src ftp:',
    "default-src 'unsafe-inline'",
    "default-src 'UNSAFE-INLINE'",
    'upgrade-insecure-requests',
    "script-src 'none'",
    'script-src https:',
    'script-src https://mozilla.org https:',
    'default-src https://mozilla.org https:',
    "default-src 'none'; script-src *",
    "default-src *; script-src *; object-src 'none'",
    "default-src 'none'; script-src 'none'; object-src *",
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'",
    "default-src 'none'; script-src 'unsafe-inline' http:",
    "object-src https:; script-src 'none'",
  ])('unsafe inline: %j', async (value) => {
    expectResult(
      await resultOf('content-security-policy', csp(value)),
      'csp-implemented-with-unsafe-inline',
      false,
    )
  })

  it.each([
    'default-src http://mozilla.org',
    "default-src 'none'; script-src http://mozilla.org",
    "default-src 'none'; script-src ftp://mozilla.org",
  ])('insecure scheme on an HTTPS site: %j', async (value) => {
    expectResult(
      await resultOf('content-security-policy', csp(value)),
      'csp-implemented-with-insecure-scheme',
      false,
    )
  })

  it.each([
    "default-src 'none'; img-src http://mozilla.org",
    "default-src 'self'; img-src ftp:",
    "default-src 'self'; img-src http:",
    "default-src 'none'; img-src https:; media-src http://mozilla.org",
    "default-src 'none'; img-src http: https:; script-src 'self'; style-src 'self'",
    "default-src 'none'; img-src 'none'; media-src http:; script-src 'self'; style-src 'self'",
    "default-src 'none'; img-src 'none'; media-src http:; script-src 'self'; style-src 'unsafe-inline'",
  ])('insecure scheme in passive content only: %j', async (value) => {
    expectResult(
      await resultOf('content-security-policy', csp(value)),
      'csp-implemented-with-insecure-scheme-in-passive-content-only',
      true,
    )
  })

  it('unsafe eval', async () => {
    const test = await resultOf(
      'content-security-policy',
      csp("default-src 'none'; script-src 'unsafe-eval'"),
    )
    expectResult(test, 'csp-implemented-with-unsafe-eval', false)
    expect((test.data as { directives: Record<string, string[]> }).directives['script-src']).toEqual([
      "'unsafe-eval'",
    ])
  })

  it.each([
    "object-src 'none'; script-src 'none'; style-src 'unsafe-inline'",
    "default-src 'none'; script-src https://mozilla.org; style-src 'unsafe-inline'",
    "default-src 'unsafe-inline'; script-src https://mozilla.org",
    "default-src 'none';;; ;;;style-src 'self' 'unsafe-inline'",
    "default-src 'none'; style-src data:",
    "default-src 'none'; style-src *",
    "default-src 'none'; style-src https:",
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-hqBEA/HXB3aJU2FgOnYN8rkAgEVgyfi3Vs1j2/XMPBB=' 'unsafe-inline'",
  ])('unsafe inline in style-src only: %j', async (value) => {
    expectResult(
      await resultOf('content-security-policy', csp(value)),
      'csp-implemented-with-unsafe-inline-in-style-src-only',
      true,
    )
  })

  it.each([
    'default-src https://mozilla.org',
    "default-src https://mozilla.org;;; ;;;script-src 'none'",
    "object-src 'none'; script-src https://mozilla.org; style-src https://mozilla.org; upgrade-insecure-requests;",
    "object-src 'none'; script-src 'strict-dynamic' 'nonce-abc' 'unsafe-inline'; style-src 'none'",
    "object-src 'none'; style-src 'self';script-src 'sha256-hqBEA/HXB3aJU2FgOnYN8rkAgEVgyfi3Vs1j2/XMPBA='",
    "object-src 'none'; style-src 'self'; script-src 'unsafe-inline' 'sha256-hqBEA/HXB3aJU2FgOnYN8rkAgEVgyfi3Vs1j2/XMPBA=''sha256-hqBEA/HXB3aJU2FgOnYN8rkAgEVgyfi3Vs1j2/XMPBB='",
    "object-src 'none'; script-src 'unsafe-inline' 'nonce-abc123' 'unsafe-inline'; style-src 'none'",
    "default-src https://mozilla.org; style-src 'unsafe-inline' 'nonce-abc123' 'unsafe-inline'",
    "default-src https://mozilla.org; style-src 'unsafe-inline' 'sha256-hqBEA/HXB3aJU2FgOnYN8rkAgEVgyfi3Vs1j2/XMPBB=' 'unsafe-inline'",
  ])('no unsafe: %j', async (value) => {
    expectResult(
      await resultOf('content-security-policy', csp(value)),
      'csp-implemented-with-no-unsafe',
      true,
    )
  })

  it.each([
    'default-src',
    "default-src 'none'; script-src 'strict-dynamic' 'nonce-abc123' 'unsafe-inline'",
    "default-src 'none'; script-src https://mozilla.org; style-src https://mozilla.org; upgrade-insecure-requests;",
    "default-src 'none'; object-src https://mozilla.org",
    "default-src 'none'; script-src 'strict-dynamic' 'nonce-abc123'",
    "default-src 'none'; script-src 'strict-dynamic' 'sha256-abc123'",
    "default-src 'none'; script-src 'strict-dynamic' 'sha256-abc123' https://*",
    "default-src 'none'; script-src 'strict-dynamic' 'sha256-abc123' 'unsafe-inline'",
  ])("default-src 'none' and nothing unsafe: %j", async (value) => {
    const test = await resultOf('content-security-policy', csp(value))
    expectResult(test, 'csp-implemented-with-no-unsafe-default-src-none', true)
    expect(test.data).toMatchObject({ numPolicies: 1, http: true, meta: false })
  })

  const metaNone = `<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src 'none'; object-src 'none'">`
  const metaHttps = `<meta http-equiv="Content-Security-Policy" content="default-src https:">`

  it('policies from <meta> tags, alone and with a header, are intersected', async () => {
    const cases: Array<[Record<string, string>, string, number]> = [
      [{ 'content-security-policy': 'default-src http:' }, metaHttps, 2],
      [{}, metaNone, 1],
      [{ 'content-security-policy': "default-src 'none'" }, metaNone, 2],
      [{ 'content-security-policy': "default-src 'none'" }, metaHttps, 2],
      [{ 'content-security-policy': "img-src 'none'" }, metaNone, 2],
    ]
    for (const [headers, body, numPolicies] of cases) {
      const test = await resultOf('content-security-policy', page(headers, body))
      expectResult(test, 'csp-implemented-with-no-unsafe-default-src-none', true)
      expect(test.data).toMatchObject({ numPolicies })
    }
  })

  it('several <meta> policies, names in any case and spacing', async () => {
    const body = `<!doctype html><html><head>
      <meta http-equiv="Content-Security-Policy" content="default-src 'none'; object-src 'none'; media-src 'none';" />
      <meta http-equiv="Content-SECURITY-Policy" content="connect-src 'self'; font-src 'self'; child-src 'self'" />
      <meta http-equiv=" Content-Security-Policy " content="img-src 'self'; style-src 'self' 'nonce-gAeQO8jI4VJCsrsXkcUVRCzQjiihKteQ" />
      <meta http-equiv="Content-security-Policy" content="script-src 'self' 'unsafe-inline' 'nonce-gAeQO8jI4VJCsrsXkcUVRCzQjiihKteQ'" />
      </head><body></body></html>`
    const test = await resultOf('content-security-policy', page({}, body))
    expectResult(test, 'csp-implemented-with-no-unsafe-default-src-none', true)
    expect(test.data).toMatchObject({ numPolicies: 4, http: false, meta: true })
  })

  it('report-only is not a policy', async () => {
    const handler = page({
      'content-security-policy-report-only': "default-src 'none'; report-to /_/csp-reports",
    })
    expectResult(
      await resultOf('content-security-policy', handler),
      'csp-not-implemented-but-reporting-enabled',
      false,
    )
  })

  it('frame-ancestors in a <meta> tag does not count; a misspelled directive is no policy either', async () => {
    const body = `<meta http-equiv="Content-Security-Policy" content="frame-ancestors 'none'">`
    expectResult(await resultOf('content-security-policy', page({}, body)), 'csp-not-implemented', false)
    expectResult(
      await resultOf(
        'content-security-policy',
        page({ 'content-security-policy': "frame-anchestors 'none'" }, body),
      ),
      'csp-implemented-with-unsafe-inline',
      false,
    )
  })

  it('a repeated report-uri passes but earns nothing', async () => {
    const value = "default-src 'none'; report-uri /a; report-uri /b"
    expectResult(
      await resultOf('content-security-policy', csp(value)),
      'csp-implemented-but-duplicate-directives',
      true,
    )
  })

  it('a <meta> tag inside a comment or a script is not read (shipshape)', async () => {
    const body = `<!-- <meta http-equiv="Content-Security-Policy" content="default-src 'none'"> -->
      <script>document.write('<meta http-equiv="Content-Security-Policy" content="default-src \\'none\\'">')</script>`
    expectResult(await resultOf('content-security-policy', page({}, body)), 'csp-not-implemented', false)
  })
})

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

describe('redirection', () => {
  const httpsPage = page({})
  const at = (path: string, scheme = 'http', host = siteHost) =>
    `${scheme}://${host}:${scheme === 'http' ? http.port : https.port}${path}`
  const redirects =
    (routes: Record<string, string>): Handler =>
    (req, res) => {
      const location = routes[req.url ?? '']
      if (location === undefined) page({})(req, res)
      else {
        res.writeHead(301, { location })
        res.end()
      }
    }

  it('no HTTP at all', async () => {
    https.respond(httpsPage)
    const report = await scanSite(`https://${siteHost}:${https.port}/`, {
      ca: certificate.cert,
      httpPort: await closedPort(),
      resolve,
    })
    expectResult(report.tests.redirection, 'redirection-not-needed-no-http', true)
  })

  it('HTTP answers without redirecting', async () => {
    expectResult(await resultOf('redirection', httpsPage, { http: page({}) }), 'redirection-missing', false)
  })

  it('redirects, but never to HTTPS', async () => {
    const oneHop = redirects({ '/': at('/en/') })
    expectResult(
      await resultOf('redirection', httpsPage, { http: oneHop }),
      'redirection-not-to-https',
      false,
    )
    const twoHops = redirects({ '/': at('/www/'), '/www/': at('/en/') })
    expectResult(
      await resultOf('redirection', httpsPage, { http: twoHops }),
      'redirection-not-to-https',
      false,
    )
  })

  it('redirects to HTTPS on the same host (another port is fine)', async () => {
    const test = await resultOf('redirection', httpsPage)
    expectResult(test, 'redirection-to-https', true)
    expect(test.data).toMatchObject({ route: [at('/'), at('/', 'https')] })
  })

  it('redirects to HTTP first, then HTTPS', async () => {
    const handler = redirects({ '/': at('/www/'), '/www/': at('/', 'https') })
    expectResult(
      await resultOf('redirection', httpsPage, { http: handler }),
      'redirection-not-to-https-on-initial-redirection',
      false,
    )
  })

  it('redirects to HTTPS on another host first', async () => {
    const handler = redirects({ '/': at('/', 'https', `www.${siteHost}`) })
    expectResult(
      await resultOf('redirection', httpsPage, { http: handler }),
      'redirection-off-host-from-http',
      false,
    )
  })

  it('a certificate that does not verify, on the way', async () => {
    const report = await scanWith(httpsPage, { trusted: false })
    expectResult(report.tests.redirection, 'redirection-invalid-cert', false)
    expectResult(report.tests['strict-transport-security'], 'hsts-invalid-cert', false)
  })

  it('hostile redirects: a loop, a missing Location, an unparseable Location (shipshape)', async () => {
    const loop: Handler = (req, res) => {
      res.writeHead(302, { location: req.url })
      res.end()
    }
    const loopTest = await resultOf('redirection', httpsPage, { http: loop })
    expectResult(loopTest, 'redirection-not-to-https', false)
    expect((loopTest.data as { route: string[] }).route).toHaveLength(11)

    const noLocation: Handler = (req, res) => {
      if (req.url === '/undefined') return page({})(req, res)
      res.writeHead(301)
      res.end()
    }
    const noLocationTest = await resultOf('redirection', httpsPage, { http: noLocation })
    expectResult(noLocationTest, 'redirection-not-to-https', false)
    expect((noLocationTest.data as { route: string[] }).route).toEqual([at('/'), at('/undefined')])

    const unparseable: Handler = (_req, res) => {
      res.writeHead(301, { location: 'https://[not-a-host/' })
      res.end()
    }
    expectResult(
      await resultOf('redirection', httpsPage, { http: unparseable }),
      'redirection-not-needed-no-http',
      true,
    )
  })
})

describe('referrer-policy', () => {
  const referrer = (value: string) => page({ 'referrer-policy': value })

  it.each([
    'no-referrer',
    'same-origin',
    'strict-origin',
    'STRICT-ORIGIN',
    'strict-origin-when-cross-origin',
  ])('private: %s', async (value) => {
    expectResult(await resultOf('referrer-policy', referrer(value)), 'referrer-policy-private', true)
  })

  it('a <meta name="referrer"> counts, after the header', async () => {
    const body = `<meta name="referrer" content="no-referrer, same-origin">`
    const metaOnly = await resultOf('referrer-policy', page({}, body))
    expectResult(metaOnly, 'referrer-policy-private', true)
    expect(metaOnly.data).toBe('no-referrer, same-origin')
    const both = await resultOf('referrer-policy', page({ 'referrer-policy': 'unsafe-url' }, body))
    expectResult(both, 'referrer-policy-private', true)
    expect(both.data).toBe('unsafe-url, no-referrer, same-origin')
  })

  it.each([
    ['', 'referrer-policy-not-implemented', true],
    ['whimsy', 'referrer-policy-header-invalid', false],
    ['origin', 'referrer-policy-unsafe', false],
    ['origin-when-cross-origin', 'referrer-policy-unsafe', false],
    ['unsafe-url', 'referrer-policy-unsafe', false],
    ['origin-when-cross-origin, no-referrer, unsafe-url', 'referrer-policy-unsafe', false],
    ['no-referrer, unsafe-url', 'referrer-policy-unsafe', false],
    ['no-referrer, whimsy', 'referrer-policy-private', true],
    ['whimsy, whimsy1, whimsy2', 'referrer-policy-header-invalid', false],
  ] as Array<[string, Expectation, boolean]>)('%j gives %s', async (value, expected, pass) => {
    const handler = value === '' ? page({}) : referrer(value)
    expectResult(await resultOf('referrer-policy', handler), expected, pass)
  })
})

describe('strict-transport-security', () => {
  const hsts = (value: string | string[]) => page({ 'strict-transport-security': value })

  it.each([
    [page({}), 'hsts-not-implemented', false],
    [hsts('includeSubDomains; preload'), 'hsts-header-invalid', false],
    [
      hsts(['max-age=15768000; includeSubDomains', 'max-age=15768000; includeSubDomains']),
      'hsts-header-invalid',
      false,
    ],
    [hsts('max-age=86400'), 'hsts-implemented-max-age-less-than-six-months', false],
    [
      hsts('max-age=15768000; includeSubDomains; preload'),
      'hsts-implemented-max-age-at-least-six-months',
      true,
    ],
    // shipshape: 180 days is accepted as six months; a spaced "max-age = n" is not read at all
    [hsts('max-age=15552000'), 'hsts-implemented-max-age-at-least-six-months', true],
    [hsts('max-age = 31536000'), 'hsts-header-invalid', false],
  ] as Array<[Handler, Expectation, boolean]>)('case %#', async (handler, expected, pass) => {
    expectResult(await resultOf('strict-transport-security', handler), expected, pass)
  })

  it('the parsed header', async () => {
    const test = await resultOf(
      'strict-transport-security',
      hsts('max-age=15768000; includeSubDomains; preload'),
    )
    expect(test.data).toMatchObject({ maxAge: 15768000, includeSubDomains: true, preload: true })
  })

  it('a site only on HTTP has no HSTS, even if it sends the header', async () => {
    http.respond(hsts('max-age=15768000'))
    const report = await scanSite(`http://${siteHost}:${http.port}/`, {
      httpsPort: await closedPort(),
      resolve,
    })
    expectResult(report.tests['strict-transport-security'], 'hsts-not-implemented-no-https', false)
  })
})

describe('subresource-integrity', () => {
  const html = (body: string) => page({}, body)
  const integrity =
    'integrity="sha384-zTm/dblzLXQNp3CgY+hfaC/WJ6h4XtNrePh2CW2+rO9GPuNiPb9jmthvAL+oI/dQ" crossorigin="anonymous"'

  it.each([
    ['<p>no scripts</p>', 'sri-not-implemented-but-no-scripts-loaded', true],
    [
      '<script src="/static/js/foo.js"></script>',
      'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
      true,
    ],
    [
      `<script src="//www.${siteHost}/static/js/foo.js"></script>`,
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    ],
    [
      `<script src="https://www.${siteHost}/static/js/foo.js"></script>`,
      'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
      true,
    ],
    [
      `<script src="https://ajax.googleapis.com/ajax/libs/jquery/1.7.2/jquery.min.js" ${integrity}></script>`,
      'sri-implemented-and-external-scripts-loaded-securely',
      true,
    ],
    [
      `<script src="/static/js/foo.js"></script><script src="https://localhost/react-0.14.7.min.js" ${integrity}></script>`,
      'sri-implemented-and-external-scripts-loaded-securely',
      true,
    ],
    [
      `<script src="/static/js/foo.js" ${integrity}></script>`,
      'sri-implemented-and-all-scripts-loaded-securely',
      true,
    ],
    [
      '<script src="https://ajax.googleapis.com/ajax/libs/jquery/1.7.2/jquery.min.js"></script>',
      'sri-not-implemented-but-external-scripts-loaded-securely',
      false,
    ],
    [
      `<script src="http://ajax.googleapis.com/ajax/libs/jquery/1.7.2/jquery.min.js" ${integrity}></script>`,
      'sri-implemented-but-external-scripts-not-loaded-securely',
      false,
    ],
    [
      `<script src="//ajax.googleapis.com/ajax/libs/jquery/1.7.2/jquery.min.js" ${integrity}></script>`,
      'sri-implemented-but-external-scripts-not-loaded-securely',
      false,
    ],
    [
      '<script src="http://ajax.googleapis.com/ajax/libs/jquery/1.7.2/jquery.min.js"></script>',
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    ],
    [
      '<script src="//ajax.googleapis.com/ajax/libs/jquery/1.7.2/jquery.min.js"></script>',
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    ],
    // shipshape: markup that only looks like a script tag, and markup that is one
    [
      '<!-- <script src="http://evil.example/x.js"></script> -->',
      'sri-not-implemented-but-no-scripts-loaded',
      true,
    ],
    [
      '<script>var s = "<script src=http://evil.example/x.js></script>"</script>',
      'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
      true,
    ],
    [
      '<textarea><script src="http://evil.example/x.js"></script></textarea>',
      'sri-not-implemented-but-no-scripts-loaded',
      true,
    ],
    [
      '<SCRIPT SRC=http://evil.example/x.js></SCRIPT>',
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    ],
    [
      '<script src="http&#58;//evil.example/x.js"></script>',
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    ],
    [
      '<script src="https://evil.example/x.js" integrity=""></script>',
      'sri-not-implemented-but-external-scripts-loaded-securely',
      false,
    ],
  ] as Array<[string, Expectation, boolean]>)('%s gives %s', async (body, expected, pass) => {
    expectResult(await resultOf('subresource-integrity', html(body)), expected, pass)
  })

  it('not HTML', async () => {
    const json: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"foo": "bar"}')
    }
    expectResult(await resultOf('subresource-integrity', json), 'sri-not-implemented-response-not-html', true)
  })

  it('a compressed page is read after decompression (shipshape)', async () => {
    const { gzipSync } = await import('node:zlib')
    const gzipped: Handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' })
      res.end(gzipSync('<script src="http://evil.example/x.js"></script>'))
    }
    expectResult(
      await resultOf('subresource-integrity', gzipped),
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    )
  })
})

describe('x-content-type-options, x-frame-options, cross-origin-resource-policy', () => {
  it.each([
    [{ 'x-content-type-options': 'nosniff' }, 'x-content-type-options-nosniff', true],
    [{ 'x-content-type-options': ' NOSNIFF ' }, 'x-content-type-options-nosniff', true],
    [{}, 'x-content-type-options-not-implemented', false],
    [{ 'x-content-type-options': 'whimsy' }, 'x-content-type-options-header-invalid', false],
    [{ 'x-content-type-options': ['nosniff', 'nosniff'] }, 'x-content-type-options-header-invalid', false],
  ] as Array<[Record<string, string | string[]>, Expectation, boolean]>)(
    '%j gives %s',
    async (headers, expected, pass) => {
      expectResult(await resultOf('x-content-type-options', page(headers)), expected, pass)
    },
  )

  it.each([
    [{ 'x-frame-options': 'DENY' }, 'x-frame-options-sameorigin-or-deny', true],
    [{ 'x-frame-options': 'sameorigin' }, 'x-frame-options-sameorigin-or-deny', true],
    [{ 'x-frame-options': 'ALLOW-FROM https://mozilla.org' }, 'x-frame-options-allow-from-origin', true],
    [{}, 'x-frame-options-not-implemented', false],
    [{ 'x-frame-options': 'whimsy' }, 'x-frame-options-header-invalid', false],
    [{ 'x-frame-options': ['DENY', 'DENY'] }, 'x-frame-options-header-invalid', false],
    [
      {
        'x-frame-options': 'whimsy',
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      },
      'x-frame-options-implemented-via-csp',
      true,
    ],
    [{ 'content-security-policy': "frame-ancestors 'self'" }, 'x-frame-options-implemented-via-csp', true],
  ] as Array<[Record<string, string | string[]>, Expectation, boolean]>)(
    '%j gives %s',
    async (headers, expected, pass) => {
      expectResult(await resultOf('x-frame-options', page(headers)), expected, pass)
    },
  )

  it.each([
    [{ 'cross-origin-resource-policy': 'same-site' }, 'corp-implemented-with-same-site', true],
    [{ 'cross-origin-resource-policy': 'Same-Origin' }, 'corp-implemented-with-same-origin', true],
    [{ 'cross-origin-resource-policy': 'cross-origin' }, 'corp-implemented-with-cross-origin', true],
    [{}, 'corp-not-implemented', true],
    [{ 'cross-origin-resource-policy': 'whimsy' }, 'corp-header-invalid', false],
  ] as Array<[Record<string, string>, Expectation, boolean]>)(
    '%j gives %s',
    async (headers, expected, pass) => {
      expectResult(await resultOf('cross-origin-resource-policy', page(headers)), expected, pass)
    },
  )
})

describe('grading', () => {
  it('the grade table', () => {
    const table: Array<[number, string]> = [
      [-10, 'F'],
      [0, 'F'],
      [20, 'F'],
      [25, 'D-'],
      [30, 'D'],
      [39, 'D'],
      [40, 'D+'],
      [45, 'C-'],
      [50, 'C'],
      [55, 'C'],
      [60, 'C+'],
      [65, 'B-'],
      [70, 'B'],
      [75, 'B'],
      [80, 'B+'],
      [85, 'A-'],
      [90, 'A'],
      [95, 'A'],
      [100, 'A+'],
      [120, 'A+'],
    ]
    for (const [score, grade] of table) {
      expect(gradeForScore(score)).toEqual({ score: Math.max(score, 0), grade })
    }
  })

  const strongHeaders = {
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'; form-action 'self'",
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'set-cookie': '__Host-session=1; Path=/; Secure; HttpOnly; SameSite=Lax',
  }

  it('a well-configured site: A+ with every bonus', async () => {
    const report = await scanWith(
      page(strongHeaders, '<script src="/app.js" integrity="sha384-abc"></script>'),
    )
    // 100 + CSP 10 + cookies 5 + referrer 5 + SRI 5 + frame-ancestors 5 + CORP 10
    expect({ grade: report.grade, score: report.score, passed: report.testsPassed }).toEqual({
      grade: 'A+',
      score: 140,
      passed: 10,
    })
  })

  it('bonuses count only when penalties alone leave at least 90 (the extra-credit rule)', async () => {
    // Penalties: no X-Content-Type-Options (-5), external script without SRI (-5), referrer unsafe (-5).
    const { 'x-content-type-options': _, ...rest } = strongHeaders
    const report = await scanWith(
      page(
        { ...rest, 'referrer-policy': 'unsafe-url' },
        '<script src="https://cdn.example.com/x.js"></script>',
      ),
    )
    expect({ grade: report.grade, score: report.score }).toEqual({ grade: 'A-', score: 85 })
    const withOneLess = await scanWith(
      page({ ...rest }, '<script src="https://cdn.example.com/x.js"></script>'),
    )
    // Penalties -10 leave 90: now the bonuses count (CSP 10, cookies 5, referrer 5, XFO 5, CORP 10).
    expect({ grade: withOneLess.grade, score: withOneLess.score }).toEqual({ grade: 'A+', score: 125 })
  })

  it('a bare site: F; with an insecure session cookie too, the score is floored at 0', async () => {
    const bare = await scanWith((_req, res) => res.end('hi'), { http: page({}) })
    // CSP -25, redirection -20, HSTS -20, X-Content-Type-Options -5, X-Frame-Options -20
    expect({ grade: bare.grade, score: bare.score }).toEqual({ grade: 'F', score: 10 })
    const worse = await scanWith((_req, res) => res.setHeader('set-cookie', 'sessionid=1').end('hi'), {
      http: page({}),
    })
    expect({ grade: worse.grade, score: worse.score }).toEqual({ grade: 'F', score: 0 })
  })

  it('refuses to grade an error page or an unreachable site', async () => {
    await expect(scanWith((_req, res) => res.writeHead(500).end())).rejects.toMatchObject({
      code: 'SHIPSHAPE_E_SCAN_STATUS',
    })
    const nothing = await closedPort()
    await expect(
      scanSite(`https://${siteHost}:${nothing}/`, { httpPort: nothing, resolve, timeoutMs: 2000 }),
    ).rejects.toMatchObject({ code: 'SHIPSHAPE_E_SCAN_UNREACHABLE' })
  })

  it('401 and 403 pages are graded', async () => {
    const report = await scanWith((_req, res) => res.writeHead(401, strongHeaders).end())
    expect(report.statusCode).toBe(401)
  })

  it('a server that never answers does not hang the scan (shipshape)', async () => {
    https.respond(() => {})
    http.respond(() => {})
    await expect(
      scanSite(`https://${siteHost}:${https.port}/`, {
        ca: certificate.cert,
        httpPort: http.port,
        resolve,
        timeoutMs: 500,
      }),
    ).rejects.toMatchObject({ code: 'SHIPSHAPE_E_SCAN_UNREACHABLE' })
  })
})

describe('the scan command', () => {
  /** Asynchronous, so this process keeps answering the CLI's requests. */
  const scan = (args: string[]) => runCli(['scan', ...args])

  it('exit codes: 0 at the threshold, 1 below it, 2 when the site cannot be graded or the input is bad', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'shipshape-scan-cli-'))
    try {
      const ca = join(directory, 'ca.pem')
      writeFileSync(ca, certificate.cert)
      https.respond(page({ 'x-content-type-options': 'nosniff' }))
      http.respond(toHttps)
      const site = [`https://${siteHost}:${https.port}/`, '--ca', ca, '--http-port', String(http.port)]
      const resolving = ['--resolve', `${siteHost}:127.0.0.1`]
      // CSP -25, HSTS -20, X-Frame-Options -20: 35, D.
      const json = await scan([...site, ...resolving, '--json', '--min-grade', 'D'])
      expect(json.status).toBe(0)
      expect(JSON.parse(json.stdout)).toMatchObject({ grade: 'D', score: 35 })
      const below = await scan([...site, ...resolving, '--min-grade', 'C'])
      expect(below.status).toBe(1)
      expect(below.stdout).toContain('Grade D   Score 35')
      expect(below.stdout).toContain('Below the threshold (grade C)')
      expect((await scan([...site, ...resolving, '--min-score', '36'])).status).toBe(1)
      for (const bad of [
        ['ftp://example.com/'],
        ['example.com:8443'],
        ['https://user:pass@example.com/'],
        [...site, ...resolving, '--min-grade', 'A++'],
        [...site, ...resolving, '--http-port', '70000'],
        [...site, ...resolving, '--resolve', 'no-address'],
        [`https://${siteHost}:${https.port}/`, '--ca', join(directory, 'missing.pem')],
      ]) {
        const result = await scan(bad)
        expect(result.status, bad.join(' ')).toBe(2)
        expect(result.stderr, bad.join(' ')).toContain('SHIPSHAPE_E_BAD_OPTION')
      }
      const down = await scan([
        `https://${siteHost}:${await closedPort()}/`,
        '--http-port',
        String(await closedPort()),
        ...resolving,
      ])
      expect(down.status).toBe(2)
      expect(down.stderr).toContain('SHIPSHAPE_E_SCAN_UNREACHABLE')
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
