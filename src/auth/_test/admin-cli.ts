/** `shipshape admin …` as an operator runs it, the password piped on standard input. */
import { spawn } from 'node:child_process'
import { cli } from '../../_test/cli.js'

export function admin(
  args: string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'admin', ...args], {
      env: { ...process.env, SHIPSHAPE_DB_EMBEDDED: 'false', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
    child.stdin.end(input)
  })
}
