/**
 * The media settings group: where uploads live and how they are reached (see docs/storage.md),
 * and how the settings become the StorageSettings each worker's storages are built from: one
 * public and one private storage.
 */
import { resolve } from 'node:path'
import { z } from 'zod'
import { group, type Infer, setting } from '../config/index.js'
import { type StorageSettings, storageProblems } from './_registry.js'

export const mediaSettings = group(
  {
    root: setting(z.string().min(1), {
      default: 'media',
      description:
        'Local media: the directory holding one directory per storage (media/public, media/private), relative to the working directory. Created on the first upload.',
    }),
    url: setting(z.string(), {
      default: '/media/',
      description:
        'The URL path local storages are served under, as <media-url><storage>/<key>. Private files need a signed link.',
    }),
    signingKeys: setting(z.array(z.string()), {
      default: [],
      shownDefault: 'none: a random key is generated once into <media-root>/.signing-key',
      secret: true,
      description:
        'Comma-separated keys (32+ characters each) signing links to local private files; the first signs, all verify, so put a new key first to rotate. Set it in production: the generated key is per machine. Prefer the environment to the flag, which other users can see in ps.',
    }),
    driver: setting(z.enum(['local', 's3']), {
      default: 'local',
      description:
        'Where the public and private storages keep files: local (the media root, served by shipshape) or s3 (an S3-compatible bucket; credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the AWS SDK chain).',
    }),
    s3Bucket: setting(z.string().min(1), {
      shownDefault: 'none (required with --media-driver s3)',
      description: 'The bucket; storages keep their files under <storage>/ in it.',
      example: 'uploads',
    }),
    s3Region: setting(z.string().min(1), {
      default: 'us-east-1',
      description: "The bucket's region (most S3-compatible servers accept us-east-1).",
    }),
    s3Endpoint: setting(z.url(), {
      shownDefault: "AWS's endpoint for the region",
      description:
        'An S3-compatible server (R2, MinIO, …), reached path-style. Presigned links are signed for this host, so a custom domain here works only if it passes requests to S3 unchanged.',
      example: 'https://s3.eu-central-003.backblazeb2.com',
    }),
    origin: setting(
      z.url().refine((value) => new URL(value).href === `${new URL(value).origin}/`, {
        error: 'an origin: https://host or http://host:port, no path',
      }),
      {
        shownDefault: "none: the site's own origin",
        description:
          "Local media: the separate origin media is served from (a host name of its own pointing at this server). Links then point there, and files a browser would run or apply (JavaScript, CSS, HTML, SVG, XML, JSON, wasm, …) keep their real type on requests for that host. Without it, or on any other host, they are served as application/octet-stream, so an upload never runs as the site's own script or style.",
        example: 'https://media.example-usercontent.com',
      },
    ),
    publicUrl: setting(z.url(), {
      shownDefault: "none: the bucket's own URL",
      description:
        'S3 only: the base URL of a CDN or custom domain in front of the bucket, for public files. Never used for private files, which always get presigned S3 links.',
      example: 'https://cdn.example.com',
    }),
  },
  {
    envPrefix: 'SHIPSHAPE_MEDIA_',
    flagPrefix: 'media-',
    description:
      'Media: the public and private storages for uploads, on a local directory or an S3-compatible bucket. See [storage.md](storage.md).',
    checks: [
      {
        // storage/ checks the settings as a whole; each problem goes to the setting behind its field.
        uses: [
          'root',
          'url',
          'origin',
          'signingKeys',
          'driver',
          's3Bucket',
          's3Region',
          's3Endpoint',
          'publicUrl',
        ],
        problems: (settings) =>
          storageProblems(mediaStorage(settings, '.')).map(({ field, problem }) => ({
            key: settingOfField[field],
            expected: problem,
          })),
      },
      {
        uses: ['publicUrl', 'driver'],
        problems: ({ publicUrl, driver }) =>
          publicUrl !== undefined && driver !== 's3'
            ? [{ key: 'publicUrl', expected: 'to be set only with media.driver s3' }]
            : [],
      },
    ],
  },
)

export type MediaSettings = Infer<typeof mediaSettings.shape>

/** The setting a problem with each field of StorageSettings is reported against. */
const settingOfField = {
  root: 'root',
  urlPrefix: 'url',
  origin: 'origin',
  signingKeys: 'signingKeys',
  driver: 'driver',
  s3: 's3Bucket',
  storages: 'publicUrl',
} as const satisfies Record<keyof StorageSettings, string>

/** What the media settings become for `shipshape serve`'s workers. */
export interface MediaServeOptions {
  media: StorageSettings
}

export function mediaOptions(settings: MediaSettings, cwd: string): MediaServeOptions {
  return { media: mediaStorage(settings, cwd) }
}

function mediaStorage(
  media: {
    root: string
    url: string
    origin: string | undefined
    signingKeys: readonly string[]
    driver: 'local' | 's3'
    s3Bucket: string | undefined
    s3Region: string
    s3Endpoint: string | undefined
    publicUrl: string | undefined
  },
  cwd: string,
): StorageSettings {
  return {
    root: resolve(cwd, media.root),
    urlPrefix: media.url,
    ...(media.origin ? { origin: media.origin } : {}),
    signingKeys: [...media.signingKeys],
    driver: media.driver,
    ...(media.driver === 's3'
      ? {
          s3: {
            bucket: media.s3Bucket ?? '',
            region: media.s3Region,
            ...(media.s3Endpoint ? { endpoint: media.s3Endpoint } : {}),
          },
          storages: {
            public: { visibility: 'public', ...(media.publicUrl ? { publicUrl: media.publicUrl } : {}) },
            private: { visibility: 'private' },
          },
        }
      : {}),
  }
}
