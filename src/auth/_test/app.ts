/** A node:http app behind `auth.protect`: it names the signed-in user on every page under /admin. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { currentUser } from 'shipshape/auth'

export default function app(req: IncomingMessage, res: ServerResponse): void {
  const user = currentUser()
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  if (req.url === '/pid') return void res.end(String(process.pid))
  res.end(
    user ? `admin page for ${user.email} (mfa ${user.mfa}) from ${process.pid}` : `public page ${req.url}`,
  )
}
