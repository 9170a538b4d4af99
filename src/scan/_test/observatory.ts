/**
 * What the scan tests share: a real HTTPS site and a real HTTP site on 127.0.0.1 (started once per
 * test file by useSites()), a scan of them under a real-looking name, and the result assertions.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import {
  type Certificate,
  type Handler,
  makeCertificate,
  type Site,
  siteHost,
  startSite,
} from '../../_test/sites.js'
import { type Expectation, type SiteScan, scanSite, scoreTable, type TestName } from '../index.js'

// Live bindings: each test file's useSites() sets them before its tests run.
export let certificate: Certificate
export let https: Site
export let http: Site

export function useSites(): void {
  beforeAll(async () => {
    certificate = makeCertificate()
    https = await startSite(certificate)
    http = await startSite()
  })
  afterAll(async () => {
    await https?.close()
    await http?.close()
  })
}

export const resolve = { [siteHost]: '127.0.0.1', [`www.${siteHost}`]: '127.0.0.1', localhost: '127.0.0.1' }

/** The http:// site redirects to the same path on the https:// site, as a well-configured site does. */
export const toHttps: Handler = (req, res) => {
  res.writeHead(301, { location: `https://${siteHost}:${https.port}${req.url}` })
  res.end()
}

export async function scanWith(
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

export async function resultOf(
  test: TestName,
  httpsHandler: Handler,
  options?: Parameters<typeof scanWith>[1],
) {
  const report = await scanWith(httpsHandler, options)
  return report.tests[test]
}

export function expectResult(
  actual: { result: Expectation; scoreModifier: number; pass: boolean },
  expected: Expectation,
  pass?: boolean,
) {
  expect(actual.result).toBe(expected)
  expect(actual.scoreModifier).toBe(scoreTable[expected][0])
  if (pass !== undefined) expect(actual.pass).toBe(pass)
}
