import type { Command } from 'commander'

/** Registers `timhook serve`. Being built (see the open issue); not yet registered. */
export function registerServe(_program: Command): void {}
