/**
 * `shipshape monitor`: a small agent that runs the same checks from somewhere else (another
 * machine, another region) and reports the results to the app over HTTP with its token. While
 * it cannot reach the app it keeps its results, up to a bound (the oldest go first), and sends
 * them once it can: the app then knows what this vantage point saw during the gap.
 */
import type { Logger } from '../observe/index.js'
import type { Check } from './_checks.js'
import { monitorPrefix } from './_endpoint.js'
import { type ProbeResult, probe } from './_probe.js'

export interface AgentOptions {
  /** The app's base URL: `https://example.com`. */
  app: string
  token: string
  vantage: string
  checks: readonly Check[]
  /** Results kept while the app cannot be reached. Default 10,000 (a few MB at most). */
  bufferLimit?: number
  logger: Logger
}

/** Results per request: a few hundred KB of JSON, under the endpoint's 1 MiB. */
const batchSize = 1000
const sendTimeoutMs = 10_000
/** After a failed send, the next try waits this long, doubled per failure up to maxBackoffMs. */
const firstBackoffMs = 500
const maxBackoffMs = 30_000

export interface Agent {
  /** Results waiting to be sent. */
  pending(): number
  /** Results dropped because the buffer was full. */
  dropped(): number
  stop(): Promise<void>
}

export function startAgent(options: AgentOptions): Agent {
  const { logger, vantage } = options
  const limit = options.bufferLimit ?? 10_000
  const buffer: ProbeResult[] = []
  const timers = new Set<NodeJS.Timeout>()
  const reportUrl = new URL(`${monitorPrefix}report`, options.app).href
  let dropped = 0
  let stopped = false
  let sending: Promise<void> | undefined
  let failures = 0
  let retryAt = 0
  let reachable = true

  const later = (ms: number, task: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      task()
    }, ms)
    timers.add(timer)
  }

  const keep = (result: ProbeResult) => {
    buffer.push(result)
    if (buffer.length > limit) {
      dropped += buffer.length - limit
      buffer.splice(0, buffer.length - limit)
    }
  }

  const send = async () => {
    while (buffer.length > 0 && !stopped) {
      const batch = buffer.slice(0, batchSize)
      const response = await fetch(reportUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
        body: JSON.stringify({ results: batch }),
        signal: AbortSignal.timeout(sendTimeoutMs),
      })
      const text = await response.text()
      if (response.status === 400) {
        // The app will never take these (a check it does not know): keeping them would block the rest.
        logger.error(
          { status: 400, detail: text, results: batch.length },
          'monitor agent: the app refused a batch; dropped',
        )
        buffer.splice(0, batch.length)
        continue
      }
      if (!response.ok) throw new Error(`the app answered ${response.status}: ${text.slice(0, 200)}`)
      buffer.splice(0, batch.length)
    }
  }

  const flush = () => {
    if (sending || stopped || buffer.length === 0 || Date.now() < retryAt) return
    sending = send()
      .then(() => {
        if (!reachable)
          logger.info(
            { app: options.app },
            'monitor agent: the app is reachable again; buffered results sent',
          )
        reachable = true
        failures = 0
      })
      .catch((error: unknown) => {
        failures++
        const wait = Math.min(maxBackoffMs, firstBackoffMs * 2 ** (failures - 1))
        retryAt = Date.now() + wait
        if (reachable)
          logger.warn(
            { app: options.app, err: error, pending: buffer.length },
            'monitor agent: cannot report to the app; keeping results until it can',
          )
        reachable = false
        later(wait, flush)
      })
      .finally(() => {
        sending = undefined
      })
  }

  for (const check of options.checks) {
    const run = () => {
      if (stopped) return
      later(check.intervalMs, run)
      void probe(check, vantage).then((result) => {
        keep(result)
        flush()
      })
    }
    later(Math.random() * Math.min(1000, check.intervalMs), run)
  }
  logger.info({ app: options.app, vantage, checks: options.checks.length }, 'monitor agent started')

  return {
    pending: () => buffer.length,
    dropped: () => dropped,
    async stop() {
      stopped = true
      for (const timer of timers) clearTimeout(timer)
      await sending
    },
  }
}
