/** Checks on the security headers: framing, nosniff, Content-Security-Policy. */
import { directivesOf, needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

export const framing: DeployCheck = {
  id: 'framing',
  subject: 'headers',
  severity: 'warning',
  title: 'Other sites cannot frame the pages (clickjacking)',
  fix: "Keep the CSP frame-ancestors 'none' default (with X-Frame-Options: DENY), or name the origins allowed to frame in SHIPSHAPE_CSP_DIRECTIVES.",
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const problems: string[] = []
    const frameAncestors = directivesOf(settings.cspDirectives).get('frame-ancestors')
    if (frameAncestors && [...frameAncestors].some((source) => ['*', 'http:', 'https:'].includes(source)))
      problems.push(
        `SHIPSHAPE_CSP_DIRECTIVES lets any site frame the pages (frame-ancestors ${[...frameAncestors].join(' ')})`,
      )
    const live = context.site?.scan.tests['x-frame-options']
    if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
    return problems
  },
}

export const contentTypeNosniff: DeployCheck = {
  id: 'content-type-nosniff',
  subject: 'headers',
  severity: 'warning',
  title: 'X-Content-Type-Options: nosniff',
  fix: 'shipshape sends nosniff on every response; if the live site lacks it, a proxy or the app removes it.',
  run: (context) => {
    const live = context.site?.scan.tests['x-content-type-options']
    if (live === undefined)
      return new Skip('needs --url: shipshape always sends nosniff, so only a live response can lack it')
    return live.pass ? [] : [`the live site: ${live.description} (${live.result})`]
  },
}

export const csp: DeployCheck = {
  id: 'csp',
  subject: 'headers',
  severity: 'warning',
  title: 'A Content-Security-Policy is enforced, without unsafe sources',
  fix: "Keep SHIPSHAPE_CSP=enforce and give inline scripts the request's nonce (cspNonce()) instead of allowing 'unsafe-inline'.",
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const problems: string[] = []
    if (settings.csp === 'off') problems.push('SHIPSHAPE_CSP is off: no Content-Security-Policy is sent')
    if (settings.csp === 'report-only')
      problems.push('SHIPSHAPE_CSP is report-only: violations are reported, nothing is blocked')
    const directives = directivesOf(settings.cspDirectives)
    for (const directive of ['default-src', 'script-src', 'object-src', 'style-src']) {
      const unsafe = [...(directives.get(directive) ?? [])].filter((source) =>
        ["'unsafe-inline'", "'unsafe-eval'", 'data:', '*', 'http:', 'https:'].includes(source),
      )
      if (unsafe.length > 0)
        problems.push(`SHIPSHAPE_CSP_DIRECTIVES allows ${unsafe.join(' ')} in ${directive}`)
    }
    const live = context.site?.scan.tests['content-security-policy']
    if (live && !live.pass) problems.push(`the live site: ${live.description} (${live.result})`)
    return problems
  },
}
