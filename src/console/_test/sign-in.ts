/** Signs a FormClient in to the console: password, then TOTP enrolment at the first sign-in. */
import { codeFor, FormClient, secretOn } from '../../auth/_test/client.js'

export const password = 'correct horse battery staple'

/** A client signed in as `email` with MFA, and the TOTP secret it enrolled. */
export async function signedIn(base: string, email: string, prefix = '/_shipshape'): Promise<FormClient> {
  const client = new FormClient(base)
  const signIn = await client.post(`${prefix}/sign-in`, { email, password, next: `${prefix}/` })
  if (signIn.status !== 303) throw new Error(`sign-in answered ${signIn.status}: ${signIn.body}`)
  const enrol = await client.get(signIn.headers.location as string)
  const confirmed = await client.post(`${prefix}/enrol`, {
    code: await codeFor(secretOn(enrol)),
    next: `${prefix}/`,
  })
  if (confirmed.status !== 200) throw new Error(`enrolment answered ${confirmed.status}`)
  return client
}
