/**
 * A body that misses its command's schema: in the default mode it reaches its typed handler (and a
 * before-event's decider) with `ctx.valid === false` and `ctx.problem` naming the difference; in
 * strict mode it is refused with a 400 naming the field, and no handler runs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createPolicy } from '../../src/policy/index.js'
import type { TimhookError } from '../../src/protocol/errors.js'
import { commandSchemas } from '../../src/protocol/schemas/index.js'
import { isBeforeCommand } from '../../src/protocol/commands.js'
import { verdict } from '../../src/protocol/verdict.js'
import { createReceiver, type CallbackContext } from '../../src/receiver/index.js'
import { APP, answerOf, groupBeforeSend, query } from '../helpers/callbacks.js'
import { loadCorpus } from '../helpers/corpus.js'

function setup(
  command: string,
  strict: boolean,
  decide: (e: Record<string, unknown>, ctx: CallbackContext) => unknown = () => verdict.allow(),
) {
  const receiver = createReceiver({ sdkAppId: APP, strict })
  const seen: Array<{ event: Record<string, unknown>; ctx: CallbackContext }> = []
  const errors: TimhookError[] = []
  receiver.on(
    command as 'Group.CallbackAfterSendMsg',
    ((event: Record<string, unknown>, ctx: CallbackContext) => {
      seen.push({ event, ctx })
      return isBeforeCommand(command) ? decide(event, ctx) : undefined
    }) as never,
  )
  receiver.onError((e) => errors.push(e))
  const send = (body: unknown) => receiver.handle({ method: 'POST', query: query(command), body: JSON.stringify(body) })
  return { receiver, seen, errors, send }
}

const requiredOf = (command: string) =>
  Object.entries(commandSchemas.find((c) => c.command === command)!.fields).flatMap(([name, f]) =>
    'schema' in f && 'required' in f && f.required === true ? [name] : [],
  )

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)

const afterSend = () => ({
  CallbackCommand: 'Group.CallbackAfterSendMsg',
  Type: 'AVChatRoom',
  From_Account: 'alice',
  MsgTime: 1700448788,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi' } }],
})

describe('bodies that miss their schema', () => {
  it('an after-send without GroupId reaches on(command) by default, valid false, the problem naming GroupId', async () => {
    const { seen, errors, send } = setup('Group.CallbackAfterSendMsg', false)
    const res = await send(afterSend())
    assert.equal(res.status, 200)
    assert.equal(answerOf(res).ErrorCode, 0)
    assert.equal(seen.length, 1)
    assert.equal(seen[0]!.ctx.valid, false)
    assert.match(seen[0]!.ctx.problem!, /GroupId/)
    assert.deepEqual(seen[0]!.event, afterSend(), 'every field as sent')
    assert.equal(errors[0]?.code, 'TIMHOOK_EVENT_SCHEMA_MISMATCH')
    assert.equal(errors[0]?.isRejection, false)
  })

  it('strict mode refuses it with a 400 that names GroupId, and no handler runs', async () => {
    const { seen, send } = setup('Group.CallbackAfterSendMsg', true)
    const res = await send(afterSend())
    assert.equal(res.status, 400)
    assert.match(answerOf(res).ErrorInfo, /^TIMHOOK_INVALID_EVENT: Group\.CallbackAfterSendMsg does not match its schema: .*GroupId/)
    assert.equal(seen.length, 0)
  })

  it('a valid body still says valid: true, with no problem (an AVChatRoom after-send needs no MsgSeq)', async () => {
    const { seen, send } = setup('Group.CallbackAfterSendMsg', false)
    await send({ ...afterSend(), GroupId: '@TGS#aJ6Z2YHNM' })
    assert.equal(seen[0]?.ctx.valid, true)
    assert.equal(seen[0]?.ctx.problem, undefined)
  })

  it("a before-event's decider gets an invalid body and its verdict is the answer", async () => {
    const { seen, send } = setup('Group.CallbackBeforeSendMsg', false, (_e, ctx) => (ctx.valid ? verdict.allow() : verdict.deny()))
    const { GroupId: _, ...noGroup } = groupBeforeSend('hi')
    const res = await send(noGroup)
    assert.equal(res.status, 200)
    assert.equal(answerOf(res).ErrorCode, 1, 'the decider saw ctx.valid false and denied')
    assert.match(seen[0]!.ctx.problem!, /GroupId/)
  })

  it('a decider that throws on a body without the fields it reads gets the fallback verdict, not a crash', async () => {
    const { errors, send } = setup('Group.CallbackBeforeSendMsg', false, (e) =>
      verdict.deny({ code: 10100, info: String((e.MsgBody as unknown[]).length) }),
    )
    const { MsgBody: _, ...noBody } = groupBeforeSend('hi')
    const res = await send(noBody)
    assert.equal(res.status, 200)
    assert.equal(answerOf(res).ErrorCode, 0, 'the fallback verdict: allow')
    assert.deepEqual(
      errors.map((e) => e.code),
      ['TIMHOOK_EVENT_SCHEMA_MISMATCH', 'TIMHOOK_HANDLER_FAILED'],
    )
  })

  it('the moderation policy decides on what is there: no MsgBody is allowed with a reason, a bad word without GroupId is denied', async () => {
    const policy = createPolicy({ rules: [{ name: 'spam', when: { keywords: ['buy now'] }, then: 'deny' }] })
    const decisions: unknown[] = []
    const { send } = setup('Group.CallbackBeforeSendMsg', false, (e, ctx) => {
      const v = policy.decider(e, ctx)
      decisions.push(ctx.meta.policy)
      return v
    })
    const { MsgBody: _, ...noBody } = groupBeforeSend('x')
    const r1 = await send(noBody)
    assert.equal(answerOf(r1).ErrorCode, 0)
    assert.match((decisions[0] as { reason: string }).reason, /no MsgBody/)
    const { GroupId: __, From_Account: ___, ...noGroup } = groupBeforeSend('BUY NOW')
    assert.equal(answerOf(await send(noGroup)).ErrorCode, 1)
    const odd = {
      ...groupBeforeSend('x'),
      MsgBody: [null, { MsgType: 'TIMTextElem' }, { MsgType: 'TIMTextElem', MsgContent: { Text: 7 } }, 'buy now'],
    }
    const r3 = await send(odd)
    assert.equal(r3.status, 200)
    assert.equal(answerOf(r3).ErrorCode, 0, 'elements it cannot read are skipped')
  })

  it('any corpus example with a required field removed or given another type reaches its handler by default and is refused in strict mode, both naming the field (generated)', async () => {
    const examples = loadCorpus().filter((e) => requiredOf(e.command).length > 0)
    const wrong = fc.constantFrom<unknown>(null, true, { x: 1 }, [1, 'a'], 'not a number or text?')
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...examples), fc.nat(), fc.option(wrong, { nil: undefined }), async (example, i, replacement) => {
        const required = requiredOf(example.command)
        const field = required[i % required.length]!
        const body = structuredClone(example.body)
        if (replacement === undefined) delete body[field]
        else {
          // Only a value of another JSON kind: an object for an object field, or an array of numbers
          // and text for an array of strings, could still be valid.
          fc.pre(kind(replacement) !== kind(example.body[field]))
          body[field] = replacement
        }
        const lenient = setup(example.command, false)
        const r1 = await lenient.send(body)
        assert.equal(r1.status, 200, answerOf(r1).ErrorInfo)
        assert.equal(lenient.seen.length, 1, 'the typed handler ran')
        assert.equal(lenient.seen[0]!.ctx.valid, false)
        assert.ok(lenient.seen[0]!.ctx.problem!.includes(field), `${example.file} ${field}: ${lenient.seen[0]!.ctx.problem}`)
        const strict = setup(example.command, true)
        const r2 = await strict.send(body)
        assert.equal(r2.status, 400)
        assert.ok(answerOf(r2).ErrorInfo.includes(field), answerOf(r2).ErrorInfo)
        assert.equal(strict.seen.length, 0)
      }),
      { numRuns: 200 },
    )
  })
})
