/** The app behind the security middleware in its tests: an Express app using shipshape/security's helpers. */
import express from 'express'
import { getContext } from '../../http/index.js'
import {
  absoluteUrl,
  adjustSecurityHeaders,
  cspNonce,
  csrfField,
  csrfToken,
  isAllowedHost,
  readCookie,
  setCookie,
} from '../index.js'

const app = express()
app.get('/', (_req, res) => {
  res.type('html').send(`<!doctype html><script nonce="${cspNonce()}">document.title = 'ok'</script>`)
})
app.get('/nonce', (_req, res) => {
  res.json({ state: getContext()?.state.cspNonce, getter: cspNonce() })
})
// An app with a policy of its own (as SvelteKit's kit csp sends): by setHeader, or in writeHead's headers.
app.get('/own-csp', (_req, res) => {
  res.setHeader('Content-Security-Policy', "script-src 'self' 'nonce-app1'; img-src 'self' data:")
  res.send('own')
})
app.get('/own-csp-head', (_req, res) => {
  res.writeHead(200, { 'content-security-policy': "default-src 'self' 'nonce-app2'; object-src 'self'" })
  res.end('own')
})
app.get('/own-csp-and-nonce', (_req, res) => {
  const nonce = cspNonce()
  res.setHeader('Content-Security-Policy', "script-src 'self' 'sha256-abc='")
  res.send(nonce)
})
// A policy with a nonce of the app's own per request (as SvelteKit's), beside cspNonce()'s.
app.get('/own-nonce', (req, res) => {
  const nonce = cspNonce()
  res.setHeader('Content-Security-Policy', `script-src 'self' 'nonce-${String(req.query.app)}'`)
  res.send(nonce)
})
app.get('/powered', (_req, res) => {
  res.setHeader('X-Powered-By', 'PHP/8.1')
  res.setHeader('Server', 'Apache/2.4.1 (Unix)')
  res.send('ok')
})
app.get('/plain-server', (_req, res) => {
  res.setHeader('Server', 'example')
  res.send('ok')
})
app.get('/powered-object', (_req, res) => {
  res.writeHead(200, { 'x-powered-by': 'Express', server: 'nginx/1.25.3', 'content-type': 'text/plain' })
  res.end('ok')
})
app.get('/powered-array', (_req, res) => {
  res.writeHead(200, ['X-Powered-By', 'Express', 'Server', 'gunicorn/21.2', 'Content-Type', 'text/plain'])
  res.end('ok')
})
app.get('/embeddable', (_req, res) => {
  adjustSecurityHeaders({
    csp: { 'frame-ancestors': ['https://partner.example'], 'img-src': ["'self'", 'data:'] },
    headers: { 'Cross-Origin-Resource-Policy': 'cross-origin' },
  })
  res.send('embeddable')
})
app.get('/embeddable-script', (_req, res) => {
  adjustSecurityHeaders({ csp: { 'frame-ancestors': ["'self'"] } })
  res.type('html').send(`<script nonce="${cspNonce()}"></script>`)
})
app.get('/no-csp', (_req, res) => {
  adjustSecurityHeaders({ csp: false, headers: { 'Permissions-Policy': false } })
  res.send('no csp')
})
app.get('/cookie', (_req, res) => {
  res.cookie('theme', 'dark')
  setCookie('session', 'a b;c')
  setCookie('prefs', 'x', { secure: false, httpOnly: false, sameSite: 'Strict', maxAge: 60 })
  res.send('ok')
})
app.get('/read-cookie', (_req, res) => {
  res.json({ session: readCookie('session') ?? null })
})
app.get('/form', (_req, res) => {
  res.type('html').send(`<form method="post" action="/form">${csrfField()}</form>`)
})
app.get('/token', (_req, res) => {
  res.json({ token: csrfToken(), again: csrfToken() })
})
app.post('/form', express.urlencoded({ extended: false }), (req, res) => {
  res.json({ body: req.body })
})
app.post('/json', express.json(), (req, res) => {
  res.json({ body: req.body })
})
app.put('/thing', (_req, res) => {
  res.send('changed')
})
app.get('/absolute', (req, res) => {
  const other = req.query.other
  res.json({
    url: absoluteUrl('/reset?token=1'),
    ...(typeof other === 'string' ? { otherAllowed: isAllowedHost(other) } : {}),
  })
})

export default app
