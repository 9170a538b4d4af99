/**
 * The security settings group: hosts, HTTPS, headers, cross-site requests, direct TLS (see
 * docs/security.md), and how they become the security middleware's options. Defaults come from
 * securityDefaults, so `shipshape serve` and an app calling securityMiddleware() agree.
 */
import { existsSync } from 'node:fs'
import { z } from 'zod'
import { duration, group, type Infer, type SettingProblem, setting } from '../config/index.js'
import { isShipshapeError } from '../errors/index.js'
import { hostRules } from './_hosts.js'
import { type SecurityOptions, securityDefaults } from './_middleware.js'
import { headerPolicy } from './_policy.js'

export const securitySettings = group(
  {
    allowedHosts: setting(z.array(z.string().min(1)), {
      default: [...securityDefaults.allowedHosts],
      description:
        'Comma-separated host names the site answers to: example.com, .example.com (with every subdomain), or * (only behind a proxy that checks Host). Any other Host gets a 400, so forged Host headers cannot poison caches or links. The default serves this machine only: add your domain before you deploy.',
      example: ['example.com', '.example.org'],
    }),
    httpsRedirect: setting(z.enum(['auto', 'on', 'off']), {
      default: securityDefaults.httpsRedirect,
      description:
        'Plain-HTTP requests get a 301 to the same URL on https: on, off, or auto (every host except localhost, 127.0.0.1 and ::1, so local development works over HTTP and a real domain is never served in clear). Behind a TLS-terminating proxy, set --trusted-proxies too.',
    }),
    hstsMaxAge: setting(duration({ bareUnit: 's' }), {
      default: '365d',
      description:
        'Strict-Transport-Security max-age, sent on HTTPS responses only: browsers then refuse plain HTTP to this host for that long. 0 sends none.',
    }),
    hstsIncludeSubdomains: setting(z.boolean(), {
      default: securityDefaults.hstsIncludeSubdomains,
      description: 'HSTS covers every subdomain too. Turn off if a subdomain must still serve plain HTTP.',
    }),
    hstsPreload: setting(z.boolean(), {
      default: securityDefaults.hstsPreload,
      description:
        'Adds `preload` to HSTS, consent to hstspreload.org listing the domain in browsers. Hard to undo, so opt-in.',
    }),
    csp: setting(z.enum(['enforce', 'report-only', 'off']), {
      default: securityDefaults.csp,
      description:
        "Content-Security-Policy: enforce, report-only (violations logged, nothing blocked: for trying a policy on a live site) or off. Inline scripts and styles need the request's nonce.",
    }),
    cspDirectives: setting(z.string(), {
      default: securityDefaults.cspDirectives,
      shownDefault: 'none',
      description:
        "CSP directives replacing or adding to the built-in ones, as \"img-src 'self' data:; connect-src 'self' https://api.example\".",
    }),
    cspReportPath: setting(
      z.string().refine((value) => value === 'off' || (value.startsWith('/') && !/\s/.test(value)), {
        error: 'a path starting with / or off',
      }),
      {
        default: securityDefaults.cspReportPath,
        description:
          'Where browsers post CSP violations; each is logged as a warning, rate-limited per client. off sends no reports.',
      },
    ),
    crossOriginResourcePolicy: setting(z.enum(['same-origin', 'same-site', 'cross-origin']), {
      default: securityDefaults.crossOriginResourcePolicy,
      description:
        "Which sites may embed this site's responses: same-origin, same-site (assets on a sibling CDN host) or cross-origin (a public API or CDN).",
    }),
    crossSiteProtection: setting(z.boolean(), {
      default: securityDefaults.crossSiteProtection,
      description:
        'Refuse (403) POST, PUT, PATCH and DELETE requests that carry cookies but come from another site (Sec-Fetch-Site, Origin, or a token for old browsers).',
    }),
    tlsCert: setting(z.string().min(1), {
      shownDefault: 'none (plain HTTP; terminate TLS at a proxy)',
      description:
        'PEM certificate chain to serve HTTPS directly. Read when each worker starts, so `shipshape reload` picks up a renewed certificate.',
      example: '/etc/ssl/example.com/fullchain.pem',
    }),
    tlsKey: setting(z.string().min(1), {
      shownDefault: 'none',
      description: 'PEM private key for --tls-cert.',
      example: '/etc/ssl/example.com/privkey.pem',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_',
    flagPrefix: '',
    description:
      'Security headers, allowed hosts, the HTTPS redirect, cross-site request protection and direct TLS. See [security.md](security.md).',
    checks: [
      {
        uses: ['allowedHosts'],
        problems: ({ allowedHosts }) => refusal('allowedHosts', () => hostRules([...allowedHosts])),
      },
      {
        uses: ['hstsPreload', 'hstsMaxAge', 'hstsIncludeSubdomains'],
        problems: (settings) => {
          const { hstsMaxAgeSeconds, hstsIncludeSubdomains, hstsPreload } = headerOptions(settings)
          const hsts = { hstsMaxAgeSeconds, hstsIncludeSubdomains, hstsPreload }
          return refusal('hstsPreload', () => headerPolicy({ ...securityDefaults, ...hsts }))
        },
      },
      {
        uses: ['cspDirectives', 'csp', 'cspReportPath'],
        problems: (settings) => {
          const { csp, cspDirectives, cspReportPath } = headerOptions(settings)
          const policy = { csp, cspDirectives, cspReportPath }
          return refusal('cspDirectives', () => headerPolicy({ ...securityDefaults, ...policy }))
        },
      },
      {
        uses: ['tlsCert', 'tlsKey'],
        problems: ({ tlsCert, tlsKey }) =>
          (tlsCert === undefined) !== (tlsKey === undefined)
            ? [
                {
                  key: 'tlsCert',
                  expected:
                    'security.tlsCert (--tls-cert) and security.tlsKey (--tls-key) together: both to serve HTTPS directly, or neither',
                },
              ]
            : [],
      },
      {
        uses: ['tlsCert'],
        problems: ({ tlsCert }) => missingFile('tlsCert', tlsCert),
      },
      {
        uses: ['tlsKey'],
        problems: ({ tlsKey }) => missingFile('tlsKey', tlsKey),
      },
    ],
  },
)

export type SecuritySettings = Infer<typeof securitySettings.shape>

/** The certificate and key a worker serves HTTPS with, read when it starts; both or neither. */
interface TlsFiles {
  tlsCertFile: string | undefined
  tlsKeyFile: string | undefined
}

/** What the security settings become: the middleware's options, and the TLS files. */
export type SecurityServeOptions = SecurityOptions & TlsFiles

export function securityOptions(settings: SecuritySettings): SecurityServeOptions {
  return {
    allowedHosts: [...settings.allowedHosts],
    httpsRedirect: settings.httpsRedirect,
    ...headerOptions(settings),
    crossOriginResourcePolicy: settings.crossOriginResourcePolicy,
    crossSiteProtection: settings.crossSiteProtection,
    tlsCertFile: settings.tlsCert,
    tlsKeyFile: settings.tlsKey,
  }
}

/** The header options, with their units and their `off`, as the middleware takes them. */
function headerOptions(settings: {
  hstsMaxAge: number
  hstsIncludeSubdomains: boolean
  hstsPreload: boolean
  csp: SecurityOptions['csp']
  cspDirectives: string
  cspReportPath: string
}): Omit<
  SecurityOptions,
  'allowedHosts' | 'httpsRedirect' | 'crossOriginResourcePolicy' | 'crossSiteProtection'
> {
  return {
    hstsMaxAgeSeconds: Math.floor(settings.hstsMaxAge / 1000),
    hstsIncludeSubdomains: settings.hstsIncludeSubdomains,
    hstsPreload: settings.hstsPreload,
    csp: settings.csp,
    cspDirectives: settings.cspDirectives,
    cspReportPath: settings.cspReportPath === 'off' ? '' : settings.cspReportPath,
  }
}

/** The middleware's own refusal of these options (a bad host entry, a malformed directive) as a problem. */
function refusal(key: string, build: () => unknown): SettingProblem[] {
  try {
    build()
    return []
  } catch (error) {
    if (!isShipshapeError(error) || error.detail === undefined) throw error
    return [{ key, expected: error.detail }]
  }
}

function missingFile(key: string, path: string | undefined): SettingProblem[] {
  return path !== undefined && !existsSync(path)
    ? [{ key, expected: 'the path of an existing PEM file' }]
    : []
}
