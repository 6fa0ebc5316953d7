/**
 * `timhook serve`'s sinks: the configured sinks, the store's outbox and one delivery loop per sink
 * (src/sinks/run-sinks.ts). Commits wake the loops (on this instance; other instances' commits are
 * seen at the next poll).
 */
import type { BackoffOptions } from '../sinks/backoff.js'
import { createSink, type SinkConfig } from '../sinks/config.js'
import type { Outbox } from '../sinks/outbox.js'
import { startSinkRunner, type SinkRunner } from '../sinks/run-sinks.js'
import type { Sink } from '../sinks/sink.js'
import { openOutbox } from '../store/open-outbox.js'
import type { Store } from '../store/store.js'
import type { ServerLogger } from './logger.js'
import type { ServerMetrics } from './metrics.js'
import { createSinkMetrics } from './sink-metrics.js'

export interface SinksHandle {
  readonly sinks: readonly Sink[]
  readonly outbox: Outbox | undefined
  readonly runner: SinkRunner | undefined
  close(): Promise<void>
}

export interface SinkTuning {
  /** Lease duration, ms (how soon another instance takes over a dead one's sinks). */
  leaseTtlMs?: number
  pollMs?: number
  batchSize?: number
  backoff?: BackoffOptions
  behindAfterMs?: number
}

export async function attachSinks(
  configs: readonly SinkConfig[],
  db: string,
  schema: string,
  store: Store,
  metrics: ServerMetrics,
  logger: ServerLogger,
  tuning: SinkTuning = {},
): Promise<SinksHandle> {
  if (configs.length === 0) return { sinks: [], outbox: undefined, runner: undefined, close: async () => {} }
  const sinks = configs.map(createSink)
  const outbox = await openOutbox(db, { schema, onIdleError: (err) => logger.warn({ err: err.message }, 'a sinks PostgreSQL connection was lost; it will be replaced') })
  const m = createSinkMetrics(metrics.registry)
  const runner = startSinkRunner({
    outbox,
    sinks,
    logger,
    startAt: Object.fromEntries(configs.map((c) => [c.name, c.start ?? 'end'])),
    ...tuning,
    ...m,
  })
  m.attach(runner)
  store.onCommit((r) => {
    if (r.error === undefined) runner.wake()
  })
  logger.info({ sinks: configs.map((c) => ({ name: c.name, type: c.type })), holder: runner.holder }, 'sinks configured')
  return {
    sinks,
    outbox,
    runner,
    async close() {
      await runner.close()
      await outbox.close()
    },
  }
}
