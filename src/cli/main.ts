#!/usr/bin/env node
/**
 * `timhook` — the command line. Each subcommand lives in its own module and registers itself here.
 */
import { Command } from 'commander'
import { readFileSync } from 'node:fs'
import { registerCommands } from './commands.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

const program = new Command()
  .name('timhook')
  .description('Tencent Cloud IM callbacks: receive, moderate and record them, or emulate the IM backend.')
  .version(pkg.version)
  .showHelpAfterError()

registerCommands(program)

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`timhook: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
