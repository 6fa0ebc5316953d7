/**
 * Cost of the receive-time nesting check (`nestsDeeperThan`, run by `parseJsonObject` before
 * `JSON.parse`) on typical callback bodies of 1–2 KB, beside `JSON.parse` of the same text: the
 * check's two substring searches against the parse it guards. Alternating rounds in one process,
 * median of rounds.
 *
 *   npx tsx bench/body-depth.ts [--rounds 7] [--iterations 100000]
 */
import { parseArgs } from 'node:util'
import { MAX_BODY_DEPTH, nestsDeeperThan } from '../src/protocol/parse-json.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, iterations: { type: 'string', default: '100000' } } })
const ROUNDS = Number(values.rounds)
const N = Number(values.iterations)

const bodies: Array<[string, string]> = [
  [
    'group before-send, Chinese text, 1.3 KB',
    JSON.stringify({
      CallbackCommand: 'Group.CallbackBeforeSendMsg',
      GroupId: '@TGS#2J4SZEAEL',
      Type: 'Public',
      From_Account: 'leckie',
      Operator_Account: 'leckie',
      Random: 123456,
      OnlineOnlyFlag: 0,
      MsgBody: [
        { MsgType: 'TIMTextElem', MsgContent: { Text: '今晚八点开会 — see you at 8pm! '.repeat(20) } },
        { MsgType: 'TIMCustomElem', MsgContent: { Data: 'message', Desc: 'notification', Ext: 'url', Sound: 'dingdong.aiff' } },
      ],
      CloudCustomData: 'your cloud custom data',
      EventTime: 1670574414123,
      TopicId: '@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#cTO1',
      AtMsg: { GroupAtInfo: [{ GroupAt_Account: 'a' }, { GroupAt_Account: 'b' }] },
    }),
  ],
  [
    'group after-send, ASCII, 1.8 KB',
    JSON.stringify({
      CallbackCommand: 'Group.CallbackAfterSendMsg',
      GroupId: '@TGS#2J4SZEAEL',
      Type: 'Public',
      From_Account: 'leckie',
      Operator_Account: 'leckie',
      Random: 123456,
      MsgSeq: 123,
      MsgTime: 1490686222,
      OnlineOnlyFlag: 0,
      MsgBody: Array.from({ length: 6 }, (_, i) => ({
        MsgType: 'TIMTextElem',
        MsgContent: { Text: `see you at ${i} pm, bring the slides and the numbers for the quarterly review `.repeat(3) },
      })),
      CloudCustomData: 'your cloud custom data',
      EventTime: 1670574414123,
    }),
  ],
]

let sink = 0
function time(fn: (text: string) => unknown, text: string): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < N; i++) sink += fn(text) ? 1 : 0
  return Number(process.hrtime.bigint() - start) / N
}
const check = (t: string) => nestsDeeperThan(t, MAX_BODY_DEPTH)
const parse = (t: string) => JSON.parse(t) as unknown

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`nesting check vs JSON.parse, ns per body (median of ${ROUNDS} rounds of ${N})\n`)
console.log('body                                        bytes   check    parse   check ÷ parse')
for (const [name, text] of bodies) {
  const checks: number[] = []
  const parses: number[] = []
  time(check, text) // warm-up
  time(parse, text)
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? [check, parse] : [parse, check]
    for (const fn of order) (fn === check ? checks : parses).push(time(fn, text))
  }
  const c = median(checks)
  const p = median(parses)
  console.log(
    `${name.padEnd(42)}  ${String(Buffer.byteLength(text)).padStart(5)}   ${c.toFixed(0).padStart(5)}   ${p.toFixed(0).padStart(6)}   ${((100 * c) / p).toFixed(1).padStart(6)} %`,
  )
}
if (sink < 0) console.log(sink)
