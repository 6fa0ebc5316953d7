/**
 * Property-based tests: thousands of generated and mutated requests. Whatever arrives, the answer
 * is a well-formed envelope with a sane status, nothing throws, and valid callbacks round-trip.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createReceiver } from '../../src/receiver/index.js'
import { ERRORS } from '../../src/protocol/errors.js'
import { sign } from '../../src/protocol/signature.js'
import { verdict } from '../../src/protocol/verdict.js'
import { messageCommands } from '../../src/protocol/schemas/messages.js'
import { APP, TOKEN, c2cWithdraw, groupBeforeSend, groupRecall } from '../helpers/callbacks.js'

// Field names the before-send schema documents: generated 'unknown' fields must avoid them.
const DOCUMENTED = new Set([
  'CallbackCommand',
  '__proto__',
  'constructor',
  ...Object.keys(messageCommands.find((c) => c.command === 'Group.CallbackBeforeSendMsg')!.fields),
])

const NOW = 1_700_000_000_000
const receiver = createReceiver({ sdkAppId: APP, token: TOKEN, bodyLimit: 4096, now: () => NOW, deadlineMs: 50 })
receiver.on('Group.CallbackBeforeSendMsg', (e) => (e.MsgBody.length > 3 ? verdict.drop() : verdict.allow()))
receiver.on('Group.CallbackAfterRecallMsg', () => {})
const received: unknown[] = []
receiver.onAny((e) => void received.push(e))

const STATUSES = new Set([200, ...Object.values(ERRORS).map((e) => e.status)])

function assertWellFormed(res: { status: number; headers: Record<string, string>; body: string }) {
  assert.ok(STATUSES.has(res.status), `status ${res.status}`)
  assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
  const a = JSON.parse(res.body) as Record<string, unknown>
  assert.equal(typeof a.ErrorCode, 'number')
  assert.equal(typeof a.ErrorInfo, 'string')
  if (res.status === 200) assert.equal(a.ActionStatus, 'OK')
  else {
    assert.equal(a.ActionStatus, 'FAIL')
    assert.match(a.ErrorInfo as string, /^TIMHOOK_[A-Z_]+: ./, 'a rejection names its cause')
  }
}

const signedQuery = (command: string, time = NOW / 1000) =>
  new URLSearchParams({ SdkAppid: APP, CallbackCommand: command, contenttype: 'json', Sign: sign(TOKEN, time), RequestTime: String(time) })

const queryArb = fc.dictionary(
  fc.constantFrom('SdkAppid', 'CallbackCommand', 'Sign', 'RequestTime', 'ClientIP', 'OptPlatform', 'contenttype', 'x'),
  fc.oneof(
    fc.string(),
    fc.constantFrom(APP, 'Group.CallbackBeforeSendMsg', String(NOW / 1000), sign(TOKEN, NOW / 1000)),
    // command names that are Object.prototype members must be unknown commands, not lookups
    fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'),
  ),
)
const bodyArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify({ CallbackCommand: 'Group.CallbackBeforeSendMsg', GroupId: 'g', MsgBody: v })),
)

describe('handle() under generated input', () => {
  it('answers arbitrary query and body with a well-formed envelope', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, bodyArb, fc.constantFrom('POST', 'GET', undefined), async (query, body, method) => {
        assertWellFormed(await receiver.handle({ method, query, body }))
      }),
      { numRuns: 3000 },
    )
  })

  it('answers mutations of valid signed callbacks (dropped, retyped, junk fields) with 200 or a named rejection', async () => {
    const base = [groupBeforeSend(), groupRecall(), c2cWithdraw()] as Array<Record<string, unknown>>
    const mutation = fc.record({
      which: fc.nat({ max: 2 }),
      drop: fc.subarray(['GroupId', 'MsgBody', 'MsgSeqList', 'From_Account', 'MsgKey', 'EventTime', 'CallbackCommand']),
      retype: fc.dictionary(
        fc.constantFrom('GroupId', 'MsgBody', 'MsgSeqList', 'EventTime', 'Random', 'MsgKey', 'TopicId'),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      extra: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 2 })),
      cut: fc.option(fc.nat({ max: 400 })),
    })
    await fc.assert(
      fc.asyncProperty(mutation, async (m) => {
        const original = base[m.which]!
        const body: Record<string, unknown> = { ...m.extra, ...original, ...m.retype }
        for (const k of m.drop) delete body[k]
        let text = JSON.stringify(body)
        if (m.cut !== null) text = text.slice(0, m.cut)
        const res = await receiver.handle({ method: 'POST', query: signedQuery(String(original.CallbackCommand)), body: text })
        assertWellFormed(res)
      }),
      { numRuns: 3000 },
    )
  })

  it('round-trips valid callbacks: every field reaches the handler, numbers as numbers', async () => {
    // fast-check generates __proto__/constructor keys on purpose; those bodies are rejected (tested above), not valid.
    const clean = (v: unknown) => !/"(?:__proto__|constructor)"\s*:/.test(JSON.stringify(v))
    const json = fc.jsonValue({ maxDepth: 2 }).filter(clean)
    const text = fc.string({ maxLength: 50 })
    const uint32 = fc.nat({ max: 4294967295 })
    const arb = fc.record({
      GroupId: fc.string({ minLength: 1, maxLength: 30 }),
      From_Account: fc.string({ minLength: 1, maxLength: 20 }),
      Random: uint32,
      asString: fc.boolean(),
      MsgBody: fc.array(
        fc.oneof(
          text.map((t) => ({ MsgType: 'TIMTextElem', MsgContent: { Text: t } })),
          fc.record({ MsgType: fc.constant('TIMFaceElem'), MsgContent: fc.record({ Index: fc.nat(), Data: text }) }),
          fc.record({ MsgType: fc.constant('TIMCustomElem'), MsgContent: fc.record({ Data: text, Desc: text }) }),
          fc.record({ MsgType: fc.constant('TIMNewFancyElem'), MsgContent: json }),
        ),
        { minLength: 1, maxLength: 5 },
      ),
      unknown: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !DOCUMENTED.has(k)),
        json,
      ),
    })
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        const body = {
          ...c.unknown,
          CallbackCommand: 'Group.CallbackBeforeSendMsg',
          GroupId: c.GroupId,
          From_Account: c.From_Account,
          Random: c.asString ? String(c.Random) : c.Random,
          MsgBody: c.MsgBody,
        }
        received.length = 0
        const res = await receiver.handle({ method: 'POST', query: signedQuery('Group.CallbackBeforeSendMsg'), body: JSON.stringify(body) })
        assert.equal(res.status, 200)
        assert.equal(JSON.parse(res.body).ErrorCode, c.MsgBody.length > 3 ? 2 : 0)
        const event = received[0] as Record<string, unknown>
        assert.equal(event.Random, c.Random, 'numeric strings arrive as numbers')
        assert.deepEqual(event.MsgBody, JSON.parse(JSON.stringify(c.MsgBody)), 'elements, known or not, are kept as sent')
        for (const [k, v] of Object.entries(c.unknown)) assert.deepEqual(event[k], JSON.parse(JSON.stringify(v)), `unknown field ${k} kept`)
      }),
      { numRuns: 1500 },
    )
  })

  it('never lets a request time outside the window through, and always lets one inside through', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: -100_000, max: 100_000 }), async (offset) => {
        const res = await receiver.handle({
          method: 'POST',
          query: signedQuery('Group.CallbackAfterRecallMsg', NOW / 1000 + offset),
          body: JSON.stringify(groupRecall()),
        })
        assert.equal(res.status, Math.abs(offset) <= 60 ? 200 : 401)
      }),
      { numRuns: 1000 },
    )
  })
})
