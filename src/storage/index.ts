/**
 * shipshape/storage: media files in named storages, public or private, on the local disk (the
 * default, served at /media/) or in an S3-compatible bucket. Private files are reached only
 * through expiring signed URLs; keys never overwrite by accident; the content type comes from
 * the bytes. See docs/storage.md.
 */
export { disposition } from './_content-type.js'
export { type MediaFilesOptions, mediaFiles } from './_media.js'
export {
  configureStorages,
  defaultStorages,
  type MediaDirectory,
  mediaDirectories,
  type StorageDefinition,
  type StorageProblem,
  type StorageSettings,
  type Storages,
  storage,
  storageProblems,
  storages,
  storagesOver,
} from './_registry.js'
export type { S3Settings } from './_s3.js'
export { defaultExpiresIn, maxExpiresIn } from './_signing.js'
export type {
  Body,
  FileInfo,
  PresignedPost,
  PresignedPostOptions,
  PutOptions,
  SignedUrlOptions,
  Storage,
  Visibility,
} from './_storage.js'
export { receiveUpload, type Upload, type UploadedFile, type UploadOptions } from './_upload.js'
