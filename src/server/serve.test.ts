/**
 * The supervisor, end to end: the built `shipshape serve` runs as a real process with real
 * workers, and every behaviour is observed through sockets, signals, exit codes and its log.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { get as httpsGet } from 'node:https'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { cli, get, type Running, ready, runCli, sleep, startServe } from '../_test/cli.js'
import { makeCertificate } from '../_test/sites.js'
import { fixture } from './_test/fixtures.js'

const run = promisify(execFile)
const app = fixture('app.ts')
let server: Running | undefined

afterEach(async () => {
  await server?.stop()
  server = undefined
})

const pidOf = (body: string) => Number(/pid (\d+)/.exec(body)?.[1])

describe('shipshape serve', () => {
  it('spreads connections over the requested number of workers, and never runs the app in the primary', async () => {
    server = await startServe([app, '--workers', '3'])
    await ready(server, 3)
    const pids = new Set<number>()
    for (let i = 0; i < 12; i++) pids.add(pidOf((await get(`${server.url}/`)).body))
    expect(pids.size).toBe(3)
    expect(pids.has(server.child.pid as number)).toBe(false)
    expect((await get(`${server.url}/readyz`)).status).toBe(200)
    expect(existsSync(server.pidfile)).toBe(true)
  })

  it('answers a hung request with a 503 at the timeout and logs it once', async () => {
    server = await startServe([app, '--workers', '1', '--timeout', '1s'])
    await ready(server, 1)
    const started = performance.now()
    const reply = await get(`${server.url}/hang`)
    const elapsed = performance.now() - started
    expect(reply.status).toBe(503)
    expect(elapsed).toBeGreaterThanOrEqual(950)
    const line = await server.waitForLog((l) => l.msg === 'request timed out', 'timeout line')
    expect(line).toMatchObject({ method: 'GET', path: '/hang', requestId: reply.headers['x-request-id'] })
    expect(line.elapsedMs).toBeGreaterThanOrEqual(1000)
  })

  it('kills a worker whose event loop is blocked past the timeout, names its request, and keeps serving', async () => {
    server = await startServe([app, '--workers', '2', '--watchdog-timeout', '1s'])
    await ready(server, 2)
    const blocked = get(`${server.url}/block?ms=20000`).catch((error: Error) => error)
    await sleep(1200) // the blocked worker has missed several heartbeats: it gets nothing new
    const healthy = await Promise.all(Array.from({ length: 6 }, () => get(`${server?.url}/`)))
    expect(healthy.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200, 200])
    const killed = await server.waitForLog((l) => l.msg.startsWith('worker killed'), 'worker killed', 5000)
    expect(killed.reason).toBe('event loop blocked past the timeout')
    expect(killed.requests).toEqual([expect.objectContaining({ method: 'GET', path: '/block' })])
    expect(await blocked).toBeInstanceOf(Error) // its connection died with the worker
    await ready(server, 3) // the replacement
  })

  it('never leaves a client hanging on a connection handed to a worker that then dies', async () => {
    server = await startServe([app, '--workers', '1', '--watchdog-timeout', '1s'])
    await ready(server, 1)
    const blocked = get(`${server.url}/block?ms=20000`).catch((error: Error) => error)
    await sleep(100)
    // Handed to the blocked worker before the primary notices it is stuck.
    const caught = await Promise.all(
      Array.from({ length: 4 }, () => get(`${server?.url}/`).catch((error: Error) => error)),
    )
    // Every client hears back, never silence: the one whose request blocked the worker gets an
    // error; the others, the one handed over but never read as well as those still queued, are
    // served whole by the replacement.
    expect(await blocked).toBeInstanceOf(Error)
    expect(caught.map((reply) => (reply instanceof Error ? reply.message : reply.status))).toEqual([
      200, 200, 200, 200,
    ])
  })

  it('listens on a Unix socket for its group only, replacing a dead server’s socket file, and removes it on exit', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'serve-unix-')), 'app.sock')
    // What a server killed outright leaves behind: a socket file nothing listens on.
    await run(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`,
    ]).catch(() => {})
    expect(statSync(path).isSocket()).toBe(true)
    server = await startServe([app, '--workers', '1', '--bind', `unix:${path}`])
    await ready(server, 1)
    expect(server.url).toBe(`unix:${path}`)
    expect(statSync(path).mode & 0o777).toBe(0o660)
    expect(await getOverSocket(path)).toMatch(/^pid \d+/)
    const second = await runCli(['serve', app, '--bind', `unix:${path}`, '--pidfile', `${server.pidfile}.2`])
    expect(second).toMatchObject({ status: 1 })
    expect(second.stderr).toContain('another server is listening on this socket (connected)')
    expect(await getOverSocket(path)).toMatch(/^pid \d+/) // the refused server left the socket alone
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
    expect(existsSync(path)).toBe(false)
  })

  it('serves HTTPS itself from --tls-cert and --tls-key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-tls-'))
    const { cert, key } = makeCertificate()
    writeFileSync(join(dir, 'cert.pem'), cert)
    writeFileSync(join(dir, 'key.pem'), key)
    server = await startServe([
      app,
      '--workers',
      '1',
      '--tls-cert',
      join(dir, 'cert.pem'),
      '--tls-key',
      join(dir, 'key.pem'),
    ])
    await ready(server, 1)
    const { url } = server
    expect(url).toMatch(/^https:/)
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      httpsGet(url, { ca: cert }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      }).on('error', reject)
    })
    expect(reply.status).toBe(200)
    expect(reply.body).toMatch(/^pid \d+/)
  })

  it('cuts off a client that trickles its headers (slowloris) with a 408', async () => {
    server = await startServe([app, '--workers', '1', '--headers-timeout', '1s'])
    await ready(server, 1)
    const { port } = new URL(server.url)
    const socket = connect(Number(port), '127.0.0.1')
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n')
    const started = performance.now()
    let answer = ''
    socket.setEncoding('utf8').on('data', (chunk) => {
      answer += chunk
    })
    await new Promise((resolve) => socket.once('close', resolve))
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('reloads with SIGHUP and `shipshape reload` without failing a request under load', async () => {
    server = await startServe([app, '--workers', '2', '--keep-alive', '10s'])
    await ready(server, 2)
    const before = pidOf((await get(`${server.url}/`)).body)
    let stop = false
    let ok = 0
    const failures: string[] = []
    // A well-behaved client: it lets idle connections go before the server's keep-alive does.
    const agent = new Agent({ keepAlive: true, maxSockets: 4, timeout: 2000 })
    const load = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          const reply = await get(`${server?.url}/`, agent)
          if (reply.status === 200) ok++
          else failures.push(`status ${reply.status}`)
        } catch (error) {
          failures.push(String(error))
        }
      }
    })
    await sleep(300)
    server.child.kill('SIGHUP')
    await server.waitForLog((l) => l.msg.startsWith('reload complete'), 'first reload')
    await sleep(1500)
    const { stdout } = await run(process.execPath, [cli, 'reload', '--pidfile', server.pidfile])
    expect(stdout).toMatch(/Asked shipshape \(pid \d+\) to reload/)
    await server.waitForLog(
      () => server?.logs.filter((l) => l.msg.startsWith('reload complete')).length === 2,
      'second reload',
    )
    await server.waitForLog(
      () => server?.logs.filter((l) => l.msg === 'worker exited' && l.generation === 2).length === 2,
      'generation 2 drained',
    )
    stop = true
    await Promise.all(load)
    agent.destroy()
    expect(failures).toEqual([])
    expect(ok).toBeGreaterThan(100)
    const after = pidOf((await get(`${server.url}/`)).body)
    expect(after).not.toBe(before)
    const exits = server.logs.filter((l) => l.msg === 'worker exited')
    expect(exits.map((l) => l.code)).toEqual([0, 0, 0, 0]) // the old workers drained, none were killed
  })

  it('keeps the old workers serving when the new code fails to start on reload, however often', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-reload-'))
    const entry = join(dir, 'app.mjs')
    writeFileSync(entry, "export default (req, res) => res.end('old code\\n')\n")
    server = await startServe([entry, '--workers', '1'])
    await ready(server, 1)
    writeFileSync(entry, "throw new Error('the new code is broken')\n")
    for (let attempt = 1; attempt <= 4; attempt++) {
      server.child.kill('SIGHUP')
      await server.waitForLog(
        () => server?.logs.filter((l) => l.msg.startsWith('reload failed')).length === attempt,
        `failed reload ${attempt}`,
      )
    }
    expect((await get(`${server.url}/`)).body).toBe('old code\n')
    expect(server.child.exitCode).toBeNull()
    writeFileSync(entry, "export default (req, res) => res.end('new code\\n')\n")
    server.child.kill('SIGHUP')
    await server.waitForLog((l) => l.msg.startsWith('reload complete'), 'reload with fixed code')
    expect((await get(`${server.url}/`)).body).toBe('new code\n')
  })

  it('gives up with the app’s own error when workers keep crashing at start-up', async () => {
    server = await startServe([fixture('throws-at-start.ts'), '--workers', '2'])
    expect(await server.exited).toBe(1)
    expect(server.stderr()).toContain('DATABASE_URL is not set (thrown by the app at import)')
    const started = server.logs.filter((l) => l.msg === 'worker started').length
    expect(started).toBeLessThanOrEqual(4) // it stopped instead of spinning
  })

  it('recycles workers after --max-requests without failing a request', async () => {
    server = await startServe([app, '--workers', '1', '--max-requests', '20', '--max-requests-jitter', '5'])
    await ready(server, 1)
    const pids = new Set<number>()
    const statuses = new Set<number>()
    let sent = 0
    // Until a second worker has answered: its start-up takes a while on a loaded machine.
    for (const deadline = Date.now() + 30_000; pids.size < 2 && Date.now() < deadline; sent++) {
      const reply = await get(`${server.url}/`)
      statuses.add(reply.status)
      pids.add(pidOf(reply.body))
      await sleep(15)
    }
    expect(statuses).toEqual(new Set([200]))
    expect(pids.size).toBe(2)
    expect(sent).toBeGreaterThan(20) // not before the first worker reached its limit
    const exits = server.logs.filter((l) => l.msg === 'worker exited')
    expect(exits.every((l) => l.code === 0)).toBe(true)
  })

  it('replaces every worker that reaches its limit at the same moment, and lets each old one go', async () => {
    server = await startServe([app, '--workers', '2', '--max-requests', '10'])
    await ready(server, 2)
    const originals = server.logs.filter((l) => l.msg === 'worker ready').map((l) => l.worker)
    // Round-robin: both workers reach 10 requests together and ask to be replaced at once.
    for (let i = 0; i < 24; i++) expect((await get(`${server.url}/`)).status).toBe(200)
    for (const pid of originals) {
      await server.waitForLog((l) => l.msg === 'worker exited' && l.worker === pid, `worker ${pid} exits`)
    }
    expect(server.logs.filter((l) => l.msg === 'worker exited').map((l) => l.code)).toEqual([0, 0])
  })

  it('keeps --workers workers when one asks to be replaced during a reload', async () => {
    // Workers take a second to start, so the old worker's next heartbeat, which asks for its
    // replacement, comes while the reload runs: the reload's new worker already replaces it.
    server = await startServe([app, '--workers', '1', '--max-requests', '5'], { FIXTURE_BOOT_MS: '1000' })
    await ready(server, 1)
    for (let i = 0; i < 6; i++) expect((await get(`${server.url}/`)).status).toBe(200)
    server.child.kill('SIGHUP')
    await server.waitForLog((l) => l.msg.startsWith('reload complete'), 'reload complete')
    await sleep(1500) // a surplus worker would have started, and the old one exited, by now
    const count = (msg: string) => server?.logs.filter((l) => l.msg === msg).length ?? 0
    expect(count('worker started') - count('worker exited')).toBe(1)
  })

  it('replaces a worker whose memory passes --max-memory, without failing a request', async () => {
    server = await startServe([app, '--workers', '1', '--max-memory', '200MB'])
    await ready(server, 1)
    const first = pidOf((await get(`${server.url}/`)).body)
    expect((await get(`${server.url}/grow?mb=160`)).status).toBe(200) // a leak the worker keeps
    const retired = await server.waitForLog((l) => l.msg.startsWith('worker passed --max-memory'), 'retire')
    expect(retired).toMatchObject({ pid: first, limit: 200_000_000 })
    expect(retired.rss).toBeGreaterThan(200_000_000)
    const statuses = new Set<number>()
    let answeredBy = first
    for (const deadline = Date.now() + 30_000; answeredBy === first && Date.now() < deadline; ) {
      const reply = await get(`${server.url}/`)
      statuses.add(reply.status)
      answeredBy = pidOf(reply.body)
    }
    expect(statuses).toEqual(new Set([200]))
    expect(answeredBy).not.toBe(first)
    await server.waitForLog((l) => l.msg === 'worker exited' && l.worker === first, 'old worker exit')
    expect(server.logs.find((l) => l.msg === 'worker exited' && l.worker === first)?.code).toBe(0)
  })

  it('does not replace, forever, a worker already larger than --max-memory at start-up', async () => {
    server = await startServe([app, '--workers', '1', '--max-memory', '10MB'])
    await ready(server, 1)
    await server.waitForLog((l) => l.msg.startsWith('worker is larger than --max-memory'), 'warning')
    await sleep(1000) // four heartbeats
    expect(server.logs.filter((l) => l.msg.startsWith('worker passed --max-memory'))).toEqual([])
    expect((await get(`${server.url}/`)).status).toBe(200)
  })
})

describe('shipshape serve refuses to start on bad input', () => {
  it('reports every bad option at once, naming the flag or variable, before serving', async () => {
    const failure = await runCli(['serve', app, '--timeout', 'soon', '--workers', '0'], {
      env: { ...process.env, SHIPSHAPE_MAX_BODY_SIZE: '12abc' },
    })
    expect(failure).toMatchObject({ status: 1 })
    const { stderr } = failure
    expect(stderr).toContain('--timeout: expected a duration')
    expect(stderr).toContain('--workers: expected a whole number of 1 or more')
    expect(stderr).toContain('SHIPSHAPE_MAX_BODY_SIZE: expected a size')
    expect(stderr).toContain('SHIPSHAPE_E_BAD_OPTION')
  })

  it('says when the port is taken', async () => {
    server = await startServe([app, '--workers', '1'])
    const port = new URL(server.url).port
    const failure = await runCli([
      'serve',
      app,
      '--bind',
      `127.0.0.1:${port}`,
      '--pidfile',
      `${server.pidfile}.2`,
    ])
    expect(failure).toMatchObject({ status: 1 })
    expect(failure.stderr).toMatch(/SHIPSHAPE_E_BIND[\s\S]*|the port is in use/)
  })

  it('refuses a second server on the same pidfile, and `reload` with no server says so', async () => {
    server = await startServe([app, '--workers', '1'])
    const second = await runCli(['serve', app, '--bind', '127.0.0.1:0', '--pidfile', server.pidfile])
    expect(second.stderr).toContain('SHIPSHAPE_E_ALREADY_RUNNING')
    const reload = await runCli(['reload', '--pidfile', `${server.pidfile}.missing`])
    expect(reload).toMatchObject({ status: 1 })
    expect(reload.stderr).toContain('SHIPSHAPE_E_NOT_RUNNING')
  })

  it('refuses a unix:PATH that exists and is not a socket, and leaves the file alone', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'serve-unix-')), 'notes.txt')
    writeFileSync(path, 'keep me')
    const failure = await runCli(['serve', app, '--bind', `unix:${path}`, '--pidfile', `${path}.pid`])
    expect(failure).toMatchObject({ status: 1 })
    expect(failure.stderr).toContain('the path exists and is not a socket')
    expect(readFileSync(path, 'utf8')).toBe('keep me')
  })

  it('names the file when the app module does not exist, before it listens', async () => {
    const failure = await runCli([
      'serve',
      'no/such/app.js',
      '--bind',
      '127.0.0.1:0',
      '--workers',
      '1',
      '--pidfile',
      join(mkdtempSync(join(tmpdir(), 'missing-app-')), 'serve.pid'),
    ])
    expect(failure).toMatchObject({ status: 1 })
    expect(failure.stderr).toContain('no/such/app.js')
    expect(failure.stderr).toContain('SHIPSHAPE_E_APP_NOT_FOUND')
    expect(failure.stdout).not.toContain('listening')
  })
})

/** One GET / over a Unix socket; resolves with the body. */
function getOverSocket(socketPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ socketPath, path: '/', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve(body))
    })
      .on('error', reject)
      .end()
  })
}
