/** Checks that static files were collected, with the manifest serve reads. */
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'
import { manifestName, readManifest } from '../static/index.js'
import { needsSettings } from './_shared.js'
import { type DeployCheck, Skip } from './types.js'

export const staticManifest: DeployCheck = {
  id: 'static-manifest',
  subject: 'static',
  severity: 'error',
  title: 'Static files are collected, with their manifest',
  fix: 'Run `shipshape collectstatic` in the build (before `shipshape serve`), with the same SHIPSHAPE_STATIC_ROOT.',
  run: (context) => {
    const settings = needsSettings(context)
    if (settings instanceof Skip) return settings
    const { staticRoot } = settings
    if (!existsSync(staticRoot))
      return new Skip(
        `no static root at ${relative(context.cwd, staticRoot) || '.'}: the app serves no static files`,
      )
    // The reader the static middleware uses, so the check passes exactly what serve accepts.
    const manifest = relative(context.cwd, join(staticRoot, manifestName))
    try {
      if (readManifest(staticRoot) === undefined)
        return [`${manifest} is missing: staticUrl() cannot give hashed names, so browsers cache stale files`]
    } catch (error) {
      return [`${manifest} is not a manifest collectstatic wrote (${(error as Error).message})`]
    }
    return []
  },
}
