/**
 * shipshape/http: the request pipeline and the adapters for every kind of app. The server
 * (src/server) loads the app, builds one pipeline per worker and feeds it connections.
 */
export { appKinds } from '../types.js'
export { loadApp } from './_adapters.js'
export { escapeHtml, plainAnswer } from './_answer.js'
export { becomeWorker, drainSignal, getContext, workerState } from './_context.js'
export { type HeaderStore, headerStore } from './_header-store.js'
export {
  durationBuckets,
  type HttpMetrics,
  type HttpSeries,
  httpMetrics,
  type WebSocketCounts,
} from './_metrics.js'
export { createPipeline, type PipelineOptions } from './_pipeline.js'
export { collapsePath, noteRoute, routeName } from './_route.js'
export { createHttpServer, type HttpServerOptions } from './_server.js'
export { fillSlot, newSlot, type Slot, slotOf } from './_slots.js'
export type { RouteTimeout } from './_timeouts.js'
