/**
 * The embedded database's wire front: a Postgres wire-protocol server on a Unix socket in front
 * of PGlite's one backend, so workers reach it with the same `pg` pool they use for a real
 * server. (@electric-sql/pglite-socket's multiplexer was read and not used: it queues single
 * messages, so one connection's Parse/Bind/Execute can interleave with another's outside a
 * transaction, and a connection waiting for another's transaction waits forever.)
 *
 * The rule: one connection at a time owns the backend, from its first message until the backend
 * says ReadyForQuery with status I (idle). Inside a transaction (status T, or E after an error)
 * it keeps the backend until the transaction ends, so transactions never interleave. Others wait
 * in arrival order; a wait past `waitMs` fails that connection's statement with
 * SHIPSHAPE_E_DB_BUSY, and a transaction left idle past `idleInTransactionMs` is rolled back and
 * its connection closed, as Postgres's idle_in_transaction_session_timeout does.
 */
import { createServer, type Server, type Socket } from 'node:net'

export interface FrontOptions {
  /** How long a connection waits for the backend while another connection holds it. */
  waitMs: number
  /** A batch of statements running longer ends the PGlite thread (see restart); 0 never. */
  statementTimeoutMs: number
  /** A transaction idle this long is rolled back and its connection closed; 0 never. */
  idleInTransactionMs: number
}

/** What the front needs of the engine: run a batch; restart after a runaway statement. */
export interface Backend {
  run(messages: Uint8Array[]): Promise<Uint8Array>
  /** Ends the running statement the only way PGlite allows (its thread), and opens it again. */
  restart(): Promise<void>
}

const sslRequest = 80877103
const gssRequest = 80877104
const cancelRequest = 80877102
const busyCode = 'SHIPSHAPE_E_DB_BUSY'

class Connection {
  buffer: Buffer = Buffer.alloc(0)
  started = false
  pending: Buffer[] = []
  /** The backend's last ReadyForQuery status for this connection's session. */
  status = 'I'
  /** Extended-protocol messages have run without their Sync yet: the backend is mid-batch. */
  inBatch = false
  /** After a refused wait: frontend messages are dropped up to the next Sync, as after an error. */
  discarding = false
  waitTimer: NodeJS.Timeout | undefined
  idleTimer: NodeJS.Timeout | undefined
  closed = false
  /** The start-up message, while it has not run. */
  startup: Buffer | undefined
  constructor(readonly socket: Socket) {}
}

export class Front {
  private readonly server: Server
  private readonly connections = new Set<Connection>()
  private owner: Connection | undefined
  private readonly waiting: Connection[] = []
  private running = false

  constructor(
    private readonly backend: Backend,
    private readonly options: FrontOptions,
  ) {
    this.server = createServer((socket) => this.attach(socket))
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(path, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  /** Stops accepting and closes every connection (the primary stops the database after the workers). */
  close(): Promise<void> {
    for (const connection of this.connections) connection.socket.destroy()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Every connection's session lived on the backend that just restarted: all of them end. */
  dropAll(): void {
    for (const connection of this.connections) connection.socket.destroy()
  }

  private attach(socket: Socket): void {
    const connection = new Connection(socket)
    this.connections.add(connection)
    socket.on('data', (chunk: Buffer) => this.received(connection, chunk))
    socket.on('error', () => {})
    socket.on('close', () => void this.closed(connection))
  }

  private received(connection: Connection, chunk: Buffer): void {
    connection.buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk])
    for (;;) {
      const { buffer } = connection
      // Before start-up a message is length + code; after it, type byte + length.
      const headerBytes = connection.started ? 5 : 8
      if (buffer.length < headerBytes) break
      const length = connection.started ? 1 + buffer.readInt32BE(1) : buffer.readInt32BE(0)
      if (length < headerBytes - 1 || buffer.length < length) break
      const message = buffer.subarray(0, length)
      connection.buffer = buffer.subarray(length)
      if (!connection.started) {
        const code = message.readInt32BE(4)
        // No TLS on a local socket; no cancel either (the statement timeout bounds a statement).
        if (code === sslRequest || code === gssRequest) connection.socket.write('N')
        else if (code === cancelRequest) connection.socket.destroy()
        else {
          connection.started = true
          connection.startup = message
          connection.pending.push(message)
        }
        continue
      }
      if (connection.discarding) {
        if (message[0] === 0x53 /* S */) {
          connection.discarding = false
          connection.socket.write(readyForQuery('I'))
        }
        continue
      }
      connection.pending.push(message)
    }
    this.schedule(connection)
  }

  private schedule(connection: Connection): void {
    if (connection.pending.length === 0 || connection.closed) return
    clearTimeout(connection.idleTimer)
    if (this.owner === connection) return void this.pump()
    if (this.owner === undefined && this.waiting.length === 0) {
      this.owner = connection
      return void this.pump()
    }
    if (this.waiting.includes(connection)) return
    this.waiting.push(connection)
    connection.waitTimer = setTimeout(() => this.gaveUp(connection), this.options.waitMs)
  }

  private async pump(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      for (let owner = this.owner; owner !== undefined && owner.pending.length > 0; owner = this.owner) {
        const batch = owner.pending.splice(0)
        const terminate = batch.findIndex(
          (message) => message[0] === 0x58 /* X */ && message !== owner?.startup,
        )
        owner.startup = undefined
        if (terminate !== -1) {
          batch.length = terminate
          owner.socket.end()
        }
        if (batch.length === 0) break
        const reply = await this.runBounded(owner, batch)
        if (reply === undefined) break
        if (!owner.closed) owner.socket.write(reply)
        const status = lastStatus(reply)
        owner.inBatch = status === undefined
        if (status !== undefined) owner.status = status
      }
    } finally {
      this.running = false
    }
    this.settle()
  }

