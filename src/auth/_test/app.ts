/** A node:http app behind `auth.protect`: it names the signed-in user on every page under /admin. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { currentUser } from 'shipshape/auth'
import { csrfField } from 'shipshape/security'

export default function app(req: IncomingMessage, res: ServerResponse): void {
  const user = currentUser()
  if (user && req.url === '/admin/account') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8')
    return void res.end(
      `<!doctype html><title>Account</title><p id="who">${user.email}</p>` +
        `<form method="post" action="${user.area}/sign-out">${csrfField()}<button>Sign out</button></form>`,
    )
  }
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.end(
    user ? `admin page for ${user.email} (mfa ${user.mfa}) from ${process.pid}` : `public page ${req.url}`,
  )
}
