/**
 * The cookies a browser would keep from a chain of responses, as `shipshape scan` needs them to
 * grade cookie flags the way the MDN HTTP Observatory does (it keeps a tough-cookie jar across the
 * redirects it follows). Invalid Set-Cookie lines and cookies a browser would refuse are dropped.
 */
import { isIP } from 'node:net'

export interface JarCookie {
  name: string
  domain: string
  path: string
  secure: boolean
  httpOnly: boolean
  /** `strict`, `lax` or `none`; undefined when absent or not one of those. */
  sameSite: 'strict' | 'lax' | 'none' | undefined
}

// Control characters other than tab make a cookie invalid.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters refused
const controlCharacters = /[\x00-\x08\x0a-\x1f\x7f]/

export class CookieJar {
  private readonly cookies = new Map<string, JarCookie>()

  /** Stores the cookies of one response's Set-Cookie lines, received from `url`. */
  store(setCookieLines: readonly string[], url: URL): void {
    for (const line of setCookieLines) {
      const cookie = parseSetCookie(line, url)
      if (cookie === undefined) continue
      this.cookies.set(`${cookie.domain};${cookie.path};${cookie.name}`, cookie)
    }
  }

  all(): JarCookie[] {
    return [...this.cookies.values()]
  }
}

/** One Set-Cookie line as a browser reads it from `url`; undefined when it would be refused. */
export function parseSetCookie(line: string, url: URL): JarCookie | undefined {
  const trimmed = line.trim()
  if (controlCharacters.test(trimmed)) return undefined
  const [pair = '', ...attributes] = trimmed.split(';')
  const equals = pair.indexOf('=')
  // A cookie without a name (`=value`) or without `=` is refused.
  if (equals <= 0) return undefined
  const name = pair.slice(0, equals).trim()
  if (name === '') return undefined
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const cookie: JarCookie = {
    name,
    domain: host,
    path: defaultPath(url.pathname),
    secure: false,
    httpOnly: false,
    sameSite: undefined,
  }
  let domainAttribute: string | undefined
  for (const attribute of attributes) {
    const separator = attribute.indexOf('=')
    const key = (separator === -1 ? attribute : attribute.slice(0, separator)).trim().toLowerCase()
    const value = separator === -1 ? '' : attribute.slice(separator + 1).trim()
    if (key === 'secure') cookie.secure = true
    else if (key === 'httponly') cookie.httpOnly = true
    else if (key === 'samesite') {
      const lower = value.toLowerCase()
      cookie.sameSite = lower === 'strict' || lower === 'lax' || lower === 'none' ? lower : undefined
    } else if (key === 'domain' && value !== '') domainAttribute = value.replace(/^\./, '').toLowerCase()
    else if (key === 'path' && value.startsWith('/')) cookie.path = value
  }
  if (domainAttribute !== undefined) {
    if (!domainMatches(host, domainAttribute)) return undefined
    cookie.domain = domainAttribute
  }
  // Cookie prefixes: browsers refuse a __Secure- cookie without Secure, and a __Host- cookie that
  // is not Secure, host-only and for the whole site.
  if (name.startsWith('__Secure-') && !cookie.secure) return undefined
  if (name.startsWith('__Host-') && (!cookie.secure || domainAttribute !== undefined || cookie.path !== '/'))
    return undefined
  return cookie
}

function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true
  return isIP(host) === 0 && host.endsWith(`.${domain}`)
}

/** The directory of the request path, as RFC 6265 defines a cookie's default path. */
function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) return '/'
  const lastSlash = pathname.lastIndexOf('/')
  return lastSlash === 0 ? '/' : pathname.slice(0, lastSlash)
}
