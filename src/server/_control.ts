/**
 * How commands reach a running `shipshape serve`: its pidfile names the primary, a signal asks
 * it something, and for a reload, a small file beside the pidfile carries the answer back.
 *
 * The reload file (`<pidfile>.reload`) holds the outcome of the last few reloads the primary was
 * asked for, each under the ordinal of the SIGHUP that asked: `shipshape reload` reads the last
 * ordinal, sends SIGHUP, and waits for the first outcome past it. A file, not a control socket:
 * the signal stays the one way to ask (a plain `kill -HUP` is recorded too), the file lives and
 * dies with the pidfile, and it has no path-length limit or stale socket to clean up.
 * Each write replaces the file whole (write, then rename), so a reader never sees half of one.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { rename, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ShipshapeError } from '../errors/index.js'

export interface ReloadRecord {
  /** The ordinal of the SIGHUP that asked for it, from 1 in each run of the primary. */
  request: number
  outcome: 'running' | 'complete' | 'failed' | 'ignored'
  /** Why it failed or was ignored. */
  reason?: string
}

/** Outcomes kept in the file: enough for reloads asked at nearly the same time. */
const keptRecords = 16
/** A primary handles a signal within milliseconds; one that has not after this never will. */
const acknowledgeWithinMs = 10_000
const pollMs = 100

const reloadFile = (pidfile: string) => `${pidfile}.reload`

/** The primary's side: records each reload it is asked for, and its outcome. */
export class ReloadLog {
  private readonly records: ReloadRecord[] = []
  private written: Promise<void> = Promise.resolve()
  private asked = 0

  constructor(private readonly path: string) {
    // At start-up, before serving: outcomes of an earlier run are gone. Owner-only, since a failed
    // reload's reason holds the app's error and stack; `shipshape reload` runs as the server's
    // user anyway, to be allowed to signal it.
    rmSync(path, { force: true })
    writeFileSync(path, '[]\n', { mode: 0o600 })
  }

  /** A SIGHUP arrived: returns its ordinal, for the outcome. */
  open(): number {
    this.records.push({ request: ++this.asked, outcome: 'running' })
    this.records.splice(0, this.records.length - keptRecords)
    this.save()
    return this.asked
  }

  settle(request: number, outcome: Exclude<ReloadRecord['outcome'], 'running'>, reason?: string): void {
    const record = this.records.find((candidate) => candidate.request === request)
    if (record === undefined) return
    record.outcome = outcome
    if (reason !== undefined) record.reason = reason
    this.save()
  }

  remove(): void {
    rmSync(this.path, { force: true })
  }

  /** Asynchronous (the primary never blocks on the disk), one write at a time, in order. */
  private save(): void {
    const text = `${JSON.stringify(this.records)}\n`
    const temporary = `${this.path}.${process.pid}.tmp`
    this.written = this.written
      .then(() => writeFile(temporary, text, { mode: 0o600 }))
      .then(() => rename(temporary, this.path))
      .catch(() => {}) // a full disk must not take the server down; the reload itself goes on
  }
}

export function reloadLogFor(pidfile: string): ReloadLog {
  return new ReloadLog(reloadFile(pidfile))
}

/**
 * `shipshape reload`'s side: sends SIGHUP and waits for that reload's outcome. Resolves with the
 * primary's pid once the new workers serve; throws SHIPSHAPE_E_RELOAD_FAILED with the reason when
 * the reload failed or was refused, and SHIPSHAPE_E_NOT_RUNNING when the server is gone.
 */
export async function reloadAndWait(pidfile: string, onAsked: (pid: number) => void): Promise<number> {
  const path = resolve(pidfile)
  const before = lastRequest(readRecords(reloadFile(path)))
  const pid = signalPrimary(path, 'SIGHUP')
  onAsked(pid)
  const askedAt = performance.now()
  for (;;) {
    await new Promise((done) => setTimeout(done, pollMs))
    const mine = readRecords(reloadFile(path)).find((record) => record.request > before)
    if (mine?.outcome === 'complete') return pid
    if (mine?.outcome === 'failed' || mine?.outcome === 'ignored') {
      throw new ShipshapeError('SHIPSHAPE_E_RELOAD_FAILED', mine.reason)
    }
    if (!isAlive(pid)) {
      throw new ShipshapeError('SHIPSHAPE_E_NOT_RUNNING', `pid ${pid} stopped before the reload finished`)
    }
    if (mine === undefined && performance.now() - askedAt > acknowledgeWithinMs) {
      throw new ShipshapeError(
        'SHIPSHAPE_E_RELOAD_FAILED',
        `pid ${pid} did not acknowledge the reload within ${acknowledgeWithinMs / 1000} s (no outcome in ${reloadFile(path)})`,
      )
    }
  }
}

function readRecords(path: string): ReloadRecord[] {
  try {
    const records: unknown = JSON.parse(readFileSync(path, 'utf8'))
    return Array.isArray(records) ? (records as ReloadRecord[]) : []
  } catch {
    return [] // not written yet, or the server is gone: the caller checks the pid
  }
}

const lastRequest = (records: ReloadRecord[]) => records.reduce((last, r) => Math.max(last, r.request), 0)

/** Writes our pid for `shipshape reload`, refusing to overwrite the pidfile of a live server. */
export function claimPidfile(pidfile: string): void {
  const running = readPid(pidfile)
  if (running !== undefined && running !== process.pid && isAlive(running)) {
    throw new ShipshapeError('SHIPSHAPE_E_ALREADY_RUNNING', `pid ${running} (pidfile ${pidfile})`)
  }
  mkdirSync(dirname(pidfile), { recursive: true })
  writeFileSync(pidfile, `${process.pid}\n`)
}

function readPid(pidfile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidfile, 'utf8'), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Sends `signal` to the primary named in `pidfile`; returns its pid. */
function signalPrimary(pidfile: string, signal: NodeJS.Signals): number {
  const path = resolve(pidfile)
  const pid = readPid(path)
  if (pid === undefined || !isAlive(pid)) {
    throw new ShipshapeError(
      'SHIPSHAPE_E_NOT_RUNNING',
      pid === undefined ? `no pidfile at ${path}` : `pid ${pid} from ${path} is not running`,
    )
  }
  process.kill(pid, signal)
  return pid
}
