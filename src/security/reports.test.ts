/** The CSP report endpoint: both report formats logged, hostile bodies refused, floods rate-limited. */
import { afterEach, describe, expect, it } from 'vitest'
import { closeAll, raw, send, start } from './_test/harness.js'

afterEach(closeAll)

const path = '/_shipshape/csp-report'
const legacy = (n = 1) =>
  JSON.stringify({
    'csp-report': {
      'document-uri': `https://example.com/account?reset-token=secret${n}`,
      'blocked-uri': 'https://evil.example/x.js#frag',
      'violated-directive': 'script-src-elem',
      'effective-directive': 'script-src-elem',
      'source-file': 'https://example.com/app.js',
      'line-number': 12,
      'column-number': 3,
      disposition: 'enforce',
      'script-sample': 'alert(1)\n\u001b[31mforged log',
    },
  })

describe('CSP report endpoint', () => {
  it('logs each violation as one warning, without query strings or control characters', async () => {
    const { port, logs } = await start()
    const reply = await send(port, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/csp-report', 'sec-fetch-site': 'same-origin' },
      body: legacy(),
    })
    expect(reply.status).toBe(204)
    const line = logs.find((entry) => entry.msg === 'content security policy violation')
    expect(line?.level).toBe(40)
    expect(line?.csp).toEqual({
      documentUrl: 'https://example.com/account',
      blockedUrl: 'https://evil.example/x.js',
      directive: 'script-src-elem',
      sourceFile: 'https://example.com/app.js',
      line: 12,
      column: 3,
      disposition: 'enforce',
      sample: 'alert(1)[31mforged log',
    })
    expect(JSON.stringify(logs)).not.toContain('secret')
    const modern = await send(port, {
      method: 'POST',
      path,
      headers: { 'content-type': 'application/reports+json' },
      body: JSON.stringify([
        {
          type: 'csp-violation',
          body: {
            documentURL: 'https://example.com/',
            blockedURL: 'inline',
            effectiveDirective: 'style-src-attr',
          },
        },
        { type: 'deprecation', body: {} },
      ]),
    })
    expect(modern.status).toBe(204)
    expect(
      logs.filter((entry) => entry.msg === 'content security policy violation').at(-1)?.csp,
    ).toMatchObject({
      blockedUrl: 'inline',
      directive: 'style-src-attr',
    })
  })

  it('refuses other methods, bodies that are not reports, and oversized bodies', async () => {
    const { port, logs } = await start()
    const get = await send(port, { path })
    expect(get.status).toBe(405)
    expect(get.headers.allow).toBe('POST')
    for (const body of ['not json', '{"csp-report": 1}', '"string"', '{}']) {
      expect((await send(port, { method: 'POST', path, body })).status, body).toBe(400)
    }
    expect(
      (await send(port, { method: 'POST', path, body: `{"csp-report":{"a":"${'x'.repeat(70_000)}"}}` }))
        .status,
    ).toBe(413)
    // Promising more than a report can be (but less than the pipeline allows) is enough: the 413
    // comes at once, and the connection closes.
    const promised = await raw(
      port,
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/csp-report\r\nContent-Length: 500000\r\n\r\n{`,
    )
    expect(promised).toMatch(/^HTTP\/1\.1 413 /)
    expect(logs.filter((entry) => entry.msg === 'content security policy violation')).toHaveLength(0)
  })

  it('accepts at most 10 reports a minute from one client, then answers 429 without logging', async () => {
    const { port, logs } = await start()
    const statuses: number[] = []
    for (let i = 0; i < 14; i++) {
      statuses.push((await send(port, { method: 'POST', path, body: legacy(i) })).status)
    }
    expect(statuses).toEqual([...Array(10).fill(204), ...Array(4).fill(429)])
    const limited = await send(port, { method: 'POST', path, body: legacy() })
    expect(limited.headers['retry-after']).toBe('60')
    expect(logs.filter((entry) => entry.msg === 'content security policy violation')).toHaveLength(10)
  })

  it('is not there when reports are off or CSP is off: the path goes to the app', async () => {
    const noReports = await start({ cspReportPath: '' })
    expect((await send(noReports.port, { method: 'POST', path, body: legacy() })).status).toBe(404)
    const noCsp = await start({ csp: 'off' })
    expect((await send(noCsp.port, { method: 'POST', path, body: legacy() })).status).toBe(404)
  })
})
