/**
 * `shipshape scan`'s grade and its command against real local servers, one header set at a time. The cases and their
 * expected results are the MDN HTTP Observatory's own analyzer test fixtures (test/*.test.js in
 * mdn/mdn-http-observatory), re-expressed as real responses: the same header sets must give the
 * same result names and score modifiers. Cases marked "shipshape" are hostile or edge inputs added here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../_test/cli.js'
import { closedPort, page, siteHost } from '../_test/sites.js'
import { certificate, http, https, resolve, scanWith, toHttps, useSites } from './_test/observatory.js'
import { gradeForScore, scanSite } from './index.js'

useSites()

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
