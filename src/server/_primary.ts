/**
 * The primary process's supervisor: hands each connection the listener accepts to a healthy
 * worker, and supervises the workers (watchdog, crash backoff, reload, recycling, shutdown). It
 * never imports the app, so nothing the app does can take the socket down.
 */
import type { Server, Socket } from 'node:net'
import { startSampler } from '../console/index.js'
import { ShipshapeError } from '../errors/index.js'
import type { Logger } from '../observe/index.js'
import type { ServeOptions } from './_composed.js'
import type { ReloadLog } from './_control.js'
import { answerCounters, CounterTable } from './_counters.js'
import { forkWorker, type Worker } from './_fork.js'
import { reclaimConnections } from './_handoff.js'
import { PrimaryMetrics } from './_metrics-primary.js'
import { startPrimaryMonitor } from './_monitor-primary.js'
import { watchParent } from './_parent.js'
import { heartbeatMs, type PrimaryMessage, type WorkerMessage } from './_protocol.js'
import { forward } from './_relay.js'
import { startPrimaryRollup } from './_rollup-primary.js'

/** A worker silent for this long gets no new connections (it may be busy; the watchdog decides if it is stuck). */
const staleAfterMs = 4 * heartbeatMs
/** Consecutive workers that die before becoming ready, after which the primary gives up. */
const crashLoopLimit = 3
/** Restart delay after a crash: doubles per consecutive crash, from 100 ms up to 10 s. */
const backoffMs = (crashes: number) => Math.min(10_000, 100 * 2 ** Math.max(0, crashes - 1))
/** Connections waiting while no worker is healthy (start-up, every worker blocked); beyond this they are refused. */
const maxWaiting = 1024
/**
 * A stop signal that comes sooner than this after the stop began is the same stop, delivered
 * twice: Ctrl-C and systemd signal the whole process group, and npm, in that group, relays the
 * signal to its child as well. Only a later one means "stop now".
 */
const forceAfterMs = 1000

export class Supervisor {
  private readonly workers = new Set<Worker>()
  private readonly waiting: Socket[] = []
  private generation = 1
  private nextPick = 0
  private crashes = 0
  private bootFailures = 0
  private lastError: string | undefined
  private reloading = false
  /** The ordinal of the SIGHUP whose reload is running, for its outcome. */
  private reloadRequest = 0
  private stopping = false
  private stoppingSince = 0
  private forced = false
  private exitCode = 0
  private finish: (code: number) => void = () => {}
  private readonly watchdog: NodeJS.Timeout
  private readonly metrics: PrimaryMetrics
  /** The counters every worker shares (the auth limiter's): see _counters.ts. */
  private readonly counters = new CounterTable()
  private readonly monitor: ReturnType<typeof startPrimaryMonitor>
  /** The console's per-minute sample of this instance (docs/console.md). */
  private readonly sampler: ReturnType<typeof startSampler>
  private readonly rollup: ReturnType<typeof startPrimaryRollup>

  constructor(
    private readonly options: ServeOptions,
    private readonly logger: Logger,
    private readonly listener: Server,
    private readonly reloads: ReloadLog,
  ) {
    listener.on('connection', (socket: Socket) => this.dispatch(socket))
    this.metrics = new PrimaryMetrics(options, logger, () => this.pick()?.child)
    this.watchdog = setInterval(() => this.inspect(), heartbeatMs)
    this.monitor = startPrimaryMonitor(options, logger, this.metrics, listener)
    this.sampler = startSampler(options, logger, () => this.metrics.workerSamples())
    this.rollup = startPrimaryRollup(options, logger)
  }

  run(): Promise<number> {
    this.topUp()
    process.on('SIGHUP', () => this.reload())
    process.on('SIGTERM', () => this.signalled('SIGTERM'))
    process.on('SIGINT', () => this.signalled('SIGINT'))
    watchParent(this.logger, (reason) => this.stop(reason)) // npm, npx: they may not pass SIGTERM on
    return new Promise((resolve) => {
      this.finish = resolve
    })
  }

