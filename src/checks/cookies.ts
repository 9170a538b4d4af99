/** Checks on the cookies the live site sets. */
import { type DeployCheck, Skip } from './types.js'

export const secureCookies: DeployCheck = {
  id: 'secure-cookies',
  subject: 'cookies',
  severity: 'warning',
  title: 'Cookies are Secure, session cookies HttpOnly, with SameSite',
  fix: "Set cookies with shipshape's setCookie() (Secure, HttpOnly, SameSite=Lax and the __Host- prefix by default), or set those flags yourself.",
  run: (context) => {
    const live = context.site?.scan.tests.cookies
    if (live === undefined)
      return new Skip(
        "needs --url: cookies set with shipshape's setCookie() are Secure, but cookies the app sets itself are seen only on the live site",
      )
    return live.result === 'cookies-not-found' || live.scoreModifier >= 0
      ? []
      : [`the live site: ${live.description} (${live.result})`]
  },
}
