/**
 * Direct TLS: createHttpServer serves HTTPS from cert and key files, fed raw TCP sockets the way a
 * worker is (`server.emit('connection', socket)`), and reads the files again when a new worker
 * starts (which is what a reload does).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createServer as createTcpServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as tlsConnect } from 'node:tls'
import pino from 'pino'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { pipelineDefaults, serverDefaults } from '../_test/pipeline.js'
import { makeCertificate } from '../_test/sites.js'
import { isShipshapeError } from '../errors/index.js'
import { createHttpServer, createPipeline } from '../http/index.js'
import { closeAll, send, start } from './_test/harness.js'

const dir = mkdtempSync(join(tmpdir(), 'shipshape-tls-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(closeAll)

/** Writes a fresh self-signed certificate with common name `cn` and its key. */
function certificate(certFile: string, keyFile: string, cn: string): void {
  const { cert, key } = makeCertificate(cn)
  writeFileSync(certFile, cert)
  writeFileSync(keyFile, key)
}

/** The common name of the certificate the server presents. */
function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { port, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false },
      () => {
        resolve(String(socket.getPeerCertificate().subject.CN))
        socket.end()
      },
    )
    socket.on('error', reject)
  })
}

describe('direct TLS', () => {
  it('serves HTTPS from the files, so the request is https and gets HSTS', async () => {
    const certFile = join(dir, 'a.crt')
    const keyFile = join(dir, 'a.key')
    certificate(certFile, keyFile, 'first')
    const { port } = await start({}, { tls: { certFile, keyFile } })
    const reply = await send(port, { tls: true })
    expect(reply.status).toBe(200)
    expect(reply.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains')
    expect(await presented(port)).toBe('first')
  })

  it('reads the files again when a new worker starts, as a reload does, fed raw TCP sockets', async () => {
    const certFile = join(dir, 'live.crt')
    const keyFile = join(dir, 'live.key')
    certificate(certFile, keyFile, 'before-renewal')
    const pipeline = createPipeline(
      async ({ res }) => {
        res.end('ok')
      },
      { ...pipelineDefaults, accessLog: false },
      pino({ level: 'silent' }),
      [],
    )
    // The primary owns the listening socket and hands raw connections to the current worker's server.
    let worker = createHttpServer(pipeline, { ...serverDefaults, tls: { certFile, keyFile } })
    const primary = createTcpServer({ pauseOnConnect: false }, (socket) => worker.emit('connection', socket))
    await new Promise<void>((ready) => primary.listen(0, '127.0.0.1', ready))
    const { port } = primary.address() as AddressInfo
    try {
      expect(await presented(port)).toBe('before-renewal')
      expect((await send(port, { tls: true })).body).toBe('ok')
      certificate(certFile, keyFile, 'after-renewal')
      expect(await presented(port)).toBe('before-renewal') // a running worker keeps what it read
      worker = createHttpServer(pipeline, { ...serverDefaults, tls: { certFile, keyFile } })
      expect(await presented(port)).toBe('after-renewal')
    } finally {
      await new Promise((done) => primary.close(done))
    }
  })

  it('stops the worker before it serves when a file is missing, not PEM, or the key does not match', () => {
    const certFile = join(dir, 'good.crt')
    const keyFile = join(dir, 'good.key')
    certificate(certFile, keyFile, 'good')
    const otherCert = join(dir, 'other.crt')
    const otherKey = join(dir, 'other.key')
    certificate(otherCert, otherKey, 'other')
    const garbage = join(dir, 'garbage.pem')
    writeFileSync(garbage, 'not a certificate')
    const pipeline = createPipeline(
      async () => {},
      { ...pipelineDefaults, accessLog: false },
      pino({ level: 'silent' }),
      [],
    )
    for (const tls of [
      { certFile: join(dir, 'missing.crt'), keyFile },
      { certFile: garbage, keyFile },
      { certFile, keyFile: garbage },
      { certFile, keyFile: otherKey },
    ]) {
      let thrown: unknown
      try {
        createHttpServer(pipeline, { ...serverDefaults, tls })
      } catch (error) {
        thrown = error
      }
      expect(isShipshapeError(thrown) && thrown.code, JSON.stringify(tls)).toBe('SHIPSHAPE_E_TLS')
    }
  })
})
