/**
 * `shipshape scan`'s subresource integrity, X-Content-Type-Options, X-Frame-Options and CORP tests against real local servers, one header set at a time. The cases and
 * their expected results are the MDN HTTP Observatory's own analyzer test fixtures (test/*.test.js
 * in mdn/mdn-http-observatory), re-expressed as real responses: the same header sets must give the
 * same result names and score modifiers. Cases marked "shipshape" are hostile or edge inputs added here.
 */
import { describe, it } from 'vitest'
import { type Handler, page, siteHost } from '../_test/sites.js'
import { expectResult, resultOf, useSites } from './_test/observatory.js'
import type { Expectation } from './index.js'

useSites()

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
    // shipshape: `<!-->` is a whole (empty) comment, so the script after it is real; after
    // <plaintext> nothing is markup. A tokenizer that gets either wrong changes the grade.
    [
      '<!--><script src="http://evil.example/x.js"></script><!-- -->',
      'sri-not-implemented-and-external-scripts-not-loaded-securely',
      false,
    ],
    [
      '<plaintext><script src="http://evil.example/x.js"></script>',
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
