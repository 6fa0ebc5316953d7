/**
 * `timhook sinks status` and `timhook sinks replay`: the sinks' stored state, read and changed in
 * the store directly (so they work whether `serve` runs or not; a running `serve` picks a replay up
 * within seconds). The database comes from --db / --pg-schema, TIMHOOK_DB / TIMHOOK_PG_SCHEMA, or
 * the config file, as for `serve`.
 */
import type { Command } from 'commander'
import { parseSinks } from '../sinks/config.js'
import { ReplayError } from '../sinks/outbox.js'
import { replayFromOf } from '../server/sinks-api.js'
import { readConfigFile } from '../server/config.js'
import { flagFor, optionOf } from './config-options.js'
import { openOutbox } from '../store/open-outbox.js'
import { openStore } from '../store/open-store.js'

interface DbOptions {
  config?: string
  db?: string
  pgSchema?: string
}

function target(opts: DbOptions): { db: string; schema: string; configured: string[] } {
  const file = opts.config ?? process.env.TIMHOOK_CONFIG
  const fromFile = file === undefined || file === '' ? {} : readConfigFile(file)
  const db = opts.db ?? (process.env.TIMHOOK_DB || undefined) ?? (fromFile.db as string | undefined) ?? (flagFor('db').default as string)
  const schema =
    opts.pgSchema ??
    (process.env.TIMHOOK_PG_SCHEMA || undefined) ??
    (fromFile.pgSchema as string | undefined) ??
    (flagFor('pgSchema').default as string)
  const list = process.env.TIMHOOK_SINKS
    ? parseSinks(process.env.TIMHOOK_SINKS, 'TIMHOOK_SINKS')
    : fromFile.sinks === undefined
      ? []
      : parseSinks(fromFile.sinks, `sinks in ${file}`)
  return { db, schema, configured: list.map((s) => s.name) }
}

async function withOutbox<T>(
  opts: DbOptions,
  fn: (outbox: Awaited<ReturnType<typeof openOutbox>>, configured: string[]) => Promise<T>,
): Promise<T> {
  const t = target(opts)
  // The store first: it creates or migrates the tables.
  const store = await openStore(t.db, { schema: t.schema })
  try {
    const outbox = await openOutbox(t.db, { schema: t.schema })
    try {
      return await fn(outbox, t.configured)
    } finally {
      await outbox.close()
    }
  } finally {
    await store.close()
  }
}

/** The database options, as `serve` takes them. */
const db = (cmd: Command) =>
  cmd
    .option('-c, --config <file>', 'config file of serve, YAML or JSON (env TIMHOOK_CONFIG)')
    .addOption(optionOf(flagFor('db')))
    .addOption(optionOf(flagFor('pgSchema')))

/** Registers `timhook sinks …`. See docs/sinks.md. */
export function registerSinks(program: Command): void {
  const sinks = program.command('sinks').description('Sinks of timhook serve: status, replay (reads and changes the store directly)')

  db(sinks.command('status'))
    .description('Each sink: cursor, lag (events, seconds), who delivers it, dead letters')
    .option('--json', 'print JSON')
    .action(sinksStatus)

  db(sinks.command('replay <name>'))
    .description('Deliver again from an event id or a time (ms since the epoch or ISO 8601), in order')
    .requiredOption('--from <id|time>', 'event id, or time (ms since the epoch or ISO 8601)')
    .action(sinksReplay)
}

/** `timhook sinks status`: each sink's cursor, lag, lease and dead letters, as a table or JSON. */
async function sinksStatus(opts: DbOptions & { json?: boolean }): Promise<void> {
  const rows = await withOutbox(opts, async (outbox, configured) => {
    const stored = await outbox.status()
    const names = [...new Set([...configured, ...stored.map((r) => r.name)])].sort()
    return Promise.all(
      names.map(async (name) => {
        const r = stored.find((x) => x.name === name)
        const lag = r === undefined ? null : await outbox.lag(r.position, 1_000_000)
        return {
          name,
          configured: configured.includes(name),
          lastId: r?.lastId ?? null,
          lagEvents: lag?.events ?? null,
          lagSeconds: lag === null ? null : lag.oldestAt === null ? 0 : Math.round((Date.now() - lag.oldestAt) / 1000),
          holder: r?.holder ?? null,
          leaseUntil: r?.leaseUntil == null ? null : new Date(r.leaseUntil).toISOString(),
          deadLetters: r?.deadLetters ?? 0,
        }
      }),
    )
  })
  if (opts.json === true) {
    console.log(JSON.stringify({ sinks: rows }, null, 2))
    return
  }
  if (rows.length === 0) {
    console.log('no sinks: none configured, none has run on this database')
    return
  }
  const table = [['sink', 'last id', 'lag events', 'lag s', 'dead letters', 'delivered by (lease until)']]
  for (const r of rows) {
    table.push([
      r.name + (r.configured ? '' : ' (not configured)'),
      r.lastId === null ? '-' : String(r.lastId),
      r.lagEvents === null ? '-' : String(r.lagEvents),
      r.lagSeconds === null ? '-' : String(r.lagSeconds),
      String(r.deadLetters),
      r.holder === null ? 'nobody' : `${r.holder} (${r.leaseUntil})`,
    ])
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  for (const row of table)
    console.log(
      row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
}

/** `timhook sinks replay <name> --from <id|time>`: moves the sink's cursor back. */
async function sinksReplay(name: string, opts: DbOptions & { from: string }): Promise<void> {
  let from
  try {
    from = replayFromOf(opts.from)
  } catch (err) {
    console.error(`timhook sinks replay: --from ${(err as Error).message}`)
    process.exit(2)
  }
  try {
    const cursor = await withOutbox(opts, (outbox, configured) => {
      if (configured.length > 0 && !configured.includes(name))
        throw new ReplayError(`no sink named ${JSON.stringify(name)} is configured (${configured.join(', ')})`)
      return outbox.replay(name, from)
    })
    console.log(
      `sink ${name}: delivering again from ${'id' in from ? `event ${from.id}` : new Date(from.time).toISOString()} (cursor ${cursor.position}); a running serve picks it up within seconds`,
    )
  } catch (err) {
    if (err instanceof ReplayError) {
      console.error(`timhook sinks replay: ${err.message}`)
      process.exit(2)
    }
    throw err
  }
}
