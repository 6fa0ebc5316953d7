/**
 * The rewritten body a stamp answers, over generated messages: the body the rules before it left,
 * with one element appended, serialised byte for byte as `[...body, { MsgType, MsgContent: { Data,
 * Desc, Ext } }]` — whatever the policy decided before (one stamp element is shared by every
 * message stamped with its Data; it must not carry anything from one message to the next).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { answerBytesOf, answerFor } from '../../src/protocol/verdict.js'
import { createPolicy, type RuleConfig } from '../../src/policy/index.js'
import { createReceiver, type ReceiverResponse } from '../../src/receiver/index.js'

const G = 'Group.CallbackBeforeSendMsg'
const LEVELS = { alice: 'LV3', jared: 'LV1' }

const element = fc.oneof(
  fc.record({
    MsgType: fc.constant('TIMTextElem'),
    MsgContent: fc.record({ Text: fc.oneof(fc.string(), fc.constantFrom('call 13812345678', 'lv3 buy now', '免费领取')) }),
  }),
  fc.record({ MsgType: fc.constant('TIMFaceElem'), MsgContent: fc.record({ Index: fc.integer(), Data: fc.string() }) }),
  fc.record({ MsgType: fc.constant('TIMCustomElem'), MsgContent: fc.record({ Data: fc.string(), Desc: fc.string() }) }),
)
const message = fc.record({
  sender: fc.constantFrom('alice', 'jared', 'bob', ''),
  body: fc.array(element, { minLength: 1, maxLength: 4 }),
})

const mask: RuleConfig = { name: 'phone', when: { regex: { pattern: '1[3-9]\\d{9}', fold: true } }, then: { mask: '*' } }
const stamp = (ext: boolean): RuleConfig => ({
  name: 'level',
  when: { always: true },
  then: { stamp: { desc: 'CustomElement.MemberLevel', dataFrom: 'levels', default: 'LV0', ...(ext ? { ext: 'e' } : {}) } },
})
// Reads the stamped element's fields: the rules after a stamp see the appended element.
const maskLevel: RuleConfig = { name: 'lv', when: { keywords: { words: ['lv3'], fields: ['custom'] } }, then: { mask: '#' } }

const event = (m: { sender: string; body: unknown[] }, i: number) => ({
  CallbackCommand: G,
  GroupId: '@TGS#1',
  Type: 'Public',
  From_Account: m.sender,
  Random: i,
  MsgBody: m.body,
})
const answerBody = (d: { verdict: Parameters<typeof answerFor>[1] }) => JSON.stringify(answerFor(G, d.verdict))

describe('a stamp rewrites the body it is given, and nothing else', () => {
  it('mask then stamp answers the masked body plus the stamp element, byte for byte, message after message', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.boolean(), (messages, ext) => {
        const both = createPolicy({ rules: [mask, stamp(ext)], levels: LEVELS })
        const maskOnly = createPolicy({ rules: [mask] })
        messages.forEach((m, i) => {
          const before = JSON.stringify(m.body)
          const d = both.decide(event(m, i))
          const masked = maskOnly.decide(event(m, i))
          const body = masked.rewritten ? masked.verdict.kind === 'allow' && masked.verdict.msgBody : m.body
          const data = LEVELS[m.sender as keyof typeof LEVELS] ?? 'LV0'
          const expected = m.body.some((el) => el.MsgType === 'TIMCustomElem')
            ? body === m.body
              ? JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
              : JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '', MsgBody: body })
            : JSON.stringify({
                ActionStatus: 'OK',
                ErrorCode: 0,
                ErrorInfo: '',
                MsgBody: [
                  ...(body as unknown[]),
                  { MsgType: 'TIMCustomElem', MsgContent: { Data: data, Desc: 'CustomElement.MemberLevel', ...(ext ? { Ext: 'e' } : {}) } },
                ],
              })
          assert.equal(answerBody(d), expected, `message ${i}`)
          assert.equal(JSON.stringify(m.body), before, 'the event is not changed')
        })
      }),
      { numRuns: 200 },
    )
  })

  it('a rule after the stamp reads the stamped element: it masks a level stamped before it, and only that message', () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), (messages) => {
        // The phone rule reads the fields before the stamp: the stamp adds to the fields listed.
        const p = createPolicy({ rules: [mask, stamp(false), maskLevel], levels: LEVELS })
        const stampOnly = createPolicy({ rules: [mask, stamp(false)], levels: LEVELS })
        messages.forEach((m, i) => {
          const d = p.decide(event(m, i))
          const s = stampOnly.decide(event(m, i))
          if (!s.rewritten) return void assert.equal(answerBody(d), answerBody(maskLevelAlone(m, i)), `message ${i}`)
          const stamped = (s.verdict.kind === 'allow' && s.verdict.msgBody) as Array<{
            MsgType: string
            MsgContent: Record<string, unknown>
          }>
          // The reference: the stamped body as a new message, through the mask rule alone.
          const again = maskLevelAlone({ sender: m.sender, body: stamped }, i)
          const want = again.rewritten ? answerBody(again) : answerBody(s)
          assert.equal(answerBody(d), want, `message ${i}`)
          if (!m.body.some((el) => el.MsgType === 'TIMCustomElem'))
            assert.equal(
              stamped.at(-1)!.MsgContent.Data,
              LEVELS[m.sender as keyof typeof LEVELS] ?? 'LV0',
              'the shared element is unchanged',
            )
        })
      }),
      { numRuns: 200 },
    )
  })
})

const maskLevelOnly = createPolicy({ rules: [maskLevel] })
const maskLevelAlone = (m: { sender: string; body: unknown[] }, i: number) => maskLevelOnly.decide(event(m, i))

// The receiver's path: a stamp on the body as received is answered from the request's own bytes
// (its MsgBody text plus the element's) wherever those are byte for byte what re-serialising writes,
// and re-serialised otherwise. Both must answer exactly what the verdict serialises to.
const APP = '1400000000'
const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }), // control characters, lone surrogates, astral characters
  fc.constantFrom('call 13812345678', '免费领取 😀', 'say "hi"\\\n\t', '\u2028', ''),
)
const wideElement = fc.oneof(
  fc.record({ MsgType: fc.constant('TIMTextElem'), MsgContent: fc.record({ Text: anyText }) }),
  fc.record({
    MsgType: fc.constant('TIMFaceElem'),
    MsgContent: fc.record({ Index: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })), Data: anyText }),
  }),
  fc.record({ MsgType: fc.constant('TIMCustomElem'), MsgContent: fc.record({ Data: anyText, Desc: anyText }) }),
  fc.record({ MsgType: fc.constant('TIMLocationElem'), MsgContent: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }) }),
)
/** Every key of every object in `value`, at any depth. */
const keysOf = (value: unknown): string[] =>
  value === null || typeof value !== 'object'
    ? []
    : Array.isArray(value)
      ? value.flatMap(keysOf)
      : Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)])
