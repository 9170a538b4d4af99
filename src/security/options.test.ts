/** The security settings of `shipshape serve`: defaults that run the demo locally, and bad values stopping start-up. */
import { describe, expect, it } from 'vitest'
import { loadServeOptions } from '../server/index.js'

const resolve = (env: Record<string, string>, flags = {}) => loadServeOptions('app.js', flags, env)

describe('security options', () => {
  it('default to the strict policy, served on this machine only', () => {
    expect(resolve({})).toMatchObject({
      allowedHosts: ['localhost', '127.0.0.1', '::1'],
      httpsRedirect: 'auto',
      hstsMaxAgeSeconds: 31_536_000,
      hstsIncludeSubdomains: true,
      hstsPreload: false,
      csp: 'enforce',
      cspDirectives: '',
      cspReportPath: '/_shipshape/csp-report',
      crossOriginResourcePolicy: 'same-origin',
      crossSiteProtection: true,
      tlsCertFile: undefined,
      tlsKeyFile: undefined,
    })
  })

  it('read the environment and flags', () => {
    const options = resolve(
      {
        SHIPSHAPE_ALLOWED_HOSTS: 'example.com, .example.org',
        SHIPSHAPE_HSTS_MAX_AGE: '730d',
        SHIPSHAPE_CSP: 'report-only',
        SHIPSHAPE_CSP_REPORT_PATH: 'off',
      },
      { httpsRedirect: 'on', hstsPreload: 'yes' },
    )
    expect(options).toMatchObject({
      allowedHosts: ['example.com', '.example.org'],
      hstsMaxAgeSeconds: 730 * 86_400,
      csp: 'report-only',
      cspReportPath: '',
      httpsRedirect: 'on',
      hstsPreload: true,
    })
  })

  it('stop start-up on bad values, naming each', () => {
    let message = ''
    try {
      resolve({
        SHIPSHAPE_HTTPS_REDIRECT: 'sometimes',
        SHIPSHAPE_CSP: 'strict',
        SHIPSHAPE_CROSS_ORIGIN_RESOURCE_POLICY: 'nobody',
        SHIPSHAPE_CSP_REPORT_PATH: 'report',
        SHIPSHAPE_TLS_CERT: '/nonexistent/cert.pem',
      })
    } catch (error) {
      message = (error as Error).message
    }
    for (const named of [
      'SHIPSHAPE_HTTPS_REDIRECT',
      'SHIPSHAPE_CSP:',
      'SHIPSHAPE_CROSS_ORIGIN_RESOURCE_POLICY',
      'SHIPSHAPE_CSP_REPORT_PATH',
      'security.tlsCert from SHIPSHAPE_TLS_CERT: expected security.tlsCert (--tls-cert) and security.tlsKey (--tls-key) together',
      'security.tlsCert from SHIPSHAPE_TLS_CERT: expected the path of an existing PEM file',
    ]) {
      expect(message).toContain(named)
    }
    for (const [env, problem] of [
      [{ SHIPSHAPE_ALLOWED_HOSTS: 'example.com/admin' }, /allowed host "example.com\/admin"/],
      [{ SHIPSHAPE_CSP_DIRECTIVES: "img-src 'self', data:" }, /CSP directive/],
      [{ SHIPSHAPE_HSTS_PRELOAD: 'true', SHIPSHAPE_HSTS_MAX_AGE: '30d' }, /preload needs a max-age/],
    ] as const) {
      expect(() => resolve(env)).toThrow(problem)
    }
  })
})
