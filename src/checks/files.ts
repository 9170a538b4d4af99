/** Checks on the project's files: the npm lockfile, and secrets in files git tracks. */
import { lockfileFindings } from './_lockfile.js'
import { trackedSecretFindings } from './_tracked-secrets.js'
import { secretKeyVariables } from './_variables.js'
import { placeholderSecret } from './secrets.js'
import { type DeployCheck, Skip } from './types.js'

export const lockfile: DeployCheck = {
  id: 'lockfile',
  subject: 'files',
  severity: 'error',
  always: true,
  title: 'The npm lockfile pins every package, fetched over https from the registry',
  fix: 'Commit package-lock.json; delete it and node_modules and run `npm install` against your registry to refresh entries without integrity or from elsewhere.',
  run: ({ cwd, env }) => lockfileFindings(cwd, env),
}

export const trackedSecrets: DeployCheck = {
  id: 'tracked-secrets',
  subject: 'files',
  severity: 'error',
  title: 'No secrets in files git tracks',
  fix: 'Remove the secret from the file, rotate it (it stays in git history), and load it from the environment or a secret file. Mark a deliberate test value with the comment "shipshape: allow-secret".',
  run: ({ cwd }) =>
    // The key variables secret-key judges, so a key written into the code is caught as well as one in the environment.
    trackedSecretFindings(cwd, secretKeyVariables, (value) => placeholderSecret.test(value)) ??
    new Skip('not a git work tree'),
}