const hex4 = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
/** Ways the same event can be written: each parses to the same value, only the first is how JSON.stringify writes it. */
const spellings: Array<[string, (e: Record<string, unknown>) => string]> = [
  ['compact', (e) => JSON.stringify(e)],
  ['indented', (e) => JSON.stringify(e, null, 2)],
  ['non-ASCII escaped', (e) => JSON.stringify(e).replace(/[\u007f-\uffff]/g, hex4)],
  ['upper-case escapes', (e) => JSON.stringify(e).replace(/\\u00([0-9a-f]{2})/g, (_, h: string) => `\\u00${h.toUpperCase()}`)],
  ['numbers with a fraction', (e) => JSON.stringify(e).replace(/"Index":(-?\d+)([,}])/g, '"Index":$1.0$2')],
  ['slashes escaped', (e) => JSON.stringify(e).replace(/\//g, '\\/')],
  ['a key repeated', (e) => JSON.stringify(e).replace('"MsgType":', '"MsgType":"TIMTextElem","MsgType":')],
  ['MsgBody first, a decoy before it', (e) => JSON.stringify({ MsgBody: e.MsgBody, Note: '{"MsgBody":[1]}', ...e })],
  ['a decoy key before MsgBody', (e) => JSON.stringify({ Note: { MsgBody: [] }, 'x\\"MsgBody': [], ...e })],
]

describe('a stamped answer built from the request bytes is the verdict serialised, byte for byte', () => {
  it('over generated bodies and every way of writing them; the compact one takes the byte path', () => {
    const LEVEL_RULES = { rules: [stamp(false)], levels: LEVELS }
    fc.assert(
      fc.property(fc.array(wideElement, { minLength: 0, maxLength: 4 }), fc.constantFrom('alice', 'bob'), (body, sender) => {
        const policy = createPolicy(LEVEL_RULES)
        const reference = createPolicy(LEVEL_RULES)
        const r = createReceiver({ sdkAppId: APP })
        r.on(G, policy.decider)
        const e = { ...event({ sender, body }, 1), MsgBody: body }
        for (const [name, spell] of spellings) {
          const raw = spell(e)
          const parsed = JSON.parse(raw) as Record<string, unknown>
          const expected = JSON.stringify(answerFor(G, reference.decide(parsed).verdict))
          const response = r.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: G }, body: raw }) as ReceiverResponse
          assert.equal(response.status, 200)
          assert.equal(response.body, expected, name)
          if (response.bytes !== undefined) {
            assert.ok(Buffer.from(expected).equals(Buffer.from(response.bytes)), name)
            assert.equal({ ...response }.body, expected, `${name}: a copy of the answer has its body`)
          }
          const stamped = !body.some((el) => el.MsgType === 'TIMCustomElem')
          // The compact spelling is what the byte path is for: it must take it unless a string needs
          // a \u escape or a key could be reordered by the parse (integer-like keys).
          const plain =
            !/\\u/.test(JSON.stringify(body)) && keysOf(body).every((k) => /^[A-Za-z_][\x20-\x7e]*$/.test(k) && !/["\\]/.test(k))
          if (name === 'compact' && stamped && plain) assert.ok(response.bytes !== undefined, 'compact: answered from the request bytes')
          if (name === 'indented' && body.length > 0) assert.equal(response.bytes, undefined, 'indented: re-serialised')
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a masked and then stamped body is re-serialised, never copied from the request', () => {
    const p = createPolicy({ rules: [mask, stamp(false)], levels: LEVELS })
    const r = createReceiver({ sdkAppId: APP })
    r.on(G, p.decider)
    const raw = JSON.stringify(event({ sender: 'alice', body: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'call 13812345678' } }] }, 1))
    const response = r.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: G }, body: raw }) as ReceiverResponse
    assert.equal(response.bytes, undefined)
    assert.match(response.body, /"Text":"call \*{11}"/)
  })

  it('a body changed by a listener before the decision is answered as changed, not copied from the request', () => {
    const p = createPolicy({ rules: [stamp(false)], levels: LEVELS })
    const r = createReceiver({ sdkAppId: APP })
    r.onAny((e) => {
      const body = (e as { MsgBody?: Array<{ MsgContent: { Text: string } }> }).MsgBody
      if (body !== undefined) body[0]!.MsgContent.Text += ' (edited)'
    })
    r.on(G, p.decider)
    const raw = JSON.stringify(event({ sender: 'alice', body: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }] }, 1))
    const response = r.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: G }, body: raw }) as ReceiverResponse
    assert.equal(response.bytes, undefined)
    assert.match(response.body, /"Text":"hello \(edited\)"/)
  })
})

