/** Real receivers for notifications: an SMTP server (smtp-server) and an HTTP server recording POSTs. */
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

export async function smtpReceiver(): Promise<{ url: string; mails: string[]; close(): Promise<void> }> {
  const mails: string[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, done) {
      let text = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk: string) => {
        text += chunk
      })
      stream.on('end', () => {
        mails.push(text)
        done()
      })
    },
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = (server as unknown as { server: { address(): AddressInfo } }).server.address()
  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    close: () => new Promise((done) => server.close(() => done())),
  }
}

/** Records each POSTed JSON body; `fail` answers 500 to the first N requests. */
export async function httpReceiver(
  fail = 0,
): Promise<{ url: string; bodies: unknown[]; attempts: () => number; close(): Promise<void> }> {
  const bodies: unknown[] = []
  let attempts = 0
  const server = createServer(async (req: IncomingMessage, res) => {
    attempts++
    let text = ''
    for await (const chunk of req) text += chunk
    if (attempts <= fail) {
      res.writeHead(500).end()
      return
    }
    bodies.push(JSON.parse(text))
    res.writeHead(200).end('ok')
  })
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    attempts: () => attempts,
    close: () => new Promise((done) => server.close(() => done())),
  }
}
