/**
 * The demo's own settings, declared once with shipshape/config. Everything has a default, so
 * `npm start` needs no setup; each can be set by its DEMO_ variable, a .env file, or a file named
 * by DEMO_CONFIG. `npx shipshape config show --module examples/demo/settings.ts` lists them.
 */
import { fileURLToPath } from 'node:url'
import { defineConfig, loadConfig, setting } from 'shipshape/config'
import { z } from 'zod'

export const declaration = defineConfig(
  {
    siteName: setting(z.string().min(1).max(80), {
      default: 'shipshape demo',
      description: 'Shown in page titles and by /api/status.',
      example: 'Our guestbook',
    }),
    dataDir: setting(z.string().min(1), {
      // From the sources (tests) or compiled into dist/ (npm start): the same examples/demo/.data.
      default: () =>
        fileURLToPath(new URL(import.meta.url.endsWith('.js') ? '../.data' : './.data', import.meta.url)),
      shownDefault: 'examples/demo/.data',
      description: 'Where the guestbook keeps its entries; shared by every worker, so a local directory.',
      example: '/var/lib/demo',
    }),
    frontendErrorsKey: setting(z.string().regex(/^(\w{8,})?$/), {
      default: 'demo_frontend_errors',
      description:
        "The DSN key the pages' @sentry/browser reports front-end errors with, to the app's own envelope endpoint: one of serve's --ingest-keys (npm start passes this one). Empty: the pages report nothing. Not a secret: every page shows it, as a Sentry DSN's public key.",
      example: 'a1b2c3d4e5f6a7b8',
    }),
    guestbookPageSize: setting(z.int().min(1).max(500), {
      default: 20,
      description:
        'Entries shown on the guestbook page, newest last. Each costs a few hundred bytes of HTML.',
    }),
  },
  { envPrefix: 'DEMO_' },
)

/** Loaded once per worker at start-up: a bad value stops the worker before it serves anything. */
export const settings = loadConfig(declaration)
