/**
 * A client for a protected area as a browser without JavaScript uses it: forms posted with
 * cookies, each request on a new connection (so the primary hands it to any worker).
 */
import { request } from 'node:http'
import { generate } from 'otplib'

export interface Page {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export class FormClient {
  readonly cookies = new Map<string, string>()
  readonly base: string
  private readonly extraHeaders: Record<string, string>
  constructor(base: string, extraHeaders: Record<string, string> = {}) {
    this.base = base
    this.extraHeaders = extraHeaders
  }

  get(path: string): Promise<Page> {
    return this.send('GET', path)
  }

  post(path: string, form: Record<string, string>): Promise<Page> {
    return this.send('POST', path, new URLSearchParams(form).toString())
  }

  private send(method: string, path: string, body?: string): Promise<Page> {
    const headers: Record<string, string> = { ...this.extraHeaders }
    if (this.cookies.size > 0)
      headers.cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers['sec-fetch-site'] = 'same-origin' // as every browser since 2020 sends it
    }
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, this.base), { method, headers, agent: false }, (res) => {
        for (const line of res.headers['set-cookie'] ?? []) {
          const [pair = ''] = line.split(';')
          const [name = '', value = ''] = pair.split('=')
          if (/max-age=0/i.test(line)) this.cookies.delete(name)
          else this.cookies.set(name, value)
        }
        let text = ''
        res.setEncoding('utf8').on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      })
      req.on('error', reject)
      req.end(body)
    })
  }
}

/** The TOTP secret shown on an enrolment page. */
export function secretOn(page: Page): string {
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(page.body)?.[1]
  if (secret === undefined) throw new Error(`no secret on the page:\n${page.body}`)
  return secret
}

/** The code an authenticator shows for `secret`, `steps` time steps from now. */
export const codeFor = (secret: string, steps = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 })

export const recoveryCodesOn = (page: Page) =>
  [...page.body.matchAll(/<kbd>([a-z0-9-]+)<\/kbd>/g)].map((m) => m[1] as string)
