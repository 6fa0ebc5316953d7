import type { Command } from 'commander'
import { registerEmulator } from './emulator.js'
import { registerServe } from './serve.js'
import { registerSinks } from './sinks.js'

/** Adds every subcommand to the program. Each lives in src/cli/<name>.ts. */
export function registerCommands(program: Command): void {
  registerServe(program)
  registerSinks(program)
  registerEmulator(program)
}
