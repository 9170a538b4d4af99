/**
 * `shipshape <command> [args]`: finds the command and runs it; `--help` and `--version` need none.
 * Nothing here imports a command or a capability up front: each costs start-up time and memory
 * on every call (see bench/cli.bench.ts), so they are imported on the path that needs them.
 */
import { readFileSync } from 'node:fs'
import { commands } from './_commands.js'
import { asUsageError, describeFailure, exitCodeFor, usageExitCode } from './_failure.js'

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview())
    return name === undefined ? usageExitCode : 0
  }
  if (name === '--version' || name === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    process.stdout.write(`shipshape ${pkg.version}\n`)
    return 0
  }
  const entry = commands.find((candidate) => candidate.name === name)
  if (entry === undefined) {
    const { closest } = await import('../config/index.js')
    const guess = closest(
      name,
      commands.map((candidate) => candidate.name),
    )
    process.stderr.write(
      `shipshape: unknown command "${name}".${guess ? ` Did you mean "${guess}"?` : ''} Run \`shipshape --help\` for the list.\n`,
    )
    return usageExitCode
  }
  try {
    const { command } = await entry.load()
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`${command.help.trimEnd()}\n`)
      return 0
    }
    return await command.run(args)
  } catch (caught) {
    const error = asUsageError(caught)
    process.stderr.write(describeFailure(name, error))
    return exitCodeFor(error)
  }
}

function overview(): string {
  const width = Math.max(...commands.map((command) => command.name.length))
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`)
  return `Usage: shipshape <command> [options]

Takes a Node.js web app to production: supervised workers, timeouts, reloads, static files,
media, security headers, logs and metrics.

Commands:
${lines.join('\n')}

Run \`shipshape <command> --help\` for a command's arguments and options, each with its default.
`
}
