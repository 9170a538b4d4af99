/**
 * shipshape/static: `shipshape collectstatic` (hashed, precompressed assets and a manifest), the
 * middleware that serves them from the app, `staticUrl()` for templates, and `sendEntity()`,
 * the one HTTP answer for a file (encodings, conditional requests, ranges) other parts reuse.
 */
export { type CollectOptions, type CollectResult, collectStatic, hashedName } from './_collect.js'
export {
  contentTypeFor,
  type Entity,
  type FileEntityOptions,
  fileEntity,
  httpDate,
  type Representation,
  sendEntity,
  statEtag,
} from './_entity.js'
export type { StaticFile } from './_index.js'
export {
  defaultPrefix,
  defaultRoot,
  type Manifest,
  manifestName,
  readManifest,
  staticUrl,
} from './_manifest.js'
export { type StaticFilesOptions, staticFiles } from './_middleware.js'
