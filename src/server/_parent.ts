/**
 * `shipshape serve` started by a package manager (`npm start` without `exec`, `npx shipshape
 * serve`, pnpm, yarn, bun): those do not all pass SIGTERM on. npx exits on it and leaves the
 * server serving, orphaned, and a platform that stops the container or unit by signalling npm
 * then waits its whole kill timeout and SIGKILLs requests mid-way. The primary so watches its
 * parent: once its parent process id changes (the parent died and the kernel re-parented the
 * primary), it stops as on SIGTERM.
 *
 * Only under a package manager: a server started with `nohup` or `setsid ... &` from a shell
 * that then exits is meant to outlive that shell, and must not stop.
 */
import { readFileSync } from 'node:fs'
import type { Logger } from '../observe/index.js'

/** How often the parent is looked at: one getppid() system call, far below a millisecond. */
const pollMs = 1000

const runners = ['npm', 'npx', 'pnpm', 'pnpx', 'yarn', 'bun', 'bunx'] as const
type Runner = (typeof runners)[number]

/** A package manager's script name, or its command, from /proc (Linux); undefined elsewhere. */
function parentCommand(ppid: number): string | undefined {
  try {
    return readFileSync(`/proc/${ppid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
  } catch {
    return undefined
  }
}

/**
 * The package manager that started this process, if any: from the variables every one of them
 * sets for the scripts it runs (npm_lifecycle_event, npm_command, npm_execpath, npm_config_user_agent),
 * else from the parent's command line.
 */
export function packageRunner(env: NodeJS.ProcessEnv, ppid = process.ppid): Runner | undefined {
  const agent = env.npm_config_user_agent?.split('/')[0]
  if (env.npm_lifecycle_event === 'npx' || env.npm_command === 'exec')
    return agent === 'npm' || agent === undefined ? 'npx' : asRunner(agent)
  if (env.npm_lifecycle_event || env.npm_execpath) return asRunner(agent) ?? 'npm'
  const command = parentCommand(ppid)
  if (command === undefined) return undefined
  for (const word of command.split(' ').slice(0, 2)) {
    const name = /(?:^|\/)(npm|npx|pnpm|pnpx|yarn|bun|bunx)(?:-cli)?(?:\.c?js)?$/.exec(word)?.[1]
    if (name) return name as Runner
  }
  return undefined
}

function asRunner(name: string | undefined): Runner | undefined {
  return runners.find((runner) => runner === name)
}

/** What to write instead, so the platform's signal reaches shipshape itself. */
function directly(runner: Runner): string {
  const bin = 'node node_modules/shipshape/dist/cli/bin.js serve ...'
  if (runner === 'npm' || runner === 'pnpm' || runner === 'yarn' || runner === 'bun')
    return `run \`${bin}\` directly, or begin the script with \`exec\` ("start": "exec shipshape serve ...")`
  return `run \`${bin}\` (or node_modules/.bin/shipshape serve) directly instead of ${runner}`
}

/**
 * Under a package manager: warns in production that the platform's stop signal may not reach
 * the server, and calls `stop` once the parent dies. The poll timer is unref'd: it never keeps
 * the primary alive.
 */
export function watchParent(logger: Logger, stop: (reason: string) => void, env = process.env): void {
  const runner = packageRunner(env)
  if (runner === undefined) return
  if (env.NODE_ENV === 'production') {
    logger.warn(
      { runner },
      `shipshape serve runs under ${runner}, which may not pass SIGTERM on; it stops when ${runner} exits, but to drain on the platform's own signal, ${directly(runner)}`,
    )
  }
  const parent = process.ppid
  const timer = setInterval(() => {
    if (process.ppid === parent) return
    clearInterval(timer)
    logger.warn({ runner, parent }, `its parent process (${runner}) exited: shutting down as on SIGTERM`)
    stop('parent exited')
  }, pollMs)
  timer.unref()
}
