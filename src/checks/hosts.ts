/** Checks on the host names the site answers to, and what counts as this machine. */
import { isIP } from 'node:net'
import { isLoopbackName, loopbackHosts } from '../security/index.js'
import { needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

/** The defaults of allowed hosts, as written there or bracketed as a Host header has them. */
const loopbackNames = new Set<string>([...loopbackHosts, '[::1]'])

/** True for this machine: loopback addresses, localhost names, and Unix sockets (no host). */
export function isLocalHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '')
  if (name === '' || name.startsWith('/')) return true
  return isLoopbackName(isIP(name) === 6 ? `[${name}]` : name)
}

export const allowedHosts: DeployCheck = {
  id: 'allowed-hosts',
  subject: 'hosts',
  severity: 'error',
  title: 'Allowed hosts name the site',
  fix: 'Set SHIPSHAPE_ALLOWED_HOSTS to the domains the site answers to (example.com, .example.com for subdomains); never *.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    if (settings.allowedHosts.includes('*'))
      return [
        'SHIPSHAPE_ALLOWED_HOSTS allows any host (*): a forged Host header poisons password-reset links and caches',
      ]
    if (settings.allowedHosts.every((host) => loopbackNames.has(host.toLowerCase())))
      return ['SHIPSHAPE_ALLOWED_HOSTS lists only loopback names: every request to the real domain gets 400']
    return []
  },
}
