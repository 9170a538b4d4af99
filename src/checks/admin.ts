/**
 * Checks that admin pages are not open to strangers: on the live site, and in the protected area's
 * settings (auth.protect): MFA, the allow-list, and admin users who never enrolled.
 */
import { needsSettings } from './_shared.js'
import { readVariable } from './_variables.js'
import { type DeployCheck, Skip } from './types.js'

const defaultAdminPaths = ['/admin', '/admin/', '/_shipshape/console', '/console']

export const adminProtected: DeployCheck = {
  id: 'admin-protected',
  subject: 'admin',
  severity: 'warning',
  title: 'Admin pages are not open to the public',
  fix: 'Put admin pages behind protect() or auth.protect (docs/auth.md), or an IP allow-list; list your admin paths in SHIPSHAPE_ADMIN_PATHS so this check probes them.',
  run: async (context) => {
    if (context.site === undefined) return new Skip('needs --url: admin pages are probed on the live site')
    const settings = needsSettings(context)
    const protectedPrefix = settings instanceof Skip ? '' : (settings.auth?.protect ?? '')
    const listed = (readVariable(context, 'SHIPSHAPE_ADMIN_PATHS').value ?? defaultAdminPaths.join(','))
      .split(',')
      .map((path) => path.trim())
    // The area auth.protect names is probed too: it must answer a stranger with its sign-in.
    const paths = [...new Set([...listed, protectedPrefix])].filter((path) => path.startsWith('/'))
    const open: string[] = []
    for (const path of paths) {
      if ((await context.site.statusOf(path)) === 200) open.push(path)
    }
    return open.map((path) => `${path} answers 200 to a visitor with no credentials`)
  },
}

/** The protected area of the settings, or a skip when there is none. */
function protectedArea(context: Parameters<DeployCheck['run']>[0]) {
  const settings = needsSettings(context)
  if (settings instanceof Skip) return settings
  const auth = settings.auth
  if (auth === undefined || auth.protect === '')
    return new Skip('no auth.protect: no area is protected by the settings')
  return { auth, database: settings.database }
}

export const adminMfa: DeployCheck = {
  id: 'admin-mfa',
  subject: 'admin',
  severity: 'error',
  title: 'The protected area needs a second factor',
  fix: 'Set auth.mfa to required (the default) and auth.mfaGrace to 0s: a stolen or guessed password alone must not open the admin area.',
  run: (context) => {
    const area = protectedArea(context)
    if (area instanceof Skip) return area
    const { auth } = area
    const findings: string[] = []
    if (auth.mfa === 'optional')
      findings.push(
        `auth.mfa is optional: ${auth.protect} opens with a password alone for users who never enrolled`,
      )
    if (auth.mfaGraceMs > 0)
      findings.push(
        `auth.mfaGrace is ${Math.round(auth.mfaGraceMs / 60_000)} min: new users enter ${auth.protect} without a second factor until it ends`,
      )
    return findings
  },
}

export const adminAllowList: DeployCheck = {
  id: 'admin-allow-list',
  subject: 'admin',
  severity: 'warning',
  title: 'The protected area is not open to the whole internet',
  fix: 'List the addresses that may reach it in auth.allowIps (your office, your VPN: 10.0.0.0/8, 2001:db8::/32); others get a 404. If a VPN or firewall of your own already keeps it private, set auth.behindVpn to true.',
  run: (context) => {
    const area = protectedArea(context)
    if (area instanceof Skip) return area
    const { auth } = area
    if (auth.allowIps.length > 0 || auth.behindVpn) return []
    return [
      `${auth.protect} shows its sign-in page to every address on the internet (no auth.allowIps, no auth.behindVpn)`,
    ]
  },
}

export const adminUsersMfa: DeployCheck = {
  id: 'admin-users-mfa',
  subject: 'admin',
  severity: 'warning',
  title: 'Every admin user has a second factor enrolled',
  fix: 'Ask each user listed to sign in and set up their authenticator (`shipshape admin list` shows who has not), or remove them.',
  run: async (context) => {
    const area = protectedArea(context)
    if (area instanceof Skip) return area
    const url = area.database?.url ?? ''
    if (url === '')
      return new Skip(
        'needs DATABASE_URL: the users of the embedded database are listed by `shipshape admin list`',
      )
    const [{ default: pg }, { AuthStore }] = await Promise.all([import('pg'), import('../auth/index.js')])
    const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 })
    try {
      const users = await new AuthStore(pool).listUsers()
      return users
        .filter((user) => user.totpSecret === null)
        .map((user) => `${user.email} has no second factor enrolled`)
    } finally {
      await pool.end()
    }
  },
}

export const consoleMfa: DeployCheck = {
  id: 'console-mfa',
  subject: 'admin',
  severity: 'error',
  title: 'The ops console is not reachable without MFA',
  fix: 'Set console.mfa to required (the default); if the console is not wanted at all, set console.enabled to false (docs/console.md).',
  run: async (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const area = settings.console
    if (area === undefined || !area.enabled) return new Skip('console.enabled is false: no console is served')
    const findings: string[] = []
    if (area.mfa === 'optional')
      findings.push(
        `console.mfa is optional: ${area.prefix} opens with a password alone for users who never enrolled`,
      )
    // On the live site, a visitor with no session must get the sign-in (a redirect) or a 404, never a page.
    const status = await context.site?.statusOf(`${area.prefix}/`)
    if (status === 200) findings.push(`${area.prefix}/ answers 200 to a visitor with no credentials`)
    return findings
  },
}
