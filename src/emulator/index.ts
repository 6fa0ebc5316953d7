/** The IM backend emulator: Tencent's REST API, a protocol-exact callback sender, and a load generator. */
export { startEmulator, type Emulator } from './start-emulator.js'
export { EMULATED_COMMANDS, EmulatorOptionError, type EmulatedCommand, type EmulatorOptions } from './options.js'
export type { CallbackOutcome, SentCallback } from './callback-sender.js'
export { runLoad, type LoadReport } from './load/run-load.js'
export { DEFAULT_MIX, OPERATIONS, parseDuration, parseMix, type LoadOptions, type LoadProgress, type Mix, type Operation } from './load/load-options.js'
export { formatReport, formatProgress } from './load/format-report.js'
export type { LatencySummary } from './load/latency-sample.js'
