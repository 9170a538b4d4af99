/** A declaration using every kind of setting, shared by the config tests. */
import { z } from 'zod'
import {
  bytes,
  defineConfig,
  duration,
  group,
  type LoadOptions,
  type Problem,
  resolveConfig,
  setting,
} from '../index.js'

export const declaration = defineConfig(
  {
    siteName: setting(z.string(), {
      default: 'demo',
      description: 'Shown in page titles.',
      example: 'My shop',
    }),
    debug: setting(z.boolean(), { default: false, description: 'Verbose errors.' }),
    workers: setting(z.int().min(1), { default: 2, description: 'Worker processes.' }),
    ratio: setting(z.number(), { default: 0.5, description: 'A fraction.' }),
    hosts: setting(z.array(z.string()), {
      default: [],
      description: 'Allowed hosts.',
      example: ['a.example'],
    }),
    ports: setting(z.array(z.int()), { default: [8000], description: 'Ports.' }),
    timeout: setting(duration(), { default: '5s', description: 'Request timeout.' }),
    maxUpload: setting(bytes(), { default: '10MB', description: 'Largest upload.' }),
    mode: setting(z.enum(['dev', 'prod']), { default: 'dev', description: 'Run mode.' }),
    homepage: setting(z.url(), { default: 'https://example.com/', description: 'Public URL.' }),
    features: setting(z.record(z.string(), z.boolean()), { default: {}, description: 'Feature switches.' }),
    database: {
      url: setting(z.url(), {
        required: true,
        secret: true,
        description: 'Database URL with its password.',
        example: 'postgres://app:pw@db.internal:5432/app',
      }),
      poolSize: setting(z.int().min(1), { default: 10, description: 'Connections per worker.' }),
    },
    mail: group(
      {
        host: setting(z.string(), { default: 'localhost', description: 'SMTP host.' }),
        password: setting(z.string().min(8), {
          secret: true,
          description: 'SMTP password.',
          example: 'change-me-please',
        }),
      },
      { envPrefix: 'SMTP_', description: 'Outgoing mail.' },
    ),
  },
  { envPrefix: 'APP_' },
)

/** The password inside requiredEnv's database URL: a secret no output may show. */
export const dbPassword = 'hunter2hunter2'
export const requiredEnv = { APP_DATABASE__URL: `postgres://app:${dbPassword}@db:5432/app` }

/** Loads the shared declaration from `dir`, with the required variables set and no secrets directory. */
export function loadIn(dir: string, env: Record<string, string>, options: LoadOptions = {}) {
  return resolveConfig(declaration, {
    cwd: dir,
    env: { ...requiredEnv, ...env },
    secretsDir: false,
    ...options,
  })
}

/** The error `run` throws, with its problems. */
export function thrown(run: () => unknown): Error & { problems: Problem[] } {
  try {
    run()
  } catch (error) {
    return error as Error & { problems: Problem[] }
  }
  throw new Error('expected a throw')
}