  /** Runs a batch within the statement timeout; past it, restarts the backend and ends every connection. */
  private async runBounded(owner: Connection, batch: Uint8Array[]): Promise<Uint8Array | undefined> {
    const limit = this.options.statementTimeoutMs
    if (limit <= 0) return this.backend.run(batch)
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), limit)
    })
    const reply = await Promise.race([this.backend.run(batch).catch(() => undefined), timedOut])
    clearTimeout(timer)
    if (reply !== undefined) return reply
    owner.socket.end(
      errorResponse('57014', `canceling statement due to statement timeout (${limit} ms, embedded database)`),
    )
    this.owner = undefined
    await this.backend.restart()
    this.dropAll()
    return undefined
  }

  /** After a batch: an idle owner lets the next connection in; one inside a transaction keeps the backend. */
  private settle(): void {
    const owner = this.owner
    if (owner !== undefined && !owner.closed && owner.pending.length > 0) return void this.pump()
    if (owner !== undefined && !owner.closed && (owner.status !== 'I' || owner.inBatch)) {
      const limit = this.options.idleInTransactionMs
      if (limit > 0 && owner.status !== 'I') {
        owner.idleTimer = setTimeout(() => this.idleInTransaction(owner, limit), limit)
      }
      return
    }
    this.owner = undefined
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      clearTimeout(next.waitTimer)
      if (next.closed) continue
      this.owner = next
      return void this.pump()
    }
  }

  private idleInTransaction(connection: Connection, limitMs: number): void {
    if (this.owner !== connection || connection.pending.length > 0) return
    connection.socket.end(
      errorResponse(
        '25P03',
        `terminating connection due to idle-in-transaction timeout (${limitMs} ms, embedded database)`,
        'FATAL',
      ),
    )
    void this.closed(connection)
  }

  /** The wait ran out: each statement waiting fails, as the backend fails a statement (error, then ReadyForQuery at its Sync). */
  private gaveUp(connection: Connection): void {
    const index = this.waiting.indexOf(connection)
    if (index === -1) return
    this.waiting.splice(index, 1)
    const message = `${busyCode}: the embedded database was held by another connection's transaction for ${this.options.waitMs} ms`
    const out: Buffer[] = []
    let failed = false
    for (const pending of connection.pending.splice(0)) {
      const type = pending === connection.startup ? 0 : pending[0]
      if (type === 0x51 /* Q */) out.push(errorResponse('55P03', message), readyForQuery('I'))
      else if (type === 0x53 /* S */) {
        if (!failed) out.push(errorResponse('55P03', message))
        out.push(readyForQuery('I'))
        failed = false
      } else if (type === 0x58 /* X */) connection.socket.end()
      else if (type === 0) {
        // The start-up message itself waited: the connection cannot begin.
        out.push(errorResponse('55P03', message, 'FATAL'))
        connection.socket.end(Buffer.concat(out))
        return
      } else if (!failed) {
        out.push(errorResponse('55P03', message))
        failed = true
      }
    }
    connection.discarding = failed
    connection.socket.write(Buffer.concat(out))
  }

  /** A connection went away: a transaction it left open is rolled back before anyone else runs. */
  private async closed(connection: Connection): Promise<void> {
    if (connection.closed) return
    connection.closed = true
    clearTimeout(connection.waitTimer)
    clearTimeout(connection.idleTimer)
    this.connections.delete(connection)
    const index = this.waiting.indexOf(connection)
    if (index !== -1) this.waiting.splice(index, 1)
    if (this.owner !== connection) return
    if (!this.running && (connection.status !== 'I' || connection.inBatch)) {
      this.running = true
      try {
        await this.backend.run([...(connection.inBatch ? [sync] : []), rollback])
      } catch {
        // The backend is gone too: the next run reports it.
      } finally {
        this.running = false
      }
    }
    if (this.owner === connection) {
      connection.pending.length = 0
      connection.status = 'I'
      connection.inBatch = false
      this.settle()
    }
  }
}

/** The status of the last ReadyForQuery in a backend reply, or undefined when it has none. */
function lastStatus(reply: Uint8Array): string | undefined {
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength)
  let status: string | undefined
  for (let at = 0; at + 5 <= view.length; at += 1 + view.readInt32BE(at + 1)) {
    if (view[at] === 0x5a /* Z */) status = String.fromCharCode(view[at + 5] as number)
  }
  return status
}

function readyForQuery(status: string): Buffer {
  return Buffer.from([0x5a, 0, 0, 0, 5, status.charCodeAt(0)])
}

/** A backend ErrorResponse: severity, SQLSTATE and message, the fields every client reads. */
function errorResponse(code: string, message: string, severity = 'ERROR'): Buffer {
  const fields = Buffer.from(`S${severity}\0V${severity}\0C${code}\0M${message}\0\0`)
  const header = Buffer.alloc(5)
  header[0] = 0x45 /* E */
  header.writeInt32BE(4 + fields.length, 1)
  return Buffer.concat([header, fields])
}

function frontendMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5)
  header[0] = type.charCodeAt(0)
  header.writeInt32BE(4 + body.length, 1)
  return Buffer.concat([header, body])
}

const sync = frontendMessage('S', Buffer.alloc(0))
const rollback = frontendMessage('Q', Buffer.from('ROLLBACK\0'))
