/**
 * Cost of a callback's keys, 0.1.0's against today's: the event, message, send and decision keys of a
 * group after-send, a group before-send and a one-to-one after-send (ordinary ids, the common
 * case), and of one id that needs escaping. 0.1.0's functions are copied below as the baseline;
 * both run in this process in alternating rounds, so machine noise hits them alike.
 *
 *   npx tsx bench/keys.ts [--rounds 7] [--iterations 200000]
 */
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'
import { beforeSendEventKey, callbackKeys } from '../src/protocol/idempotency-key.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, iterations: { type: 'string', default: '200000' } } })
const ROUNDS = Number(values.rounds)
const N = Number(values.iterations)

type Body = Record<string, unknown>

// ── 0.1.0 (parts joined with `|`, unescaped) ──────────────────────────────────────────────
const s = (v: unknown) => (v === undefined || v === null ? '' : String(v))
const oldTopic = (body: Body) => (typeof body.TopicId === 'string' && body.TopicId !== '' ? body.TopicId : undefined)
const oldGroupMessageKey = (groupId: string, topicId: string | undefined, msgSeq: number) => `g|${groupId}|${topicId ?? ''}|${msgSeq}`
function oldGroupSendKey(body: Body): string | undefined {
  const groupId = body.GroupId
  const random = typeof body.Random === 'string' && /^\d{1,15}$/.test(body.Random) ? Number(body.Random) : body.Random
  if (typeof groupId !== 'string' || typeof random !== 'number' || !Number.isSafeInteger(random)) return undefined
  return `gs|${groupId}|${oldTopic(body) ?? ''}|${s(body.From_Account)}|${random}`
}
function oldIdempotencyKey(command: string, body: Body, rawBody: Uint8Array | string): string {
  switch (command) {
    case 'Group.CallbackAfterSendMsg':
      if (body.GroupId !== undefined && body.MsgSeq !== undefined)
        return `${command}|${oldGroupMessageKey(s(body.GroupId), oldTopic(body), Number(body.MsgSeq))}`
      break
    case 'Group.CallbackBeforeSendMsg': {
      const key = oldGroupSendKey(body)
      if (key !== undefined) return `${command}|${typeof body.MsgId === 'string' && body.MsgId !== '' ? `${key}|${body.MsgId}` : key}`
      break
    }
    case 'C2C.CallbackAfterSendMsg':
      if (typeof body.MsgKey === 'string' && body.MsgKey !== '') return `${command}|c|${body.MsgKey}`
      break
  }
  return `${command}|sha256:${createHash('sha256').update(rawBody).digest('hex')}`
}
const oldMsgIdKey = (body: Body) => {
  const key = oldGroupSendKey(body)
  return key !== undefined && typeof body.MsgId === 'string' && body.MsgId !== '' ? `${key}|${body.MsgId}` : key
}

// ── the cases ───────────────────────────────────────────────────────────────────────────
const cases: Array<[string, string, (i: number) => Body]> = [
  [
    'group after-send',
    'Group.CallbackAfterSendMsg',
    (i) => ({
      GroupId: `@TGS#2J4SZEAEL${i % 64}`,
      From_Account: `user${i % 1000}`,
      Random: 1000 + i,
      MsgSeq: i,
      MsgId: `144115213033478435-1739361321-${i}`,
    }),
  ],
  [
    'group before-send',
    'Group.CallbackBeforeSendMsg',
    (i) => ({
      GroupId: `@TGS#2J4SZEAEL${i % 64}`,
      TopicId: '@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#cTO1',
      From_Account: `user${i % 1000}`,
      Random: 1000 + i,
      MsgId: `144115213033478435-1739361321-${i}`,
    }),
  ],
  [
    'c2c after-send',
    'C2C.CallbackAfterSendMsg',
    (i) => ({ From_Account: 'alice', To_Account: 'bob', MsgKey: `${i}_${2000 + i}_1670574414` }),
  ],
  [
    'group after-send, id with | and a lone surrogate',
    'Group.CallbackAfterSendMsg',
    (i) => ({ GroupId: `odd|group\uD800${i % 64}`, From_Account: 'u|v', Random: i, MsgSeq: i }),
  ],
]
const bodies = cases.map(([, , make]) => Array.from({ length: 1024 }, (_, i) => make(i)))

let sink = 0
function measure(fn: (command: string, body: Body) => void, c: number): number {
  const command = cases[c]![1]
  const list = bodies[c]!
  const start = process.hrtime.bigint()
  for (let i = 0; i < N; i++) fn(command, list[i & 1023]!)
  return Number(process.hrtime.bigint() - start) / N
}
// What planning a record builds (src/store/records.ts): its event key, and for a message its
// message, send and decision keys — 0.1.0 called the key functions one by one, today one call
// builds them all (each id escaped once).
const before = (command: string, body: Body) => {
  sink += oldIdempotencyKey(command, body, '').length
  if (command === 'Group.CallbackAfterSendMsg') {
    sink +=
      oldGroupMessageKey(s(body.GroupId), oldTopic(body), Number(body.MsgSeq)).length +
      (oldGroupSendKey(body)?.length ?? 0) +
      (oldMsgIdKey(body)?.length ?? 0)
  } else if (command === 'Group.CallbackBeforeSendMsg') sink += oldGroupSendKey(body)?.length ?? 0
  else sink += `c|${body.MsgKey as string}`.length * 2 + `C2C.CallbackBeforeSendMsg|c|${body.MsgKey as string}`.length
}
const after = (command: string, body: Body) => {
  const keys = callbackKeys(command, body, '')
  sink += keys.event.length + (keys.send?.length ?? 0)
  if (keys.message !== undefined) sink += keys.message.length + beforeSendEventKey('group', keys.sendWithMsgId ?? '').length
}

const results = cases.map(() => ({ before: [] as number[], after: [] as number[] }))
for (let c = 0; c < cases.length; c++) for (const fn of [before, after]) measure(fn, c) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  for (let c = 0; c < cases.length; c++) {
    const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const)
    for (const which of order) results[c]![which].push(measure(which === 'before' ? before : after, c))
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`keys of one callback, ns (median of ${ROUNDS} rounds of ${N}; sink ${sink % 10})\n`)
console.log('case                                                0.1.0   escaped   Δ ns')
for (let c = 0; c < cases.length; c++) {
  const b = median(results[c]!.before)
  const a = median(results[c]!.after)
  console.log(`${cases[c]![0].padEnd(50)}  ${b.toFixed(0).padStart(5)}   ${a.toFixed(0).padStart(7)}   ${(a - b).toFixed(0).padStart(4)}`)
}
