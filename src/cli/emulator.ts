import type { Command } from 'commander'

/** Registers `timhook emulator`. Being built (see the open issue); not yet registered. */
export function registerEmulator(_program: Command): void {}
