/**
 * A lockout notifies through the channels observe's errors use (notify-webhook, notify-email
 * over SMTP), once per lockout and not per failure, and never holds the sign-in's answer: under
 * `shipshape serve` with 2 workers on the real Postgres, to a real HTTP receiver that holds its
 * answer until the test lets it go, and a real SMTP server.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Running, ready, startServe } from '../_test/cli.js'
import { eventually } from '../_test/pipeline.js'
import { createTestDatabase, type TestDatabase } from '../_test/postgres.js'
import { smtpReceiver } from '../observe/_test/receivers.js'
import { FormClient } from './_test/client.js'

const app = new URL('./_test/app.ts', import.meta.url).pathname
let database: TestDatabase
let server: Running
let smtp: Awaited<ReturnType<typeof smtpReceiver>>

/** Records each POSTed JSON body; answers only once let go (a slow, or hung, receiver). */
function heldReceiver() {
  const bodies: Record<string, unknown>[] = []
  const waiting: ServerResponse[] = []
  let holding = true
  const http = createServer(async (req, res) => {
    let text = ''
    for await (const chunk of req) text += chunk
    bodies.push(JSON.parse(text))
    if (holding) waiting.push(res)
    else res.end('ok')
  })
  return {
    bodies,
    answered: () => !holding,
    release() {
      holding = false
      for (const res of waiting.splice(0)) res.end('ok')
    },
    listen: () =>
      new Promise<string>((resolve) =>
        http.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(http.address() as AddressInfo).port}/hook`),
        ),
      ),
    close: () => new Promise((done) => http.close(done)),
  }
}
const webhook = heldReceiver()

beforeAll(async () => {
  database = await createTestDatabase('auth_notify')
  smtp = await smtpReceiver()
  const env = {
    DATABASE_URL: database.url,
    SHIPSHAPE_AUTH_PROTECT: '/admin',
    SHIPSHAPE_NOTIFY_WEBHOOK: await webhook.listen(),
    SHIPSHAPE_SMTP_URL: smtp.url,
    SHIPSHAPE_NOTIFY_EMAIL: 'ops@example.com',
    SHIPSHAPE_NOTIFY_FROM: 'shipshape@example.com',
  }
  server = await startServe([app, '--workers', '2', '--trusted-proxies', 'loopback'], env)
  await ready(server, 2)
})
afterAll(async () => {
  webhook.release()
  server?.child.kill('SIGTERM')
  await server?.exited
  await Promise.all([webhook.close(), smtp?.close()])
  await database?.drop()
})

const attempt = (ip: string, email: string) =>
  new FormClient(server.url, { 'x-forwarded-for': ip }).post('/admin/sign-in', {
    email,
    password: 'hunter2 is not it',
  })

describe('lockout notifications', () => {
  it('send one webhook and one e-mail per lockout, not per failure, without holding the sign-in', async () => {
    const first = []
    for (let i = 0; i < 3; i++) first.push((await attempt('10.7.0.1', 'mallory@example.com')).status)
    // The 3rd failure locked: answered while the webhook still holds the notification's request.
    expect(first).toEqual([401, 401, 429])
    await eventually(() => webhook.bodies.length >= 1, 'the lockout notification')
    expect(webhook.answered()).toBe(false)
    // Failures while locked are refused, not counted: they lock nothing again and notify nothing.
    for (let i = 0; i < 5; i++) expect((await attempt('10.7.0.1', 'mallory@example.com')).status).toBe(429)
    webhook.release()

    // A second lockout, of another address and username: the second notification on each channel.
    for (let i = 0; i < 3; i++) await attempt('10.7.0.2', 'trudy@example.com')
    await eventually(() => webhook.bodies.length >= 2 && smtp.mails.length >= 2, 'the second notifications')
    expect(webhook.bodies).toHaveLength(2)
    expect(smtp.mails).toHaveLength(2)
    const [one] = webhook.bodies as [Record<string, unknown>]
    expect(one.title).toBe('Lockout on /admin: ip 10.7.0.1 and user mallory@example.com locked for 15 min')
    expect(one.fields).toMatchObject({ area: '/admin', step: 'sign-in', 'client address': '10.7.0.1' })
    expect(one.key).toBe('auth-lockout:ip:10.7.0.1,user:mallory@example.com')
    const mail = smtp.mails.find((text) => text.includes('10.7.0.1')) ?? ''
    expect(mail).toMatch(/^Subject: Lockout on \/admin: ip 10\.7\.0\.1 and user mallory@example\.com locked/m)
    expect(JSON.stringify(webhook.bodies) + smtp.mails.join('')).not.toContain('hunter2')
  })
})
