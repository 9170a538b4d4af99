/**
 * The frameworks suite's fixture apps, installed from their own lockfiles and built once: the
 * suite and the frameworks benchmark share them.
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

const fixtures = new URL('./fixtures/', import.meta.url).pathname

/** Sources of a fixture: everything but what installs and builds write. */
const generated = new Set(['node_modules', '.next', 'build', 'dist', '.svelte-kit', '.react-router'])

function sourceHash(dir: string): string {
  const hash = createHash('sha256')
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      if (generated.has(name)) continue
      const path = join(at, name)
      if (statSync(path).isDirectory()) walk(path)
      else hash.update(`${path.slice(dir.length)}\0`).update(readFileSync(path))
    }
  }
  walk(dir)
  return hash.digest('hex')
}

/** Node 24 (the repo's own) first on PATH, for npm and the framework's CLI. */
function toolEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH}`,
    NEXT_TELEMETRY_DISABLED: '1',
    NODE_ENV: 'production',
  }
}

function run(command: string, args: string[], cwd: string): void {
  execFileSync(command, args, { cwd, env: toolEnv(), stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
}

/**
 * The fixture's directory, installed (`npm ci` from its own lockfile, when package.json or the
 * lockfile changed) and built (`npm run build`, when any source changed): each step leaves a
 * marker holding the hash it was made from, in node_modules/.cache, so a later run skips it.
 */
export function fixture(name: string): string {
  const dir = join(fixtures, name)
  const cache = join(dir, 'node_modules', '.cache')
  const installMarker = join(cache, 'shipshape-installed')
  const lock = createHash('sha256')
    .update(readFileSync(join(dir, 'package.json')))
    .update(readFileSync(join(dir, 'package-lock.json')))
    .digest('hex')
  if (!existsSync(installMarker) || readFileSync(installMarker, 'utf8') !== lock) {
    // Dev dependencies are build tools: NODE_ENV=production must not leave them out.
    run('npm', ['ci', '--include=dev', '--no-audit', '--no-fund', '--fetch-retries=5'], dir)
    execFileSync('mkdir', ['-p', cache])
    writeFileSync(installMarker, lock)
  }
  const buildMarker = join(cache, 'shipshape-built')
  const sources = sourceHash(dir)
  if (!existsSync(buildMarker) || readFileSync(buildMarker, 'utf8') !== sources) {
    run('npm', ['run', 'build'], dir)
    writeFileSync(buildMarker, sources)
  }
  return dir
}
