/**
 * The server-rendered pages of a protected area: sign-in, the MFA step, enrolment, recovery codes.
 * Plain forms that work with JavaScript off; each carries the CSRF field, and the one style
 * element carries the request's CSP nonce, so the strict policy holds.
 */
import { escapeHtml } from '../http/index.js'
import { cspNonce, csrfField } from '../security/index.js'

const style = `body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
label{display:block;margin:.8rem 0}input{display:block;width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1.2rem;font:inherit}.problem{color:#b00020}.note{color:#555}
svg{width:14rem;height:14rem}code,kbd{font-size:.95em;word-break:break-all}ol{columns:2}`

/** The page shell; `body` is HTML already escaped. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style nonce="${cspNonce()}">${style}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`
}

const problem = (text: string | undefined) =>
  text ? `<p class="problem" role="alert">${escapeHtml(text)}</p>` : ''
const nextField = (next: string) => `<input type="hidden" name="next" value="${escapeHtml(next)}">`

export function signInPage(
  action: string,
  next: string,
  options: { error?: string; note?: string; email?: string } = {},
) {
  return page(
    'Sign in',
    `${problem(options.error)}${options.note ? `<p class="note">${escapeHtml(options.note)}</p>` : ''}
<form method="post" action="${escapeHtml(action)}">${csrfField()}${nextField(next)}
<label>Email <input type="email" name="email" autocomplete="username" required value="${escapeHtml(options.email ?? '')}"></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>`,
  )
}

export function mfaPage(action: string, next: string, error?: string) {
  return page(
    'Two-factor authentication',
    `${problem(error)}<form method="post" action="${escapeHtml(action)}">${csrfField()}${nextField(next)}
<label>The 6-digit code from your authenticator app, or one of your recovery codes
<input name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus></label>
<button type="submit">Verify</button>
</form>`,
  )
}

export function enrolPage(
  action: string,
  next: string,
  uri: string,
  svg: string,
  secret: string,
  error?: string,
) {
  return page(
    'Set up two-factor authentication',
    `${problem(error)}<p>Scan this code with an authenticator app (1Password, Google Authenticator, Aegis…),
then type the 6-digit code it shows.</p>
${svg}
<p class="note">Cannot scan? Enter this key by hand: <code>${escapeHtml(secret)}</code><br>
or open <a href="${escapeHtml(uri)}">the otpauth link</a> on this device.</p>
<form method="post" action="${escapeHtml(action)}">${csrfField()}${nextField(next)}
<label>Code from the app <input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
<button type="submit">Confirm</button>
</form>`,
  )
}

export function recoveryPage(codes: string[], next: string) {
  return page(
    'Your recovery codes',
    `<p>Two-factor authentication is on. Keep these codes somewhere safe: each one signs you in
once if you lose your authenticator. <strong>They are shown only now.</strong></p>
<ol>${codes.map((code) => `<li><kbd>${escapeHtml(code)}</kbd></li>`).join('')}</ol>
<p><a href="${escapeHtml(next)}">Continue</a></p>`,
  )
}

export function lockedPage(action: string, next: string, retryAfterSeconds: number) {
  const minutes = Math.ceil(retryAfterSeconds / 60)
  return signInPage(action, next, {
    error: `Too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
  })
}
