/**
 * `shipshape scan` reports the inline scripts a page's own policy blocks (a framework page that
 * would not hydrate), against real local servers: nonces and hashes as browsers match them.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { page } from '../_test/sites.js'
import { scanWith, useSites } from './_test/observatory.js'

useSites()

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`
const hashed = 'window.hashed = 1'

describe('inline scripts under the page policy', () => {
  it.each([
    ['no policy: every inline script runs', {}, '<script>boot()</script>', []],
    [
      'a matching nonce and a listed hash run; a script without either is blocked',
      { 'content-security-policy': `script-src 'self' 'nonce-abc123' ${sha256(hashed)}` },
      `<script nonce="abc123">boot()</script><script>${hashed}</script><script>self.__next_f.push([1])</script>`,
      ['self.__next_f.push([1])'],
    ],
    [
      'a nonce differing in case is another nonce',
      { 'content-security-policy': "default-src 'self' 'nonce-ABC123'" },
      '<script nonce="abc123">boot()</script>',
      ['boot()'],
    ],
    [
      "'unsafe-inline' is ignored beside a nonce (CSP Level 3)",
      { 'content-security-policy': "script-src 'unsafe-inline' 'nonce-n1'" },
      '<script>boot()</script><script src="/app.js"></script><script type="application/json">{"a":1}</script>',
      ['boot()'],
    ],
    [
      'a <meta> policy blocks too, as one more policy to satisfy',
      { 'content-security-policy': "script-src 'nonce-n1'" },
      `<meta http-equiv="Content-Security-Policy" content="script-src 'self'"><script nonce="n1">boot()</script>`,
      ['boot()'],
    ],
  ])('%s', async (_name, headers, body, blocked) => {
    const report = await scanWith(page(headers, body))
    expect(report.inlineScripts.blocked).toEqual(blocked)
  })
})
