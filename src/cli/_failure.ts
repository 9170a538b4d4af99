/**
 * How a failed command is reported, and with which exit code. Its own module so that commands
 * which report failures themselves (check, scan) share it without importing the entry point.
 */
import { isShipshapeError, ShipshapeError } from '../errors/index.js'

/**
 * A usage error exits 2 in every command, as does a Node.js that cannot run it, so a script can
 * tell "did not run: called wrongly" from "ran and failed" (1).
 */
export const usageExitCode = 2
const notRun = new Set(['SHIPSHAPE_E_USAGE', 'SHIPSHAPE_E_NODE_VERSION'])

/**
 * node:util's parseArgs errors (an unknown option, a missing value, a stray argument) as the
 * catalogue's usage error, keeping the first sentence that names the argument.
 */
export function asUsageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (!(error instanceof Error) || !code?.startsWith('ERR_PARSE_ARGS_')) return error
  const [first = error.message] = error.message.split('. ')
  return new ShipshapeError('SHIPSHAPE_E_USAGE', first.charAt(0).toLowerCase() + first.slice(1), {
    cause: error,
  })
}

export function exitCodeFor(error: unknown): number {
  return isShipshapeError(error) && notRun.has(error.code) ? usageExitCode : 1
}

/**
 * A failure the user can act on. shipshape's own errors show their message, the cause's message
 * and the fix, never a stack: the stack would point into shipshape, not at what to change. Any
 * other error is a bug (shipshape's or the app's) and keeps its stack.
 */
export function describeFailure(name: string | undefined, error: unknown): string {
  const prefix = name === undefined ? 'shipshape' : `shipshape ${name}`
  if (isShipshapeError(error)) {
    // A fix that points at a command's help points at this command's.
    const fix = name === undefined ? error.fix : error.fix.replaceAll('shipshape <command>', prefix)
    // The cause says why (the import error behind `--module`), unless the message already does.
    const cause = error.cause instanceof Error && !isParseArgsError(error.cause) ? error.cause.message : ''
    const because = cause && !error.message.includes(cause) ? `  because: ${cause}\n` : ''
    return `${prefix}: ${error.message}\n${because}  [${error.code}] ${fix}\n`
  }
  return `${prefix}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
}

function isParseArgsError(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS_') === true
}