  private spawn(): Worker {
    const worker = forkWorker(this.generation)
    const { child } = worker
    this.workers.add(worker)
    child.on('message', (message: WorkerMessage) => this.receive(worker, message))
    child.on('exit', (code, signal) => this.exited(worker, code, signal))
    // A failed send (the worker just died) is handled by its exit; the error must not crash us.
    child.on('error', () => {})
    this.logger.info({ worker: worker.pid, generation: worker.generation }, 'worker started')
    return worker
  }

  private receive(worker: Worker, message: WorkerMessage): void {
    worker.lastBeat = performance.now()
    switch (message.type) {
      case 'hello': {
        const options: PrimaryMessage = { type: 'options', options: this.options }
        worker.child.send(options)
        break
      }
      case 'ready':
        if (this.stopping) {
          this.drain(worker)
          return
        }
        worker.state = 'ready'
        this.crashes = 0
        this.bootFailures = 0
        this.logger.info(
          {
            worker: worker.pid,
            generation: worker.generation,
            ms: Math.round(worker.lastBeat - worker.startedAt),
          },
          'worker ready',
        )
        this.flushWaiting()
        this.maybeFinishReload()
        break
      case 'beat':
        worker.inflight = message.inflight
        this.metrics.beat(worker.pid, message.metrics)
        if (this.waiting.length > 0) this.flushWaiting()
        break
      case 'retire':
        if (worker.retiring || this.stopping) return
        worker.retiring = true
        this.topUp()
        break
      case 'failing':
        // It finishes what it holds within its grace and exits 1; it is replaced now, as a crash.
        if (worker.endedBy !== undefined || this.stopping) return
        worker.endedBy = 'failing'
        worker.state = 'draining'
        worker.drainStartedAt = performance.now()
        this.respawnAfterCrash()
        break
      case 'failed':
        if (message.error !== this.lastError) {
          this.logger.error({ worker: worker.pid, error: message.error }, 'worker failed to start')
        }
        this.lastError = message.error
        break
      case 'relay':
        forward(this.workers, worker.child, message)
        break
      case 'counters':
        answerCounters(this.counters, worker.child, message)
        break
    }
  }

  /** Round-robin over workers whose heartbeat is fresh; a blocked worker gets nothing new. */
  private pick(): Worker | undefined {
    const now = performance.now()
    const healthy = [...this.workers].filter(
      (worker) => worker.state === 'ready' && now - worker.lastBeat < staleAfterMs,
    )
    if (healthy.length === 0) return undefined
    this.nextPick = (this.nextPick + 1) % healthy.length
    return healthy[this.nextPick]
  }

  private dispatch(socket: Socket): void {
    const worker = this.pick()
    if (worker === undefined) {
      if (this.waiting.length >= maxWaiting) return void socket.destroy()
      this.waiting.push(socket)
      socket.once('close', () => this.waiting.splice(this.waiting.indexOf(socket) >>> 0, 1))
      return
    }
    const message: PrimaryMessage = { type: 'connection' }
    worker.child.send(message, socket, {}, (error) => {
      // The worker died between pick and send: the socket is still ours, try another.
      if (error && !socket.destroyed) this.dispatch(socket)
    })
  }

  private flushWaiting(): void {
    while (this.waiting.length > 0 && this.pick() !== undefined) {
      const socket = this.waiting.shift() as Socket
      socket.removeAllListeners('close')
      this.dispatch(socket)
    }
  }

  /** Runs every heartbeat: kills stuck workers, and workers that overstay a drain or a slow start. */
  private inspect(): void {
    const now = performance.now()
    const { watchdogTimeoutMs: timeoutMs, gracefulTimeoutMs } = this.options
    for (const worker of this.workers) {
      if (worker.endedBy === 'watchdog') continue
      const silentMs = now - worker.lastBeat
      if (worker.state === 'draining' && now - (worker.drainStartedAt as number) > gracefulTimeoutMs) {
        this.kill(worker, 'graceful timeout reached before its requests finished', Math.round(silentMs))
      } else if (worker.state === 'starting' && now - worker.startedAt > Math.max(timeoutMs, 30_000)) {
        this.kill(worker, 'did not become ready in time', Math.round(now - worker.startedAt))
      } else if (worker.state !== 'starting' && timeoutMs > 0 && silentMs > timeoutMs) {
        this.kill(worker, 'event loop blocked past the timeout', Math.round(silentMs))
      }
    }
  }

