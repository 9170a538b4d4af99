/**
 * The monitor's part in every `shipshape serve` worker: whether anything is monitored, and the
 * endpoint agents, jobs and the status page reach. Apart from shipshape/monitor so that a worker
 * never loads the primary's probes, alert rules and channels (about 0.6 MB of heap each).
 */
export { isMonitoring } from './_enabled.js'
export { monitorEndpoint } from './_endpoint.js'
