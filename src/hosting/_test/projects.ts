/** Fixture projects for the init and drift tests: temporary directories, removed by removeProjects(). */
import { tempDir } from '../../_test/temp.js'

const made: Array<{ remove(): void }> = []

/** Registers something to remove with the projects (a build directory, a scratch file). */
export const removeLater = (dir: { remove(): void }) => made.push(dir)

export function removeProjects(): void {
  for (const dir of made.splice(0)) dir.remove()
}

/** A node:http listener app, as an ES module. */
export const app = `export default function app(req, res) { res.setHeader('content-type', 'text/plain'); res.end('hello from ' + req.url) }\n`

/** A project directory with this package.json (an ES module package) and files. */
export function project(files: Record<string, string>, pkg: Record<string, unknown> = {}) {
  const dir = tempDir({
    'package.json': JSON.stringify({ name: 'fixture-app', private: true, type: 'module', ...pkg }),
    ...files,
  })
  made.push(dir)
  return dir
}

/** initProject's options but the directory: serve's defaults. */
export const initDefaults = {
  force: false,
  dryRun: false,
  port: 8000,
  gracefulTimeoutS: 30,
  envSample: undefined,
}
