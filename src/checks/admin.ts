/** Checks that admin pages are not open to strangers on the live site. */
import { readVariable } from './_variables.js'
import { type DeployCheck, Skip } from './types.js'

const defaultAdminPaths = ['/admin', '/admin/', '/_shipshape/console', '/console']

export const adminProtected: DeployCheck = {
  id: 'admin-protected',
  subject: 'admin',
  severity: 'warning',
  title: 'Admin pages are not open to the public',
  waitsOn: 'auth (its admin path and protection settings)',
  fix: 'Put admin pages behind authentication or an IP allow-list; list your admin paths in SHIPSHAPE_ADMIN_PATHS so this check probes them.',
  run: async (context) => {
    if (context.site === undefined) return new Skip('needs --url: admin pages are probed on the live site')
    const paths = (readVariable(context, 'SHIPSHAPE_ADMIN_PATHS').value ?? defaultAdminPaths.join(','))
      .split(',')
      .map((path) => path.trim())
      .filter((path) => path.startsWith('/'))
    const open: string[] = []
    for (const path of paths) {
      if ((await context.site.statusOf(path)) === 200) open.push(path)
    }
    return open.map((path) => `${path} answers 200 to a visitor with no credentials`)
  },
}
