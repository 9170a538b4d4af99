/**
 * shipshape/config: typed settings declared once with zod, loaded from defaults < config file
 * (YAML, JSON, TOML) < .env < environment < secret files < command line, with every problem
 * reported at once and secrets masked everywhere. See docs/config.md.
 */
export { bytes, type Description, describe, duration, parseBytes, parseDuration } from './_coerce.js'
export {
  Declaration,
  type DeclarationOptions,
  defineConfig,
  type Entry,
  Group,
  type GroupOptions,
  group,
  type Infer,
  Setting,
  type SettingOptions,
  type Shape,
  setting,
} from './_declare.js'
export { configError, formatProblem, loadConfig, resolveConfig } from './_load.js'
export {
  docsMarkdown,
  flagHelp,
  formatBytes,
  formatDuration,
  requiredMarker,
  type SampleFormat,
  sample,
  sampleFormats,
  showJson,
  shownDefault,
  showText,
} from './_render.js'
export { gitTrackedFiles, parseDotenv } from './_sources.js'
export { closest } from './_text.js'
export { secretMask } from './_values.js'
export type {
  Check,
  GroupCheck,
  LoadOptions,
  Origin,
  Problem,
  Resolution,
  SettingProblem,
  SourceKind,
} from './types.js'
