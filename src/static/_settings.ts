/**
 * The static files settings group: where `shipshape collectstatic` writes and the server serves,
 * and under which URL; and how the settings become the static files middleware's options.
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { z } from 'zod'
import {
  bytes,
  configError,
  defineConfig,
  duration,
  group,
  type Infer,
  resolveConfig,
  type SettingProblem,
  setting,
} from '../config/index.js'
import { shipshapeSources } from '../types.js'
import { normalisePrefix } from './_manifest.js'

export const staticSettings = group(
  {
    root: setting(z.string().min(1), {
      default: 'staticfiles',
      shownDefault: 'staticfiles (served when that directory exists)',
      description:
        'The directory `shipshape collectstatic` writes and the server serves, relative to the working directory. Indexed once when a worker starts.',
    }),
    url: setting(
      z
        .string()
        .refine(
          (value) => /^https?:\/\/[^/\s]+\/\S*$/.test(value) || (value.startsWith('/') && !/\s/.test(value)),
          {
            error: 'a path such as /static/, or an absolute https:// URL',
          },
        )
        .transform(normalisePrefix),
      {
        default: '/static/',
        description:
          'The URL path static files are served under; staticUrl() builds links with it. An absolute URL (a CDN in front) is used for links, its path for serving.',
      },
    ),
    maxAge: setting(duration({ bareUnit: 's' }), {
      default: '60s',
      description:
        'Browser cache lifetime of static files whose names are not content-hashed (a changed file reaches browsers within it). Hashed names are always cached for a year as immutable.',
    }),
    memory: setting(bytes(), {
      default: '32MiB',
      description:
        'Memory the whole server holds of small static files (64 KiB or less, each encoding counted), split evenly between the workers: each keeps its share of the files first asked for, and reads the rest from disk (the kernel caches them). 0 keeps none in memory.',
    }),
    sources: setting(z.array(z.string().min(1)), {
      default: ['static'],
      flag: false,
      description:
        'The directories `shipshape collectstatic` collects when none is named on its command line, in order (a name found in several comes from the first), relative to the working directory.',
    }),
    allowOrigin: setting(z.string().min(1), {
      shownDefault: 'none (not sent)',
      description:
        'Access-Control-Allow-Origin on static files, for fonts and modules loaded from another origin (a CDN): an origin or *.',
      example: 'https://www.example.com',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_STATIC_',
    flagPrefix: 'static-',
    description: 'Static files: built by `shipshape collectstatic`, served by every worker from memory.',
  },
)

export type StaticSettings = Infer<typeof staticSettings.shape>

/** What the static settings become for `shipshape serve`'s workers. */
export interface StaticServeOptions {
  /** An absolute path; served only when the directory exists (an explicitly set one must exist). */
  staticRoot: string
  staticUrl: string
  staticMaxAgeMs: number
  staticAllowOrigin: string | undefined
  /** Bytes of small files kept in memory by all workers together (each holds its share). */
  staticMemoryBytes: number
}

export function staticOptions(settings: StaticSettings, cwd: string): StaticServeOptions {
  return {
    staticRoot: resolve(cwd, settings.root),
    staticUrl: settings.url,
    staticMaxAgeMs: settings.maxAge,
    staticAllowOrigin: settings.allowOrigin,
    staticMemoryBytes: settings.memory,
  }
}

/**
 * For `serve`: the default static directory is served only when it exists, one chosen on purpose
 * must exist. Not a rule of the group: collectstatic is what creates the directory.
 */
export function missingStaticRoot(root: string, cwd: string): SettingProblem[] {
  return root !== staticSettings.shape.root.options.default && !existsSync(resolve(cwd, root))
    ? [{ key: 'root', expected: 'an existing directory (run `shipshape collectstatic` first)' }]
    : []
}

/**
 * The static settings from the sources `serve` reads (config file, .env, environment, secret
 * files), for staticUrl() in a process that serves no static files (a script, a build step).
 * Only a problem with a static setting or the config file stops it; the file's other sections
 * belong to other groups. (@public: static/_manifest.ts loads it with require() on first use, so
 * that workers never load zod; knip cannot see that call.)
 */
export function loadStaticSettings(cwd = process.cwd(), env = process.env): StaticSettings {
  const resolution = resolveConfig(
    defineConfig({ static: staticSettings }, { envPrefix: shipshapeSources.envPrefix }),
    {
      ...shipshapeSources,
      cwd,
      env,
    },
  )
  const own = resolution.problems.filter(
    (problem) => problem.key.startsWith('static.') || problem.key === '(config file)',
  )
  if (own.length > 0) throw configError(own, 'SHIPSHAPE_E_BAD_OPTION')
  const keys = Object.keys(staticSettings.shape)
  return Object.fromEntries(
    keys.map((key) => [key, resolution.settled.get(`static.${key}`)]),
  ) as StaticSettings
}
