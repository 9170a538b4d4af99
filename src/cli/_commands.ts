/**
 * Every `shipshape` command, in the order `shipshape --help` lists them. Only the name and the
 * summary live here: a command's module (and what it imports: the server, zod, the scanner) is
 * loaded when that command runs or shows its --help, so `--version` costs no more than Node's
 * own start, and one command's broken dependency cannot take the others down.
 */
import type { CommandEntry } from '../types.js'

export const commands: readonly CommandEntry[] = [
  {
    name: 'init',
    summary:
      'Write the deploy files the project lacks: Dockerfile, Procfile, systemd unit, Kubernetes, fly.toml, Kamal, CI',
    load: () => import('./init.js'),
  },
  {
    name: 'serve',
    summary: 'Run your app in production: supervised workers, timeouts, graceful reloads, health checks',
    load: () => import('./serve.js'),
  },
  {
    name: 'reload',
    summary: 'Reload a running `shipshape serve` with new code and no dropped request',
    load: () => import('./reload.js'),
  },
  {
    name: 'collectstatic',
    summary: 'Collect static files: content-hashed names, rewritten references, brotli and gzip, a manifest',
    load: () => import('./collectstatic.js'),
  },
  {
    name: 'check',
    summary:
      'Check the app is ready to deploy (--deploy): settings, secrets, lockfile, headers; CI can gate on it',
    load: () => import('./check.js'),
  },
  {
    name: 'audit',
    summary:
      "Audit the lockfile (any package manager's): hashes and sources, the registry's advisories, install scripts, fresh versions",
    load: () => import('./audit.js'),
  },
  {
    name: 'scan',
    summary: "Grade a site's security headers as the MDN HTTP Observatory does (A+ to F, with its score)",
    load: () => import('./scan.js'),
  },
  {
    name: 'db',
    summary: 'The database: run migrations once (advisory lock), open a shell, dump and restore',
    load: () => import('./db.js'),
  },
  {
    name: 'admin',
    summary:
      'The users of protected areas: create, reset a password or MFA, unlock, list, sign out everywhere',
    load: () => import('./admin.js'),
  },
  {
    name: 'monitor',
    summary:
      'Probe the app’s checks from another machine and report them to it (an agent); add, list and expire silences',
    load: () => import('./monitor.js'),
  },
  {
    name: 'config',
    summary: 'Show, check, document or sample the settings: every value with its source, secrets masked',
    load: () => import('./config.js'),
  },
]
