/**
 * An app that sends its own Content-Security-Policy (SvelteKit's kit csp, helmet) gets
 * shipshape's directives merged into it at send time, through a real server: never dropped.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { mergePolicies } from './_policy.js'
import { closeAll, send, start } from './_test/harness.js'

afterEach(closeAll)

const directives = (policy: unknown) =>
  new Map(
    String(policy)
      .split(';')
      .map((part) => part.trim().split(' '))
      .map(([name, ...sources]) => [name, sources.join(' ')]),
  )

describe("an app's own CSP", () => {
  it("keeps the app's sources and adds shipshape's directives (set with setHeader)", async () => {
    const { port } = await start()
    const policy = directives((await send(port, { path: '/own-csp' })).headers['content-security-policy'])
    expect(policy.get('script-src')).toBe("'self' 'nonce-app1'")
    expect(policy.get('img-src')).toBe("'self' data:")
    expect(policy.get('object-src')).toBe("'none'")
    expect(policy.get('frame-ancestors')).toBe("'none'")
    expect(policy.get('form-action')).toBe("'self'")
    expect(policy.get('report-uri')).toBe('/_shipshape/csp-report')
  })

  it("starts a directive the app left to its default-src from that default-src (given in writeHead's headers)", async () => {
    const { port } = await start()
    const reply = await send(port, { path: '/own-csp-head' })
    const policy = directives(reply.headers['content-security-policy'])
    // The app's nonce stays valid for scripts, though shipshape's policy names script-src.
    expect(policy.get('script-src')).toBe("'self' 'nonce-app2'")
    // 'none' on shipshape's side leaves the app's explicit choice.
    expect(policy.get('object-src')).toBe("'self'")
  })

  it("keeps the nonce cspNonce() gave beside the app's own hash", async () => {
    const { port } = await start()
    const reply = await send(port, { path: '/own-csp-and-nonce' })
    const policy = directives(reply.headers['content-security-policy'])
    expect(policy.get('script-src')).toBe(`'self' 'sha256-abc=' 'nonce-${reply.body}'`)
  })

  it("gives each response its own nonces, the app's and shipshape's, though the merge is made once per shape", async () => {
    const { port } = await start()
    for (const app of ['first', 'second', 'third']) {
      const reply = await send(port, { path: `/own-nonce?app=${app}` })
      const policy = directives(reply.headers['content-security-policy'])
      expect(policy.get('script-src')).toBe(`'self' 'nonce-${app}' 'nonce-${reply.body}'`)
      expect(policy.get('style-src')).toBe(`'self' 'nonce-${reply.body}'`)
    }
  })

  it('leaves a response whose policy the app did not touch as shipshape wrote it', async () => {
    const { port } = await start()
    const reply = await send(port, { path: '/' })
    expect(String(reply.headers['content-security-policy'])).toMatch(
      /^default-src 'self'; script-src 'self' 'nonce-[^']+'; style-src 'self' 'nonce-[^']+'; object-src 'none'/,
    )
  })

  it('puts back each merge its own nonces, once each, whatever the memo holds', () => {
    const app = "script-src 'self' 'sha256-abc='; style-src 'self'"
    for (const nonce of ['one', 'two']) {
      const ours = `script-src 'self' 'nonce-${nonce}'; object-src 'none'`
      expect(mergePolicies(app, ours)).toBe(
        `script-src 'self' 'sha256-abc=' 'nonce-${nonce}'; style-src 'self'; object-src 'none'`,
      )
      // cspNonce()'s nonce handed to the app: the same source on both sides is listed once.
      expect(mergePolicies(`script-src 'nonce-${nonce}'`, ours)).toBe(
        `script-src 'nonce-${nonce}' 'self'; object-src 'none'`,
      )
    }
    // An unclosed quote is not a nonce source: kept as the app wrote it.
    expect(mergePolicies("script-src 'nonce-x", "object-src 'none'")).toBe(
      "script-src 'nonce-x; object-src 'none'",
    )
  })
})
