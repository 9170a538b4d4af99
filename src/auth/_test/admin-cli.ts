/** `shipshape admin …` as an operator runs it, the password piped on standard input. */
import { type CliRun, runCli } from '../../_test/cli.js'

export function admin(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliRun> {
  return runCli(['admin', ...args], { env: { ...process.env, ...env }, input })
}
