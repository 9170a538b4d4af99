/**
 * `shipshape scan`'s redirection, Referrer-Policy and HSTS tests against real local servers, one header set at a time. The cases and
 * their expected results are the MDN HTTP Observatory's own analyzer test fixtures (test/*.test.js
 * in mdn/mdn-http-observatory), re-expressed as real responses: the same header sets must give the
 * same result names and score modifiers. Cases marked "shipshape" are hostile or edge inputs added here.
 */
import { describe, expect, it } from 'vitest'
import { closedPort, type Handler, page, siteHost } from '../_test/sites.js'
import {
  certificate,
  expectResult,
  http,
  https,
  resolve,
  resultOf,
  scanWith,
  useSites,
} from './_test/observatory.js'
import { type Expectation, scanSite } from './index.js'

useSites()

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
