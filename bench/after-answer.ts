/**
 * CPU µs per after-callback on `serve`'s event loop from the request to its 200 once "committed",
 * in one process: the receiver's acknowledge path (the listener's result, the deadline), the
 * recorder and the per-callback metrics, with a stand-in store whose commit answers every write
 * queued in a turn (as the writer's commit report does), 32 requests a turn. No HTTP, no database:
 * only the part that a change to the answer path or to the metrics moves. A build with
 * `handleWith` (the node adapter's path) is driven through it and `Store.writeWith`; an older one
 * through `handle` and `Store.write`.
 *
 *   npm run build && npx tsx bench/after-answer.ts --root A --root B [--requests 200000] [--rounds 5]
 *
 * Each --root is a built checkout; rounds alternate between them. ~10 s for two roots.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true, default: ['.'] },
    requests: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '5' },
  },
})
const N = Number(values.requests)
const PER_TURN = 32

interface Built {
  createReceiver(o: { sdkAppId: string }): {
    handle(r: unknown): { status: number } | Promise<{ status: number }>
    handleWith?(r: unknown, done: (a: { status: number }) => void): { status: number } | undefined
  }
  createMetrics(store: unknown): unknown
  attachRecorder(r: unknown, deps: unknown): void
}

async function load(root: string): Promise<Built> {
  const at = (p: string) => pathToFileURL(resolve(root, 'dist', p)).href
  const [index, metrics, recorder] = await Promise.all([
    import(at('index.js')),
    import(at('server/metrics.js')),
    import(at('server/attach-recorder.js')),
  ])
  return { createReceiver: index.createReceiver, createMetrics: metrics.createMetrics, attachRecorder: recorder.attachRecorder }
}

function standInStore() {
  let waiting: Array<() => void> = []
  return {
    kind: 'sqlite',
    pending: 0,
    pendingBytes: 0,
    counters: { dropped: 0, backlogRefused: 0, dataRefused: 0 },
    lastCommitError: undefined,
    write: () => new Promise<void>((r) => waiting.push(r)),
    writeWith: (_record: unknown, committed: () => void) => void waiting.push(committed),
    enqueue() {},
    countRejection() {},
    onCommit() {},
    commit() {
      const w = waiting
      waiting = []
      for (const r of w) r()
    },
  }
}

const logger = { isLevelEnabled: () => false, debug() {}, info() {}, warn() {}, error() {} }
const body = Buffer.from(
  JSON.stringify({
    CallbackCommand: 'Group.CallbackAfterRecallMsg',
    GroupId: 'g1',
    Type: 'Public',
    Operator_Account: 'u1',
    MsgSeqList: [{ MsgSeq: 1 }],
  }),
)
const query = 'SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterRecallMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS'

async function round(built: Built): Promise<number> {
  const store = standInStore()
  const r = built.createReceiver({ sdkAppId: '1400000000' })
  built.attachRecorder(r, { store, metrics: built.createMetrics(store), logger })
  const started = process.cpuUsage()
  let bad = 0
  const done = (a: { status: number }) => void (a.status !== 200 && bad++)
  for (let i = 0; i < N; i += PER_TURN) {
    if (r.handleWith !== undefined) {
      for (let j = 0; j < PER_TURN; j++) {
        const a = r.handleWith({ method: 'POST', query, headers: {}, body }, done)
        if (a !== undefined) done(a)
      }
      await new Promise((res) => setImmediate(res))
      store.commit()
      if (bad > 0) throw new Error('not answered 200')
      continue
    }
    const answers: Array<{ status: number } | Promise<{ status: number }>> = []
    for (let j = 0; j < PER_TURN; j++) answers.push(r.handle({ method: 'POST', query, headers: {}, body }))
    await new Promise((res) => setImmediate(res))
    store.commit()
    for (const a of answers) if ((await a).status !== 200) throw new Error('not answered 200')
  }
  const used = process.cpuUsage(started)
  return (used.user + used.system) / N
}

const roots = values.root
const built = await Promise.all(roots.map(load))
const results = roots.map(() => [] as number[])
for (let k = 0; k < Number(values.rounds); k++) for (let i = 0; i < roots.length; i++) results[i]!.push(await round(built[i]!))
for (let i = 0; i < roots.length; i++) {
  const sorted = [...results[i]!].sort((a, b) => a - b)
  console.log(
    `${roots[i]}: ${results[i]!.map((x) => x.toFixed(2)).join(', ')} µs per after-callback (median ${sorted[sorted.length >> 1]!.toFixed(2)})`,
  )
}
