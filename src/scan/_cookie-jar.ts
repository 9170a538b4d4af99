/**
 * The cookies a browser would keep from a chain of responses, as `shipshape scan` needs them to
 * grade cookie flags the way the MDN HTTP Observatory does: with a tough-cookie jar kept across
 * the redirects it follows, as the Observatory's own retriever does. tough-cookie applies RFC 6265
 * (domain matching, default paths, public suffixes) and refuses `__Secure-` and `__Host-` cookies
 * without what their prefix demands; invalid Set-Cookie lines and refused cookies are dropped.
 */
import { CookieJar as ToughJar } from 'tough-cookie'
import type { JarCookie } from './types.js'

const sameSiteValues = new Set(['strict', 'lax', 'none'])

export class CookieJar {
  private readonly jar = new ToughJar(undefined, { prefixSecurity: 'strict' })

  /** Stores the cookies of one response's Set-Cookie lines, received from `url`. */
  store(setCookieLines: readonly string[], url: URL): void {
    for (const line of setCookieLines) {
      try {
        this.jar.setCookieSync(line, url)
      } catch {
        // A cookie the browser would refuse (another site's domain, a broken prefix): not kept.
      }
    }
  }

  all(): JarCookie[] {
    return (this.jar.serializeSync()?.cookies ?? []).map((cookie) => {
      const sameSite = typeof cookie.sameSite === 'string' ? cookie.sameSite.toLowerCase() : undefined
      return {
        name: String(cookie.key ?? ''),
        domain: String(cookie.domain ?? ''),
        path: String(cookie.path ?? '/'),
        secure: cookie.secure === true,
        httpOnly: cookie.httpOnly === true,
        sameSite: sameSite && sameSiteValues.has(sameSite) ? (sameSite as JarCookie['sameSite']) : undefined,
      }
    })
  }
}
