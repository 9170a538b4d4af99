/**
 * The primary's side of observability: it sums its workers' metrics (sent with their heartbeats),
 * counts what only it sees (watchdog kills, restarts, reloads), serves /metrics on a listener of
 * its own (--metrics-bind, never the public port), and hands a watchdog kill to a live worker's
 * error tracker, since the killed worker cannot report it and the primary keeps no database.
 */
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server, type ServerResponse } from 'node:http'
import {
  type Logger,
  MetricsAggregator,
  type ProcessSample,
  sampleMachine,
  sampleProcess,
  type WorkerMetrics,
} from '../observe/index.js'
import type { RequestSummary } from '../types.js'
import type { ServeOptions } from './_composed.js'
import type { PrimaryMessage } from './_protocol.js'

const openMetricsType = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
const textType = 'text/plain; version=0.0.4; charset=utf-8'

export class PrimaryMetrics {
  private readonly aggregator = new MetricsAggregator()
  private readonly server: Server | undefined
  /** Further metrics of the primary's own (the monitor's), rendered into each scrape. */
  private readonly sections: ((openMetrics: boolean) => string)[] = []
  /** Kills not yet handed to a worker (none was healthy then): handed over at a later heartbeat. */
  private readonly pending: PrimaryMessage[] = []

  constructor(
    options: ServeOptions,
    private readonly logger: Logger,
    /** A live, healthy worker to hand captures to. */
    private readonly liveWorker: () => ChildProcess | undefined,
  ) {
    const bind = options.observe.metrics
    if (bind === undefined) return
    // The data directory is the embedded database's, where there is one; else the working directory.
    const dirs: Record<string, string> = {
      data: options.database.embedded && !options.database.url ? options.database.dataDir : process.cwd(),
    }
    if (options.media.driver === 'local' && options.media.root) dirs.media = options.media.root
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found: metrics are at /metrics\n')
        return
      }
      const openMetrics = (req.headers.accept ?? '').includes('application/openmetrics-text')
      sampleMachine(dirs)
        .then((machine) => {
          res.writeHead(200, { 'content-type': openMetrics ? openMetricsType : textType })
          if (req.method === 'HEAD') {
            res.end()
            return
          }
          return streamTo(res, this.aggregator.chunks(openMetrics, sampleProcess(), machine, this.sections))
        })
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'metrics could not be rendered')
          // Once the first slice is out the status is sent: cut the response, so the scraper
          // sees a failed scrape, not a short one.
          if (res.headersSent) res.destroy()
          else res.writeHead(500).end()
        })
    })
    this.server.on('error', (error) => logger.error({ err: error, ...bind }, 'the metrics listener failed'))
    this.server.listen(bind.port, bind.host, () => {
      const address = this.server?.address()
      const port = typeof address === 'object' && address ? address.port : bind.port
      logger.info(
        { metricsUrl: `http://${bind.host.includes(':') ? `[${bind.host}]` : bind.host}:${port}/metrics` },
        'serving metrics',
      )
    })
  }

  addSection(render: (openMetrics: boolean) => string): void {
    this.sections.push(render)
  }

  /** Requests answered by every worker so far, and those answered with a 5xx (the error budget's input). */
  requestTotals(): { total: number; errors: number } {
    return this.aggregator.requestTotals()
  }

  /** The live workers' latest samples (resident memory, event-loop lag), for the console's server samples. */
  workerSamples(): ProcessSample[] {
    return this.aggregator.processSamples()
  }

  beat(pid: number, metrics: WorkerMetrics | undefined): void {
    if (metrics) this.aggregator.receive(pid, metrics)
    if (this.pending.length > 0) this.handOver()
  }

  private handOver(): void {
    const child = this.liveWorker()
    if (child === undefined) return
    for (const message of this.pending.splice(0)) {
      child.send(message, (error) => {
        if (error) this.logger.debug({ err: error }, 'the watchdog kill could not be handed to a worker')
      })
    }
  }

  killed(pid: number, reason: string, requests: RequestSummary[], replaced: boolean): void {
    this.aggregator.count('watchdog_kills')
    if (replaced) this.aggregator.count('worker_restarts')
    const message: PrimaryMessage = {
      type: 'capture',
      message: `worker killed by the watchdog: ${reason}`,
      reason,
      extra: { pid, requests },
    }
    // A few at most: a worker killed over and over is one issue, and its kills are counted anyway.
    if (this.pending.length < 10) this.pending.push(message)
    this.handOver()
  }

  /** A worker exited; `crashed` when it is replaced because of it. */
  exited(pid: number, crashed: boolean): void {
    this.aggregator.exited(pid)
    if (crashed) this.aggregator.count('worker_restarts')
  }

  reloaded(): void {
    this.aggregator.count('reloads')
  }

  close(): void {
    this.server?.close()
  }
}

/**
 * Writes each slice as it is rendered, waiting for the socket to drain when its buffer is full;
 * stops rendering when the scraper has gone.
 */
async function streamTo(res: ServerResponse, chunks: AsyncGenerator<string>): Promise<void> {
  for await (const chunk of chunks) {
    if (res.destroyed) return
    // Whichever comes first; the other's listener goes with the response.
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')])
  }
  res.end()
}
