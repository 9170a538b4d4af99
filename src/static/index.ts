/**
 * shipshape/static: the middleware that serves collected assets from the app, `staticUrl()` for
 * templates, and `sendEntity()`, the one HTTP answer for a file (encodings, conditional requests,
 * ranges) other parts reuse. collectstatic itself is shipshape/static/collect: a build step that
 * apps and workers never load.
 */
export {
  contentTypeFor,
  type Entity,
  type FileEntityOptions,
  fileEntity,
  httpDate,
  mimeTypes,
  type Representation,
  readNoFollow,
  sendEntity,
  statEtag,
} from './_entity.js'
export { type BuildOutput, buildOutputs } from './_frameworks.js'
export type { StaticFile } from './_index.js'
export {
  defaultPrefix,
  defaultRoot,
  type Manifest,
  manifestName,
  normalisePrefix,
  readManifest,
  staticUrl,
} from './_manifest.js'
export { type StaticFilesOptions, staticFiles } from './_middleware.js'
