/**
 * The demo's admin area, behind shipshape/auth: sign-in with an argon2id password, TOTP (enrolled
 * at the first sign-in), a lockout shared by every worker, and an allow-list. Users are made with
 * `npx shipshape admin create you@example.com`. From this machine only: a deployed demo lists
 * its office or VPN ranges in allowIps instead.
 */
import { type Request, type Response, Router } from 'express'
import { currentUser, protect } from 'shipshape/auth'
import { csrfField } from 'shipshape/security'
import type { Guestbook } from './guestbook.ts'
import { Html, html } from './html.ts'
import { layout } from './layout.ts'

export function adminArea(guestbook: Guestbook): Router {
  const admin = Router()
  admin.use(protect('/admin', { mfa: 'required', allowIps: ['127.0.0.0/8', '::1'] }))
  admin.get('/admin', async (_req: Request, res: Response) => {
    const user = currentUser()
    res.send(
      await layout(
        'Admin',
        html`<p>Signed in as <strong>${user?.email ?? ''}</strong>${user?.mfa ? ' with two-factor authentication' : ''}.</p>
<p>The guestbook holds ${String(await guestbook.count())} entries.</p>
<form method="post" action="/admin/sign-out">${new Html(csrfField())}<button type="submit">Sign out</button></form>`,
      ),
    )
  })
  return admin
}
