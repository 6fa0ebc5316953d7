/**
 * The hand-written JSON writers that 0.1.0 had against `JSON.stringify`, side by side, on what they
 * wrote in production: a rewritten (stamped) before-send answer (`receiver/answer.ts`), a recorded
 * decision (`store/records.ts`), a rule's reason string (`policy/compile-condition.ts`). They are
 * copied below as they were; today's code is `JSON.stringify` (`decisionJson` is its call). Both run
 * in this process in alternating rounds (order reversed every other round), and every round is
 * printed, so noise on a loaded machine shows as disagreement between rounds rather than as a result.
 *
 *   npx tsx bench/serialise.ts [--rounds 7] [--iterations 300000]
 */
import { parseArgs } from 'node:util'
import { answerFor, verdict } from '../src/protocol/verdict.js'
import { decisionJson as decisionViaStringify, type DecisionRecord } from '../src/store/records.js'

// ── 0.1.0's writers ──────────────────────────────────────────────────────────────────────────
function jsonString(s: string): string {
  let out = ''
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x22 || c === 0x5c) {
      out += s.slice(from, i) + (c === 0x22 ? '\\"' : '\\\\')
      from = i + 1
    } else if (c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s)
  }
  return from === 0 ? `"${s}"` : `"${out}${s.slice(from)}"`
}
function decisionJson(d: DecisionRecord): string {
  const code = typeof d.code === 'number' && Number.isFinite(d.code) ? String(d.code) : 'null'
  const str = (v: string | null) => (v == null ? 'null' : jsonString(v))
  return `{"verdict":${jsonString(d.verdict)},"rewritten":${d.rewritten === true},"code":${code},"fallback":${d.fallback === true},"rule":${str(d.rule)},"action":${str(d.action)},"reason":${str(d.reason)},"dryRun":${d.dryRun === true}}`
}
function jsonValue(value: unknown): string | undefined {
  return write(value, 0, '')
}

const MAX_DEPTH = 64

/** `v` as JSON.stringify writes it as the property `key` of its holder (`key` matters to `toJSON(key)`). */
function write(v: unknown, depth: number, key: string | number): string | undefined {
  switch (typeof v) {
    case 'string':
      return jsonString(v)
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null'
    case 'boolean':
      return v ? 'true' : 'false'
    case 'object':
      break
    case 'function':
      return typeof (v as { toJSON?: unknown }).toJSON === 'function' ? viaStringify(v, key) : undefined // a callable with toJSON is serialized
    case 'bigint':
      return viaStringify(v, key) // a TypeError, unless BigInt.prototype.toJSON exists
    default:
      return undefined
  }
  if (v === null) return 'null'
  if (depth >= MAX_DEPTH) return viaStringify(v, key)
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype || 'toJSON' in v) return viaStringify(v, key)
    let out = '['
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out += ','
      out += write(v[i], depth + 1, i) ?? 'null'
    }
    return out + ']'
  }
  const proto = Object.getPrototypeOf(v) as unknown
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return viaStringify(v, key)
  let out = '{'
  let first = true
  for (const k of Object.keys(v)) {
    const s = write((v as Record<string, unknown>)[k], depth + 1, k)
    if (s === undefined) continue
    out += (first ? '' : ',') + jsonString(k) + ':' + s
    first = false
  }
  return out + '}'
}

/**
 * JSON.stringify's own output for `v` as the property `key` of a holder: what is not plain data
 * (a `toJSON`, a class instance, a boxed value, a bigint, very deep nesting) is written by
 * JSON.stringify itself, so the output and the errors are always its own, and `toJSON` gets the
 * property name it would get there.
 */
function viaStringify(v: unknown, key: string | number): string | undefined {
  const name = String(key)
  if (name === '') return JSON.stringify(v)
  const s = JSON.stringify({ [name]: v })
  return s === '{}' ? undefined : s.slice(jsonString(name).length + 2, -1)
}

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, iterations: { type: 'string', default: '300000' } } })
const ROUNDS = Number(values.rounds)
const N = Number(values.iterations)

