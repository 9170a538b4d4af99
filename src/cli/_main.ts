/** `shipshape <command> [args]`: finds the command and runs it; `--help` and `--version` need none. */
import { readFileSync } from 'node:fs'
import { closest } from '../config/index.js'
import { isShipshapeError } from '../errors/index.js'
import { commands } from './_commands.js'

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview())
    return name === undefined ? 1 : 0
  }
  if (name === '--version' || name === '-v') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
    process.stdout.write(`shipshape ${pkg.version}\n`)
    return 0
  }
  const command = commands.find((candidate) => candidate.name === name)
  if (command === undefined) {
    const guess = closest(
      name,
      commands.map((candidate) => candidate.name),
    )
    process.stderr.write(
      `shipshape: unknown command "${name}".${guess ? ` Did you mean "${guess}"?` : ''} Run \`shipshape --help\` for the list.\n`,
    )
    return 2
  }
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${command.help.trimEnd()}\n`)
    return 0
  }
  try {
    return await command.run(args)
  } catch (error) {
    process.stderr.write(describeFailure(name, error))
    return 1
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

/** A failure the user can act on: what went wrong and, for catalogued errors, how to fix it. */
export function describeFailure(name: string, error: unknown): string {
  if (isShipshapeError(error)) {
    // A fix that points at a command's help points at this command's.
    const fix = error.fix.replaceAll('shipshape <command>', `shipshape ${name}`)
    return `shipshape ${name}: ${error.message}\n  [${error.code}] ${fix}\n`
  }
  if (error instanceof Error && (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `shipshape ${name}: ${error.message}\n  Run \`shipshape ${name} --help\` for its options.\n`
  }
  return `shipshape ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
}
