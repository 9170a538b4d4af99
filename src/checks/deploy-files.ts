/**
 * Checks on the deploy files (`shipshape init` writes them; people edit them): the start command
 * reaches the server with the platform's signal, the unit has a user, and each platform's stop
 * timeout leaves the graceful timeout room to drain.
 */
import { deployFileDrift } from '../hosting/index.js'
import type { DeployCheck } from './types.js'

export const deployFiles: DeployCheck = {
  id: 'deploy-files',
  subject: 'hosting',
  severity: 'error',
  title: 'The deploy files start shipshape directly, as a user of its own, with room to drain',
  fix: 'Change the line each finding names; `shipshape init --dry-run --force` shows what init would write now (docs/hosting.md explains each platform).',
  // Unresolved settings: judged against serve's default graceful timeout.
  run: ({ cwd, settings }) => deployFileDrift(cwd, settings?.gracefulTimeoutMs ?? 30_000),
}
