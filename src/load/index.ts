/**
 * The load generator (`timhook emulator load`): a client that sends Tencent-shaped, signed callbacks
 * to an App backend at a set rate and reports what came back. It plays the IM backend's client side
 * with the emulator's callback sender; the emulator (a server stand-in) does not depend on it.
 */
export { runLoad, type LoadReport } from './run-load.js'
export {
  DEFAULT_MIX,
  OPERATIONS,
  parseDuration,
  parseMix,
  type LoadOptions,
  type LoadProgress,
  type Mix,
  type Operation,
} from './load-options.js'
export { formatReport, formatProgress } from './format-report.js'
export type { LatencySummary } from './latency-sample.js'
