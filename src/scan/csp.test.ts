/**
 * `shipshape scan`'s Content-Security-Policy test against real local servers, one header set at a time. The cases and
 * their expected results are the MDN HTTP Observatory's own analyzer test fixtures (test/*.test.js
 * in mdn/mdn-http-observatory), re-expressed as real responses: the same header sets must give the
 * same result names and score modifiers. Cases marked "shipshape" are hostile or edge inputs added here.
 */
import { describe, expect, it } from 'vitest'
import { page } from '../_test/sites.js'
import { expectResult, resultOf, useSites } from './_test/observatory.js'

useSites()

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
