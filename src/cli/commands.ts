import type { Command } from 'commander'

/** Adds every subcommand to the program. Each lives in src/cli/<name>.ts. */
export function registerCommands(_program: Command): void {
  // serve (src/cli/serve.ts) and emulator (src/cli/emulator.ts) register here.
}