  private kill(worker: Worker, reason: string, ms: number): void {
    const replace = worker.state !== 'draining'
    if (this.stopping) this.exitCode = 1 // requests were cut off: not a clean shutdown
    worker.endedBy = 'watchdog'
    worker.state = 'draining' // no new connections while it dies
    this.logger.error(
      { worker: worker.pid, reason, ms, requests: worker.inflight },
      // `requests` is the list from its last heartbeat, `ms` before: a request admitted within
      // 20 ms of a busy worker's previous heartbeat (see admitBeatMs) can be missing from it.
      `worker killed: ${reason}; it held ${worker.inflight.length} request(s) at its last heartbeat`,
    )
    worker.child.kill('SIGKILL')
    this.metrics.killed(worker.pid, reason, worker.inflight, replace && !this.stopping)
    if (replace && !this.stopping) this.topUp()
  }

  private exited(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(worker)
    // A restart: it died, or it failed (an uncaught error) and was replaced when it said so.
    const replaced = worker.endedBy === undefined || worker.endedBy === 'failing'
    this.metrics.exited(worker.pid, replaced && !this.stopping)
    for (const socket of reclaimConnections(worker.child, worker.endedBy === 'watchdog')) {
      if (this.stopping) socket.destroy()
      else this.dispatch(socket)
    }
    const wasReady = worker.state !== 'starting'
    const expected = worker.endedBy !== undefined || this.stopping
    const level = expected && (code === 0 || worker.endedBy === 'watchdog') ? 'info' : 'error'
    this.logger[level]({ worker: worker.pid, code, signal, generation: worker.generation }, 'worker exited')
    if (this.stopping) {
      if (code !== null && code !== 0) this.exitCode = 1 // it cut requests off, or failed
      if (this.workers.size === 0) this.stopped()
      return
    }
    if (expected) return
    // A crash. A new worker failing during a reload only abandons the reload: the old workers
    // still serve. Otherwise, workers that die before becoming ready point at the app's
    // start-up code, and after a few the primary gives up.
    if (this.reloading && worker.generation === this.generation && !wasReady) this.abortReload()
    else if (!wasReady && ++this.bootFailures >= crashLoopLimit) this.giveUp()
    else this.respawnAfterCrash()
  }

  private respawnAfterCrash(): void {
    this.crashes++
    const delay = backoffMs(this.crashes)
    this.logger.warn({ delayMs: delay }, 'replacing the worker after a crash')
    setTimeout(() => {
      if (!this.stopping) this.topUp()
    }, delay).unref()
  }

  /**
   * Starts workers until --workers of the current generation are starting or serving for good
   * (not retiring, draining or dying): at start, on reload, and for every replacement, so a worker
   * that retires during a reload, or crashes once its replacement is on the way, is not replaced
   * twice.
   */
  private topUp(): void {
    let staying = 0
    for (const worker of this.workers) {
      if (worker.generation === this.generation && !worker.retiring && worker.endedBy === undefined) staying++
    }
    for (; staying < this.options.workers; staying++) this.spawn()
  }

  private drain(worker: Worker): void {
    if (worker.endedBy !== undefined) return
    worker.endedBy = 'drain'
    worker.state = 'draining'
    worker.drainStartedAt = performance.now()
    const message: PrimaryMessage = { type: 'drain', keepIdle: !this.stopping }
    if (worker.child.connected) worker.child.send(message)
    else worker.child.kill('SIGTERM')
  }

  /** New workers first; the old ones drain only once every new one has said it is ready. */
  private reload(): void {
    const request = this.reloads.open()
    if (this.stopping) return void this.reloads.settle(request, 'ignored', 'the server is shutting down')
    if (this.reloading) {
      this.logger.warn('reload already in progress; ignoring SIGHUP')
      return void this.reloads.settle(
        request,
        'ignored',
        'another reload was in progress; run `shipshape reload` again once it has finished',
      )
    }
    this.reloading = true
    this.reloadRequest = request
    this.generation++
    this.metrics.reloaded()
    this.logger.info({ generation: this.generation, workers: this.options.workers }, 'reload started')
    this.topUp()
  }

