/**
 * The sinks' delivery loops, away from the callbacks' event loop at the lowest scheduling priority:
 * by default in a child process started at `SCHED_IDLE` (every thread of it, V8's helpers included;
 * src/store/spawn-thread.ts), else in a thread of serve lowered to it (src/store/thread-priority.ts).
 * Building envelopes, signing, the Redis/NATS/HTTP clients all run here, and the outbox's event reads
 * run at that priority too, so on a busy machine the event loop that answers callbacks keeps the CPU
 * and the sinks take only what is left (they lag under a peak and catch up after it; callbacks never
 * wait for them). Started by attach-sinks.ts; talks to it by messages.
 *
 * The cursor and lease writes take the store's write lock (on SQLite): a starved holder would stall
 * the commits callbacks wait for. In a thread they run in an outbox thread at the process's priority;
 * a child process (where no thread can be raised again) asks serve to run them (`outbox` messages).
 */
import type { Outbox } from '../sinks/outbox.js'
import { data as received, inChildProcess, port } from '../store/background-port.js'
import { createSink } from '../sinks/config.js'
import { startSinkRunner } from '../sinks/run-sinks.js'
import { openOutbox } from '../store/open-outbox.js'
import { lowerThisThread } from '../store/thread-priority.js'
import { PARENT_OPS, type FromSinksThread, type ParentOp, type SinksThreadData, type ToSinksThread } from './sinks-messages.js'

const data = received as SinksThreadData
const post = (m: FromSinksThread) => port.postMessage(m)

/** Calls to the parent's outbox awaiting their answer. */
const asked = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
let nextAsk = 1

/** The outbox with its writes run by the parent: reads here, the rest asked for. */
function writingViaParent(local: Outbox): Outbox {
  const ask =
    (op: ParentOp) =>
    (...args: unknown[]): Promise<never> =>
      new Promise((resolve, reject) => {
        const id = nextAsk++
        asked.set(id, { resolve: resolve as (v: unknown) => void, reject })
        post({ type: 'outbox', id, op, args })
      })
  const remote = Object.fromEntries(PARENT_OPS.map((op) => [op, ask(op)])) as unknown as Pick<Outbox, ParentOp>
  return {
    ...remote,
    read: (p, limit) => local.read(p, limit),
    lag: (p, cap) => local.lag(p, cap),
    redrives: (sink, limit) => local.redrives(sink, limit),
    close: () => local.close(),
  }
}

const log = (level: 'info' | 'warn' | 'error') => (obj: object, msg: string) => post({ type: 'log', level, obj, msg })

async function main(): Promise<void> {
  const opened = await openOutbox(data.db, {
    schema: data.schema,
    lowPriorityReads: true,
    readsOnly: data.writesViaParent,
    onIdleError: (err) => log('warn')({ err: err.message }, 'a sinks PostgreSQL connection was lost; it will be replaced'),
  })
  const outbox = data.writesViaParent ? writingViaParent(opened) : opened
  // Lowered once the outbox has started its threads: a thread inherits its creator's priority, and
  // the outbox's cursor writes take the store's write lock, so their thread keeps the process's.
  // (A child process started at the lowest priority already.)
  if (!inChildProcess) lowerThisThread()
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
    else if (m.type === 'outboxDone') {
      const p = asked.get(m.id)
      asked.delete(m.id)
      if (m.ok) p?.resolve(m.value)
      else p?.reject(new Error(m.message))
    } else if (m.type === 'close') {
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
