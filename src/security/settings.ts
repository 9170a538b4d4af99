/**
 * The security settings group of `shipshape serve` (hosts, HTTPS, headers, cross-site requests,
 * direct TLS) and the options it becomes. Apart from shipshape/security, as shipshape/static/collect
 * is, so that apps and workers, which import the runtime, never load zod and the declarations.
 */
export {
  securityOptions,
  securitySettings,
} from './_settings.js'