  /** Called as each worker becomes ready: it may complete a reload or replace a retiring worker. */
  private maybeFinishReload(): void {
    if (this.reloading) {
      const current = [...this.workers].filter((worker) => worker.generation === this.generation)
      if (current.some((worker) => worker.state !== 'ready')) return
      for (const worker of this.workers) if (worker.generation < this.generation) this.drain(worker)
      this.reloading = false
      this.reloads.settle(this.reloadRequest, 'complete')
      this.logger.info({ generation: this.generation }, 'reload complete: old workers are draining')
    }
    // Replacements for --max-requests or --max-memory: once the full count of workers serves
    // without them, every retiring worker can go (several may have asked at once).
    const serving = [...this.workers].filter((worker) => worker.state === 'ready' && !worker.retiring)
    if (serving.length < this.options.workers) return
    for (const worker of this.workers) if (worker.retiring && worker.state === 'ready') this.drain(worker)
  }

  private abortReload(): void {
    this.reloading = false
    for (const worker of this.workers) {
      if (worker.generation === this.generation) {
        worker.endedBy = 'drain'
        worker.state = 'draining' // a new worker already ready must get no connection while it dies
        worker.child.kill('SIGKILL')
      }
    }
    this.generation--
    this.logger.error(
      { error: this.lastError },
      'reload failed: a new worker could not start; the old workers keep serving',
    )
    this.reloads.settle(
      this.reloadRequest,
      'failed',
      `a new worker could not start; the old workers keep serving. The app's error:\n${this.lastError ?? '(none reported)'}`,
    )
    this.topUp() // for an old worker that retired or died while the reload ran
  }

  private giveUp(): void {
    this.logger.fatal(
      { error: this.lastError, attempts: this.bootFailures },
      new ShipshapeError('SHIPSHAPE_E_CRASH_LOOP', 'the last error is shown in "error"').message,
    )
    process.stderr.write(
      `\nshipshape: workers keep crashing at start-up. The app's error:\n\n${this.lastError ?? '(none reported)'}\n`,
    )
    this.stop('crash loop', 1)
  }

  /** The first stop signal drains; one more, at least forceAfterMs after the stop began, forces it. */
  private signalled(signal: NodeJS.Signals): void {
    if (!this.stopping) return void this.stop(signal)
    const sinceMs = Math.round(performance.now() - this.stoppingSince)
    if (sinceMs >= forceAfterMs) return void this.forceStop()
    this.logger.info(
      { signal, sinceMs },
      `${signal} again within ${forceAfterMs} ms: the same stop, relayed (npm, a process group); still draining`,
    )
  }

  /** Stop accepting, let in-flight requests finish within the graceful timeout, exit. */
  private stop(reason: string, code = 0): void {
    if (this.stopping) return
    this.stopping = true
    this.stoppingSince = performance.now()
    this.exitCode = code
    this.logger.info({ reason, workers: this.workers.size }, 'shutting down: finishing in-flight requests')
    this.listener.close()
    for (const socket of this.waiting.splice(0)) socket.destroy()
    for (const worker of this.workers) {
      if (worker.state === 'starting') worker.child.kill('SIGKILL')
      else this.drain(worker)
    }
    if (this.workers.size === 0) this.stopped()
  }

  private forceStop(): void {
    this.logger.warn('second signal: stopping now')
    this.forced = true
    for (const worker of this.workers) worker.child.kill('SIGKILL')
  }

  private stopped(): void {
    clearInterval(this.watchdog)
    this.counters.close()
    this.metrics.close()
    void this.monitor?.then((monitor) => monitor?.stop())
    void this.sampler?.stop()
    void this.rollup?.then((rollup) => rollup?.stop())
    this.logger.info({ forced: this.forced }, 'stopped')
    this.finish(this.forced ? 1 : this.exitCode)
  }
}
