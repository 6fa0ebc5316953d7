/** The IM backend emulator: Tencent's REST API, a protocol-exact callback sender, and a load generator. */
export { startEmulator, type Emulator } from './start-emulator.js'
export { EMULATED_COMMANDS, EmulatorOptionError, type EmulatedCommand, type EmulatorOptions } from './options.js'
export type { CallbackRecord } from './emulator-context.js'
export type { CallbackOutcome } from './callback-sender.js'
