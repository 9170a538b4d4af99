/**
 * The deploy checks that judge a live site or a bucket (--url, S3 listing), against real local
 * servers: a site with strong headers passes, one without fails each, saying what the Observatory saw.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Certificate, makeCertificate, page, type Site, siteHost, startSite } from '../_test/sites.js'
import { probeStatus, scanSite } from '../scan/index.js'
import { context, findings, production, project, removeProjects, skipped } from './_test/context.js'
import type { CheckContext } from './index.js'

afterEach(removeProjects)

describe('buckets and live sites', () => {
  let certificate: Certificate
  let https: Site
  let http: Site
  const resolve = { [siteHost]: '127.0.0.1' }

  beforeAll(async () => {
    certificate = makeCertificate()
    https = await startSite(certificate)
    http = await startSite()
  })
  afterAll(async () => {
    await https?.close()
    await http?.close()
  })

  it('private-storage: a bucket that lists its private prefix to anyone fails', async () => {
    const requests: string[] = []
    http.respond((req, res) => {
      requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? 'anonymous'}`)
      res.writeHead(req.url?.startsWith('/open-bucket') ? 200 : 403, { 'content-type': 'application/xml' })
      res.end('<ListBucketResult/>')
    })
    const bucket = (name: string) => ({
      ...production,
      SHIPSHAPE_MEDIA_DRIVER: 's3',
      SHIPSHAPE_MEDIA_S3_ENDPOINT: `http://127.0.0.1:${http.port}`,
      SHIPSHAPE_MEDIA_S3_BUCKET: name,
    })
    expect(await findings('private-storage', context(bucket('closed-bucket')))).toEqual([])
    expect((await findings('private-storage', context(bucket('open-bucket')))).join()).toContain(
      'anyone can list private/ in bucket open-bucket',
    )
    expect(requests[0]).toBe('GET /closed-bucket?list-type=2&prefix=private%2F anonymous')
    const unreachable = { ...bucket('x'), SHIPSHAPE_MEDIA_S3_ENDPOINT: 'http://127.0.0.1:1' }
    expect((await findings('private-storage', context(unreachable))).join()).toContain('could not reach')
  })

  async function live(handler: Parameters<Site['respond']>[0]): Promise<CheckContext> {
    https.respond(handler)
    http.respond((req, res) => {
      res.writeHead(301, { location: `https://${siteHost}:${https.port}${req.url}` }).end()
    })
    const base = `https://${siteHost}:${https.port}/`
    const options = { ca: certificate.cert, httpPort: http.port, resolve }
    return context(production, project(), {
      site: { scan: await scanSite(base, options), statusOf: (path) => probeStatus(base, path, options) },
    })
  }

  const strong = {
    'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
    'strict-transport-security': 'max-age=31536000',
    'x-content-type-options': 'nosniff',
    'set-cookie': '__Host-session=1; Path=/; Secure; HttpOnly; SameSite=Lax',
  }

  it('without --url the live checks are skipped, saying why', async () => {
    for (const id of ['secure-cookies', 'content-type-nosniff', 'admin-protected'])
      expect(await skipped(id, context())).toContain('needs --url')
  })

  it('a live site with strong headers passes the live checks', async () => {
    const site = await live(page(strong))
    for (const id of ['secure-cookies', 'content-type-nosniff', 'framing', 'csp', 'hsts', 'https-redirect'])
      expect(await findings(id, site)).toEqual([])
  })

  it('a live site that lacks them fails each, saying what the Observatory saw', async () => {
    const site = await live(page({ 'set-cookie': 'sessionid=1; Path=/' }))
    expect(await findings('secure-cookies', site)).toEqual([
      'the live site: Session cookie without Secure, or set over HTTP (cookies-session-without-secure-flag)',
    ])
    expect((await findings('content-type-nosniff', site)).join()).toContain(
      'x-content-type-options-not-implemented',
    )
    expect((await findings('framing', site)).join()).toContain('x-frame-options-not-implemented')
    expect((await findings('csp', site)).join()).toContain('csp-not-implemented')
    expect((await findings('hsts', site)).join()).toContain('hsts-not-implemented')
  })

  it('admin-protected: an admin path answering 200 to a stranger fails; 401, 403 and 404 pass', async () => {
    const site = await live((req, res) => {
      if (req.url === '/admin/') return page(strong, 'dashboard')(req, res)
      if (req.url === '/admin') return res.writeHead(401).end()
      if (req.url === '/staff') return res.writeHead(403).end()
      return req.url === '/' ? page(strong)(req, res) : res.writeHead(404).end()
    })
    expect(await findings('admin-protected', site)).toEqual([
      '/admin/ answers 200 to a visitor with no credentials',
    ])
    site.env = { ...production, SHIPSHAPE_ADMIN_PATHS: '/admin,/staff, not-a-path' }
    expect(await findings('admin-protected', site)).toEqual([])
  })
})