// A stamped group message, as the example policy rewrites every allowed one.
const stamped = answerFor(
  'Group.CallbackBeforeSendMsg',
  verdict.allow({
    msgBody: [
      { MsgType: 'TIMTextElem', MsgContent: { Text: '今晚八点开会，别迟到 — see you at 8pm! #1234' } },
      { MsgType: 'TIMCustomElem', MsgContent: { Desc: 'CustomElement.MemberLevel', Data: 'LV3', Ext: '' } },
    ],
  }),
)
const decisions: DecisionRecord[] = [
  {
    verdict: 'allow',
    rewritten: true,
    code: null,
    fallback: false,
    rule: 'member-level',
    action: 'stamp',
    reason: 'stamped "LV3" for sender "user42"',
    dryRun: false,
  },
  {
    verdict: 'deny',
    rewritten: false,
    code: 10101,
    fallback: false,
    rule: 'spam-words',
    action: 'deny',
    reason: 'keyword "buy now" in MsgBody[0].MsgContent.Text',
    dryRun: false,
  },
  { verdict: 'allow', rewritten: false, code: null, fallback: false, rule: null, action: null, reason: null, dryRun: false },
]
const reasons = [
  'sender "alice" is muted until 2030-01-01',
  'keyword "buy now" in MsgBody[0].MsgContent.Text',
  'link to "evil.example.com"',
]

let sink = 0
type Case = { group: string; name: string; run: (i: number) => string | undefined }
const cases: Case[] = [
  { group: 'rewritten answer', name: 'jsonValue', run: () => jsonValue(stamped) },
  { group: 'rewritten answer', name: 'JSON.stringify', run: () => JSON.stringify(stamped) },
  { group: 'decision record', name: 'decisionJson', run: (i) => decisionJson(decisions[i % 3]!) },
  { group: 'decision record', name: 'JSON.stringify', run: (i) => decisionViaStringify(decisions[i % 3]!) },
  { group: 'reason string', name: 'jsonString', run: (i) => jsonString(reasons[i % 3]!) },
  { group: 'reason string', name: 'JSON.stringify', run: (i) => JSON.stringify(reasons[i % 3]!) },
]

// Same output first: a writer that differs is not a candidate.
for (let i = 0; i < 3; i++) {
  if (jsonValue(stamped) !== JSON.stringify(stamped)) throw new Error('jsonValue differs from JSON.stringify')
  if (decisionJson(decisions[i]!) !== decisionViaStringify(decisions[i]!))
    throw new Error(`decisionJson differs: ${decisionJson(decisions[i]!)}`)
  if (jsonString(reasons[i]!) !== JSON.stringify(reasons[i]!)) throw new Error('jsonString differs')
}

function measure(c: Case, n: number): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) sink += c.run(i)!.length
  return Number(process.hrtime.bigint() - start) / n
}

for (const c of cases) measure(c, Math.min(N, 20_000)) // warm-up
const samples = new Map<Case, number[]>(cases.map((c) => [c, []]))
console.log(`node ${process.version}, ${ROUNDS} alternating rounds × ${N} iterations; ns per call`)
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? cases : [...cases].reverse()
  for (const c of order) samples.get(c)!.push(measure(c, N))
  console.log(`round ${round + 1}: ` + cases.map((c) => `${c.group}/${c.name} ${samples.get(c)!.at(-1)!.toFixed(0)}`).join('  '))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log('\ncase                                  median ns   min–max ns     hand-written ÷ JSON.stringify, per round')
for (const group of new Set(cases.map((c) => c.group))) {
  const [hand, std] = cases.filter((c) => c.group === group) as [Case, Case]
  const ratios = samples.get(hand)!.map((h, i) => (h / samples.get(std)![i]!).toFixed(2))
  for (const c of [hand, std]) {
    const xs = samples.get(c)!
    console.log(
      `${`${group} / ${c.name}`.padEnd(38)} ${median(xs).toFixed(0).padStart(9)}   ${`${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`.padStart(10)}${c === hand ? `     ${ratios.join(' ')}` : ''}`,
    )
  }
}
if (sink === 0) console.log('')
