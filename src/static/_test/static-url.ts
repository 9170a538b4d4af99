/** staticUrl() as a script calls it: in a fresh Node process with no middleware, from the build. */
import { execFileSync } from 'node:child_process'

const staticIndex = new URL('../../../dist/static/index.js', import.meta.url).pathname

/** staticUrl(name) run in `cwd` with only PATH, NODE_ENV=production and `env` set. */
export function staticUrlIn(cwd: string, name: string, env: Record<string, string> = {}): string {
  const script = `const { staticUrl } = await import(${JSON.stringify(staticIndex)}); process.stdout.write(staticUrl(${JSON.stringify(name)}))`
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    env: { PATH: process.env.PATH, NODE_ENV: 'production', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}
