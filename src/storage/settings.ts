/**
 * The media settings group of `shipshape serve` (the public and private storages, local or S3)
 * and the StorageSettings it becomes. Apart from shipshape/storage so that apps and workers,
 * which import the runtime, never load zod and the declarations.
 */
export { mediaOptions, mediaSettings } from './_settings.js'
