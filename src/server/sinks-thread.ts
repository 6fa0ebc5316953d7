/**
 * The sinks' delivery loops, in a thread of their own at the lowest scheduling priority Linux gives
 * an unprivileged thread (src/store/thread-priority.ts): building envelopes, signing, the
 * Redis/NATS/HTTP clients all run here, and on SQLite the outbox's event reads run in a thread at
 * that priority too, so on a busy machine the event loop that answers callbacks keeps the CPU and
 * the sinks take only what is left (they lag under a peak and catch up after it; callbacks never
 * wait for them). Started by attach-sinks.ts; talks to it by messages.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createSink, type SinkConfig } from '../sinks/config.js'
import { startSinkRunner, type SinkLiveStatus } from '../sinks/run-sinks.js'
import type { SinkFailureReason } from '../sinks/sink.js'
import { openOutbox } from '../store/open-outbox.js'
import { lowerThisThread } from '../store/thread-priority.js'
import type { BackoffOptions } from '../sinks/backoff.js'

/** Delivery loop timings (tests shorten them). */
export interface SinkTuning {
  /** Lease duration, ms (how soon another instance takes over a dead one's sinks). */
  leaseTtlMs?: number
  pollMs?: number
  batchSize?: number
  backoff?: BackoffOptions
  behindAfterMs?: number
}

export interface SinksThreadData {
  configs: SinkConfig[]
  db: string
  schema: string
  holder: string
  tuning: SinkTuning
}

export type ToSinksThread = { type: 'wake' } | { type: 'close' }
export type FromSinksThread =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'status'; status: SinkLiveStatus[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; obj: object; msg: string }
  | { type: 'delivered'; sink: string; count: number }
  | { type: 'failure'; sink: string; reason: SinkFailureReason }
  | { type: 'deadLetter'; sink: string }
  | { type: 'closed' }

const port = parentPort!
const data = workerData as SinksThreadData
const post = (m: FromSinksThread) => port.postMessage(m)

const log = (level: 'info' | 'warn' | 'error') => (obj: object, msg: string) => post({ type: 'log', level, obj, msg })

async function main(): Promise<void> {
  const outbox = await openOutbox(data.db, {
    schema: data.schema,
    lowPriorityReads: true,
    onIdleError: (err) => log('warn')({ err: err.message }, 'a sinks PostgreSQL connection was lost; it will be replaced'),
  })
  // Lowered once the outbox has started its threads: a thread inherits its creator's priority, and
  // the outbox's cursor writes take the store's write lock, so their thread keeps the process's.
  lowerThisThread()
  const runner = startSinkRunner({
    outbox,
    sinks: data.configs.map(createSink),
    holder: data.holder,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    startAt: Object.fromEntries(data.configs.map((c) => [c.name, c.start ?? 'end'])),
    ...data.tuning,
    onDelivered: (sink, count) => post({ type: 'delivered', sink, count }),
    onFailure: (sink, reason) => post({ type: 'failure', sink, reason }),
    onDeadLetter: (sink) => post({ type: 'deadLetter', sink }),
  })
  const timer = setInterval(() => post({ type: 'status', status: runner.status() }), 250)
  port.on('message', (m: ToSinksThread) => {
    if (m.type === 'wake') runner.wake()
    else if (m.type === 'close') {
      clearInterval(timer)
      void runner
        .close()
        .then(() => outbox.close())
        .finally(() => {
          post({ type: 'closed' })
          port.close()
        })
    }
  })
  post({ type: 'ready' })
}

main().catch((err: unknown) => {
  post({ type: 'failed', message: err instanceof Error ? err.message : String(err) })
  port.close()
})
