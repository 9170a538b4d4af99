/** Checks that the site is reached over HTTPS only: the redirect, and HSTS. */
import { needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

const sixMonthsSeconds = 15_552_000

export const httpsRedirect: DeployCheck = {
  id: 'https-redirect',
  subject: 'https',
  severity: 'warning',
  title: 'Plain HTTP is redirected to HTTPS',
  fix: 'Set SHIPSHAPE_HTTPS_REDIRECT to auto (the default) or on; behind a proxy, list it in SHIPSHAPE_TRUSTED_PROXIES so its X-Forwarded-Proto is believed (unix for a proxy on the socket of SHIPSHAPE_BIND=unix:PATH).',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const problems: string[] = []
    if (settings.httpsRedirect === 'off') problems.push('SHIPSHAPE_HTTPS_REDIRECT is off')
    // Only a proxy can be on the other end of the socket, and it cannot be believed unless listed.
    if (settings.socketPath && !settings.trustedProxies.includes('unix'))
      problems.push(
        'SHIPSHAPE_BIND is a Unix socket but SHIPSHAPE_TRUSTED_PROXIES does not list unix: the proxy’s X-Forwarded-Proto is not believed, so HTTPS requests look like plain HTTP and are redirected to themselves',
      )
    const live = context.site?.scan.tests.redirection
    if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
    return problems
  },
}

export const hsts: DeployCheck = {
  id: 'hsts',
  subject: 'https',
  severity: 'warning',
  title: 'Strict-Transport-Security for at least six months',
  fix: 'Leave SHIPSHAPE_HSTS_MAX_AGE at its default (365d). Roll out with a short max-age first only if some subdomain still needs plain HTTP.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const problems: string[] = []
    if (settings.hstsMaxAgeSeconds === 0) problems.push('SHIPSHAPE_HSTS_MAX_AGE is 0: no HSTS is sent')
    else if (settings.hstsMaxAgeSeconds < sixMonthsSeconds)
      problems.push(`SHIPSHAPE_HSTS_MAX_AGE is ${settings.hstsMaxAgeSeconds} s, under six months`)
    const live = context.site?.scan.tests['strict-transport-security']
    if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
    return problems
  },
}

export const hstsSubdomains: DeployCheck = {
  id: 'hsts-subdomains',
  subject: 'https',
  severity: 'info',
  title: 'HSTS covers subdomains',
  fix: 'Set SHIPSHAPE_HSTS_INCLUDE_SUBDOMAINS=true (the default) once every subdomain serves HTTPS.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    return settings.hstsMaxAgeSeconds > 0 && !settings.hstsIncludeSubdomains
      ? [
          'SHIPSHAPE_HSTS_INCLUDE_SUBDOMAINS is false: a subdomain can be reached over plain HTTP and set cookies for the site',
        ]
      : []
  },
}

export const hstsPreload: DeployCheck = {
  id: 'hsts-preload',
  subject: 'https',
  severity: 'info',
  title: 'HSTS preload',
  fix: 'When the whole domain is HTTPS-only for good, set SHIPSHAPE_HSTS_PRELOAD=true and submit it at hstspreload.org: browsers then never try plain HTTP, not even the first time.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    return settings.hstsMaxAgeSeconds > 0 && !settings.hstsPreload ? ['SHIPSHAPE_HSTS_PRELOAD is false'] : []
  },
}
