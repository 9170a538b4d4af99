import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const observe = new URL('../../dist/observe/index.js', import.meta.url).href

describe('log redaction', () => {
  it('masks the documented keys in every line, at any of the first three levels, and the redact option’s own', async () => {
    const script = `
      const { createLogger } = await import(${JSON.stringify(observe)})
      const log = createLogger({ buffered: false, pretty: false, redact: ['stripeKey'] })
      log.info({ password: 'p1', req: { headers: { authorization: 'Bearer t1', cookie: 'sid=c1', 'set-cookie': 's1' } } }, 'one')
      log.warn({ user: { token: 't2', secret: 's2', name: 'ann' }, config: { smtpUrl: 'smtp://u:p@h', signingKeys: ['k1'] } }, 'two')
      log.error({ stripeKey: 'sk_live_1', apiKey: 'a1' }, 'three')
      const err = Object.assign(new Error('boom'), { password: 'p9' })
      log.child({ token: 'bound-t3' }).error({ err, list: [{ secret: 's4' }] }, 'four')`
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script])
    for (const secret of [
      'p1',
      't1',
      'c1',
      's1',
      't2',
      's2',
      'u:p@h',
      'k1',
      'sk_live_1',
      'a1',
      'p9',
      'bound-t3',
      's4',
    ])
      expect(stdout).not.toContain(secret)
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines[0]).toMatchObject({
      password: '[Redacted]',
      req: { headers: { authorization: '[Redacted]', cookie: '[Redacted]', 'set-cookie': '[Redacted]' } },
    })
    expect(lines[1].user).toEqual({ token: '[Redacted]', secret: '[Redacted]', name: 'ann' })
    expect(lines[2]).toMatchObject({ stripeKey: '[Redacted]', apiKey: '[Redacted]', msg: 'three' })
    // An error keeps what its serializer reads (type, message, stack), a child's bindings are
    // masked like a line's fields, and so are objects in arrays.
    expect(lines[3]).toMatchObject({
      token: '[Redacted]',
      err: { type: 'Error', message: 'boom', password: '[Redacted]' },
      list: [{ secret: '[Redacted]' }],
    })
    expect(lines[3].err.stack).toContain('boom')
  })
})
