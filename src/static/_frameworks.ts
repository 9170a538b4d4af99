/**
 * Where frameworks put their browser files, found from the app `shipshape serve` runs: each
 * becomes a static files mount, served from memory like collectstatic's output. Their
 * content-hashed names (a directory the framework fills only with hashed names) are cached for
 * a year as immutable; every other file for --static-max-age, so a changed favicon reaches
 * browsers soon.
 */
import { existsSync, statSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

export interface BuildOutput {
  /** Which framework wrote it, for the start-up log and docs. */
  readonly framework: 'next' | 'sveltekit' | 'react-router'
  readonly root: string
  readonly prefix: string
  readonly immutable: (name: string) => boolean
}

const always = () => true
const never = () => false

/**
 * - Next.js (the app is a project directory): `.next/static/` at `/_next/static/`, every name
 *   there hashed or under the build's id; `public/` at `/`, none hashed.
 * - SvelteKit with adapter-node (`build/handler.js`): `build/client/` at `/`, hashed under `_app/immutable/`.
 * - React Router (`build/server/index.js`): `build/client/` at `/`, hashed under `assets/` (Vite's).
 */
export function buildOutputs(app: string | undefined): BuildOutput[] {
  if (app === undefined || app === '') return []
  const path = resolve(app)
  if (!existsSync(path)) return []
  if (statSync(path).isDirectory()) {
    if (!existsSync(join(path, '.next', 'BUILD_ID'))) return []
    const outputs: BuildOutput[] = [
      { framework: 'next', root: join(path, '.next', 'static'), prefix: '/_next/static/', immutable: always },
    ]
    if (existsSync(join(path, 'public')))
      outputs.push({ framework: 'next', root: join(path, 'public'), prefix: '/', immutable: never })
    return outputs.filter((output) => existsSync(output.root))
  }
  const here = dirname(path)
  if (basename(path) === 'handler.js' && existsSync(join(here, 'client', '_app'))) {
    return [
      {
        framework: 'sveltekit',
        root: join(here, 'client'),
        prefix: '/',
        immutable: (name) => name.startsWith('_app/immutable/'),
      },
    ]
  }
  const build = dirname(here)
  if (basename(here) === 'server' && existsSync(join(build, 'client', 'assets'))) {
    return [
      {
        framework: 'react-router',
        root: join(build, 'client'),
        prefix: '/',
        immutable: (name) => name.startsWith('assets/'),
      },
    ]
  }
  return []
}
