/** The IM backend emulator: Tencent's REST API and a protocol-exact callback sender. The load generator is `timhook/load`. */
export { startEmulator, type Emulator } from './start-emulator.js'
export { EMULATED_COMMANDS, EmulatorOptionError, type EmulatedCommand, type EmulatorOptions } from './options.js'
export type { CallbackOutcome } from '../sender/callback-sender.js'
export type { SentCallback } from './sent-callback.js'