/** Every string value (not key, not MsgType) in `value`, as [holder, key] pairs, in order. */
const stringSlots = (value: unknown): Array<[Record<string, unknown>, string]> =>
  value === null || typeof value !== 'object'
    ? []
    : Object.entries(value).flatMap(([k, v]) =>
        typeof v === 'string' && k !== 'MsgType'
          ? [[value as Record<string, unknown>, k] as [Record<string, unknown>, string]]
          : stringSlots(v),
      )
/** Same-length changes: each keeps the string's UTF-16 length (and so the walk's unit count), not its characters. */
const sameLength: Array<(s: string) => string> = [
  (s) => '*'.repeat(s.length),
  (s) => [...s].reverse().join(''),
  (s) => s.replace(/\d/g, (d) => String((Number(d) + 1) % 10)),
]

describe('a string changed in place, keeping its length, is answered as changed', () => {
  it('an onAny listener that changes one string before the decider: the answer is the changed body, stamped', () => {
    const LEVEL_RULES = { rules: [stamp(false)], levels: LEVELS }
    fc.assert(
      fc.property(
        fc.array(wideElement, { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.nat({ max: sameLength.length - 1 }),
        (body, pick, how) => {
          const slots = stringSlots(body)
          fc.pre(slots.length > 0)
          const change = (b: unknown) => {
            const [holder, key] = stringSlots(b)[pick % slots.length]!
            holder[key] = sameLength[how]!(holder[key] as string)
          }
          const r = createReceiver({ sdkAppId: APP })
          r.onAny((e) => change((e as { MsgBody: unknown }).MsgBody))
          r.on(G, createPolicy(LEVEL_RULES).decider)
          const raw = JSON.stringify({ ...event({ sender: 'alice', body }, 1), MsgBody: body })
          const changed = JSON.parse(raw) as Record<string, unknown>
          change(changed.MsgBody)
          const expected = JSON.stringify(answerFor(G, createPolicy(LEVEL_RULES).decide(changed).verdict))
          const response = r.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: G }, body: raw }) as ReceiverResponse
          assert.equal(response.body, expected)
          if (response.bytes !== undefined) assert.equal(Buffer.from(response.bytes).toString('utf8'), expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a phone number starred by an onAny listener is not copied back from the request', () => {
    const r = createReceiver({ sdkAppId: APP })
    r.onAny((e) => {
      const el = (e as { MsgBody: Array<{ MsgContent: { Text: string } }> }).MsgBody[0]!
      el.MsgContent.Text = el.MsgContent.Text.replace(/\d{11}/, '*'.repeat(11))
    })
    r.on(G, createPolicy({ rules: [stamp(false)], levels: LEVELS }).decider)
    for (const text of ['call 13812345678', 'say "hi" 13812345678\n']) {
      const raw = JSON.stringify(event({ sender: 'alice', body: [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }] }, 1))
      const response = r.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: G }, body: raw }) as ReceiverResponse
      assert.ok(response.body.includes(JSON.stringify(text.replace(/\d{11}/, '***********'))), response.body)
      assert.ok(!response.body.includes('13812345678'), response.body)
    }
  })

  it('the decider called with a normalised event while ctx.rawBody holds the original answers the event it was given', () => {
    const p = createPolicy({ rules: [stamp(false)], levels: LEVELS })
    const original = event({ sender: 'alice', body: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'ÉCOLE' } }] }, 1)
    const normalised = event({ sender: 'alice', body: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'école' } }] }, 1)
    const v = p.decider(normalised, { command: G, rawBody: Buffer.from(JSON.stringify(original)) })
    const expected = JSON.stringify(answerFor(G, p.decide(normalised).verdict))
    const bytes = answerBytesOf(v)
    if (bytes !== undefined) assert.equal(bytes.toString('utf8'), expected)
    assert.ok(expected.includes('école'))
  })
})

