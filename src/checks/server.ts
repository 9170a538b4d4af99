/** Checks on how `shipshape serve` runs: its options resolve, timeouts, the worker count. */
import { needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

export const serverOptions: DeployCheck = {
  id: 'server-options',
  subject: 'server',
  severity: 'error',
  always: true,
  title: 'The options `shipshape serve` reads resolve',
  fix: 'Correct each option named; `shipshape serve --help` lists every option, its variable and default.',
  run: (context) => (context.settingsProblem ? [context.settingsProblem] : []),
}

export const requestTimeout: DeployCheck = {
  id: 'request-timeout',
  subject: 'server',
  severity: 'warning',
  title: 'Requests time out, blocked workers are replaced, and reloads wait for requests',
  fix: 'Set SHIPSHAPE_TIMEOUT to what your slowest page needs (about 5s suits most pages, 30s is the default), and SHIPSHAPE_GRACEFUL_TIMEOUT to at least that.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const { timeoutMs, gracefulTimeoutMs, watchdogTimeoutMs } = settings
    const problems: string[] = []
    if (timeoutMs === 0)
      problems.push(
        'SHIPSHAPE_TIMEOUT is 0: a request that never answers holds its worker forever (exempt only the routes that need it with SHIPSHAPE_ROUTE_TIMEOUTS)',
      )
    if (watchdogTimeoutMs === 0)
      problems.push('SHIPSHAPE_WATCHDOG_TIMEOUT is 0: a worker whose event loop is blocked is never replaced')
    else if (timeoutMs > 120_000)
      problems.push(
        `SHIPSHAPE_TIMEOUT is ${timeoutMs / 1000} s: slow clients and stuck requests pile up for that long`,
      )
    if (timeoutMs > 0 && gracefulTimeoutMs < timeoutMs)
      problems.push(
        `SHIPSHAPE_GRACEFUL_TIMEOUT (${gracefulTimeoutMs / 1000} s) is shorter than SHIPSHAPE_TIMEOUT (${timeoutMs / 1000} s): a reload can kill requests that would have finished`,
      )
    return problems
  },
}

export const workerCount: DeployCheck = {
  id: 'worker-count',
  subject: 'server',
  severity: 'warning',
  title: 'Worker count fits the machine',
  fix: 'Leave SHIPSHAPE_WORKERS unset (one per CPU) unless the app waits on I/O so much that more help; measure before going past twice the CPUs.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    if (settings.workers > context.cpus * 2)
      return [
        `SHIPSHAPE_WORKERS is ${settings.workers} on ${context.cpus} CPUs: the workers fight for CPU and each holds a copy of the app in memory`,
      ]
    return []
  },
}
