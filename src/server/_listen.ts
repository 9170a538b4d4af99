/**
 * Where the primary listens: a TCP address, or a Unix socket for a proxy on the same machine.
 * The listener pauses each connection it accepts, so no byte is read before a worker has it.
 */
import { chmodSync, lstatSync, rmSync } from 'node:fs'
import { connect, type Server } from 'node:net'
import { ShipshapeError } from '../errors/index.js'
import type { ServeOptions } from './_composed.js'

export function listen(server: Server, { host, port }: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? 'the port is in use' : error.message
      reject(new ShipshapeError('SHIPSHAPE_E_BIND', `${host}:${port}: ${hint}`, { cause: error }))
    })
    server.listen({ host, port, backlog: 2048 }, () => resolve())
  })
}

/** Port 0 asks the system for a free port: the URL names the real one. */
export function tcpUrl(options: ServeOptions, server: Server): string {
  const { port } = server.address() as { port: number }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  return `${options.tlsCertFile ? 'https' : 'http'}://${host}:${port}`
}

/**
 * A Unix socket, for a proxy on the same machine. A socket file left by a server that died is
 * removed; one a live server answers on, or a path that is not a socket, is refused. The socket
 * is made readable and writable by its owner and group only (connecting needs write access): put
 * the proxy's user in the server's group rather than opening it to every local user, who could
 * otherwise reach the app around the proxy. Closing the server removes the file.
 */
export async function listenOnPath(server: Server, path: string): Promise<void> {
  const refuse = (hint: string, cause?: unknown) =>
    new ShipshapeError('SHIPSHAPE_E_BIND', `unix:${path}: ${hint}`, { cause })
  const kind = lstatKind(path)
  if (kind === 'other') throw refuse('the path exists and is not a socket; shipshape will not remove it')
  if (kind === 'socket') {
    const probe = await probeSocket(path)
    if (probe !== 'ECONNREFUSED') throw refuse(`another server is listening on this socket (${probe})`)
    rmSync(path, { force: true })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(refuse(error.message, error)))
    server.listen({ path, backlog: 2048 }, () => resolve())
  })
  chmodSync(path, 0o660)
}

function lstatKind(path: string): 'missing' | 'socket' | 'other' {
  try {
    return lstatSync(path).isSocket() ? 'socket' : 'other'
  } catch {
    return 'missing'
  }
}

/**
 * Connects to the socket: 'ECONNREFUSED' means a stale file nobody listens on. Anything else
 * ('connected', or EAGAIN from a live server whose backlog is full) means the file is in use.
 */
function probeSocket(path: string): Promise<string> {
  return new Promise((resolve) => {
    const probe = connect({ path })
    probe.once('connect', () => {
      probe.destroy()
      resolve('connected')
    })
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
  })
}