describe('a stamp on a body that failed its schema (non-strict mode)', () => {
  for (const MsgBody of [[null], [{ MsgContent: { Text: 'hi' } }], [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }, null]]) {
    it(`MsgBody ${JSON.stringify(MsgBody)}: the decider fails (TIMHOOK_HANDLER_FAILED) and the fallback answers, no element added to it`, () => {
      const r = createReceiver({ sdkAppId: APP, strict: false })
      const codes: string[] = []
      const outcomes: Array<{ fallback: boolean; errorCode: string | undefined }> = []
      r.onError((e) => codes.push(e.code))
      r.onAnswer((o) => outcomes.push({ fallback: o.fallback, errorCode: o.errorCode }))
      r.on(G, createPolicy({ rules: [stamp(false)], levels: LEVELS }).decider)
      const raw = JSON.stringify({ ...event({ sender: 'alice', body: [] }, 1), MsgBody })
      const response = r.handle({ method: 'POST', query: { SdkAppid: APP, CallbackCommand: G }, body: raw }) as ReceiverResponse
      assert.equal(response.status, 200)
      assert.equal(response.body, JSON.stringify({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' }))
      assert.ok(codes.includes('TIMHOOK_HANDLER_FAILED'), codes.join())
      assert.deepEqual(outcomes, [{ fallback: true, errorCode: 'TIMHOOK_HANDLER_FAILED' }])
    })
  }
})
