/**
 * End to end: the emulator sends callbacks to our own receiver over real sockets. Both sides are
 * written against Tencent's documented protocol only, so agreement here checks each against the other.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Emulator } from '../../src/emulator/index.js'
import { verdict } from '../../src/protocol/verdict.js'
import type {
  C2CAfterMsgWithDrawEvent,
  GroupAfterRecallMsgEvent,
  GroupAfterSendMsgEvent,
  C2CAfterSendMsgEvent,
} from '../../src/protocol/index.js'
import type { TimhookError } from '../../src/protocol/errors.js'
import { toNodeHandler } from '../../src/adapters/node.js'
import { createReceiver } from '../../src/receiver/index.js'
import { listen } from '../helpers/http.js'
import { APP, createGroup, emulatorFor, read, rest, text } from './helpers.js'

const stamp = { MsgType: 'TIMCustomElem', MsgContent: { Desc: 'CustomElement.MemberLevel', Data: 'LV1' } } as const
const firstText = (body: ReadonlyArray<{ MsgType: string; MsgContent?: unknown }>) =>
  (body[0]?.MsgContent as { Text?: string } | undefined)?.Text ?? ''

/** A receiver whose before-send deciders choose by the message text. */
async function startBackend(token: string | undefined) {
  const receiver = createReceiver({ sdkAppId: APP, token })
  const seen = {
    groupAfterSend: [] as GroupAfterSendMsgEvent[],
    groupRecall: [] as GroupAfterRecallMsgEvent[],
    c2cAfterSend: [] as C2CAfterSendMsgEvent[],
    c2cWithdraw: [] as C2CAfterMsgWithDrawEvent[],
    errors: [] as TimhookError[],
    invalid: [] as string[],
    platforms: new Set<string | undefined>(),
  }
  const decide = (said: string, family: 'group' | 'c2c', body: ReadonlyArray<{ MsgType: string; MsgContent?: unknown }>) => {
    switch (said) {
      case 'deny':
        return verdict.deny()
      case 'custom':
        return verdict.deny({ code: family === 'group' ? 10150 : 120150, info: 'no links, please' })
      case 'drop':
        return verdict.drop()
      case 'rewrite':
        return verdict.allow({ msgBody: [...(body as never[]), stamp], cloudCustomData: 'level=1' })
      default:
        return verdict.allow()
    }
  }
  receiver.on('Group.CallbackBeforeSendMsg', (e) => decide(firstText(e.MsgBody), 'group', e.MsgBody))
  receiver.on('C2C.CallbackBeforeSendMsg', (e) => decide(firstText(e.MsgBody), 'c2c', e.MsgBody))
  receiver.on('Group.CallbackAfterSendMsg', (e) => void seen.groupAfterSend.push(e))
  receiver.on('Group.CallbackAfterRecallMsg', (e) => void seen.groupRecall.push(e))
  receiver.on('C2C.CallbackAfterSendMsg', (e) => void seen.c2cAfterSend.push(e))
  receiver.on('C2C.CallbackAfterMsgWithDraw', (e) => void seen.c2cWithdraw.push(e))
  receiver.onAny((_e, ctx) => {
    seen.platforms.add(ctx.optPlatform)
    if (!ctx.valid) seen.invalid.push(`${ctx.command}: ${ctx.problem}`)
  })
  receiver.onError((err) => void seen.errors.push(err))
  const server = await listen(toNodeHandler(receiver))
  return { url: server.url, seen, close: server.close }
}

async function withPair(
  receiverToken: string | undefined,
  emulatorToken: string | undefined,
  run: (emulator: Emulator, seen: Awaited<ReturnType<typeof startBackend>>['seen']) => Promise<void>,
) {
  const backend = await startBackend(receiverToken)
  const emulator = await emulatorFor(backend, { token: emulatorToken })
  try {
    await run(emulator, backend.seen)
  } finally {
    await emulator.close()
    await backend.close()
  }
}

for (const token of ['e2e-token', undefined]) {
  describe(`emulator → receiver, ${token === undefined ? 'without a token' : 'with a token'}`, () => {
    it('Group.CallbackBeforeSendMsg: every verdict reaches the REST caller and the stored message', () =>
      withPair(token, token, async (emulator, seen) => {
        const g = await createGroup(emulator)
        const send = (t: string, Random: number) =>
          rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: g, Random, From_Account: 'jared', MsgBody: text(t) })
        const allow = await send('hello', 1)
        const rewrite = await send('rewrite', 2)
        const deny = await send('deny', 3)
        const custom = await send('custom', 4)
        const drop = await send('drop', 5)
        assert.deepEqual([allow.ActionStatus, allow.MsgSeq], ['OK', 1])
        assert.deepEqual([rewrite.ActionStatus, rewrite.MsgSeq], ['OK', 2])
        assert.deepEqual([deny.ActionStatus, deny.ErrorCode], ['FAIL', 10016])
        assert.deepEqual([custom.ActionStatus, custom.ErrorCode, custom.ErrorInfo], ['FAIL', 10150, 'no links, please'])
        assert.deepEqual([drop.ActionStatus, drop.ErrorCode], ['OK', 0])
        await emulator.idle()
        const stored = (await read(emulator, `/emulator/groups/${encodeURIComponent(g)}/messages`)).body.Messages as Array<{
          MsgSeq: number
          MsgBody: unknown[]
          CloudCustomData?: string
        }>
        assert.deepEqual(
          stored.map((m) => m.MsgSeq),
          [1, 2],
        )
        assert.deepEqual(stored[1]!.MsgBody, [...text('rewrite'), stamp])
        assert.equal(stored[1]!.CloudCustomData, 'level=1')
        assert.deepEqual(
          seen.groupAfterSend.map((e) => [e.MsgSeq, firstText(e.MsgBody)]),
          [
            [1, 'hello'],
            [2, 'rewrite'],
          ],
        )
        assert.deepEqual(seen.groupAfterSend[1]!.MsgBody, [...text('rewrite'), stamp])
        assert.deepEqual([seen.errors, seen.invalid], [[], []])
        assert.deepEqual([...seen.platforms], ['RESTAPI'])
      }))

    it('Group.CallbackAfterRecallMsg reaches the typed listener with the recalled MsgSeqs, in topics too', () =>
      withPair(token, token, async (emulator, seen) => {
        const community = await createGroup(emulator, { Type: 'Community', Name: 'c', SupportTopic: 1 })
        const topic = (await rest(emulator, 'million_group_open_http_svc/create_topic', { GroupId: community, TopicName: 't' }))
          .TopicId as string
        for (let i = 1; i <= 3; i++)
          await rest(emulator, 'group_open_http_svc/send_group_msg', {
            GroupId: community,
            TopicId: topic,
            Random: i,
            MsgBody: text(`m${i}`),
          })
        const r = await rest(emulator, 'group_open_http_svc/group_msg_recall', {
          GroupId: community,
          TopicId: topic,
          MsgSeqList: [{ MsgSeq: 1 }, { MsgSeq: 3 }, { MsgSeq: 9 }],
        })
        assert.deepEqual(
          (r.RecallRetList as Array<{ RetCode: number }>).map((x) => x.RetCode),
          [0, 0, 10030],
        )
        await emulator.idle()
        assert.equal(seen.groupRecall.length, 1)
        const e = seen.groupRecall[0]!
        assert.deepEqual([e.GroupId, e.TopicId, e.Type, e.Operator_Account], [community, topic, 'Community', 'admin'])
        assert.deepEqual(
          e.MsgSeqList.map((m) => m.MsgSeq),
          [1, 3],
        )
        assert.equal(typeof e.EventTime, 'number')
        assert.deepEqual([seen.errors, seen.invalid], [[], []])
      }))

    it('C2C before-send verdicts and C2C.CallbackAfterMsgWithDraw with UnreadMsgNum', () =>
      withPair(token, token, async (emulator, seen) => {
        const send = (t: string) =>
          rest(emulator, 'openim/sendmsg', {
            From_Account: 'jared',
            To_Account: 'jonh',
            MsgRandom: Math.floor(Math.random() * 2 ** 32),
            MsgBody: text(t),
          })
        const allow = await send('hi')
        const rewrite = await send('rewrite')
        const deny = await send('deny')
        const custom = await send('custom')
        const drop = await send('drop')
        assert.equal(allow.ActionStatus, 'OK')
        assert.equal(rewrite.ActionStatus, 'OK')
        assert.deepEqual([deny.ActionStatus, deny.ErrorCode], ['FAIL', 20006])
        assert.deepEqual([custom.ErrorCode, custom.ErrorInfo], [120150, 'no links, please'])
        assert.deepEqual([drop.ActionStatus, drop.ErrorCode], ['OK', 0])
        const w = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'jared', To_Account: 'jonh', MsgKey: allow.MsgKey })
        assert.equal(w.ActionStatus, 'OK')
        await emulator.idle()
        assert.deepEqual(
          seen.c2cAfterSend.map((e) => [e.MsgKey, e.UnreadMsgNum]),
          [
            [allow.MsgKey, 1],
            [rewrite.MsgKey, 2],
          ],
        )
        assert.deepEqual(seen.c2cAfterSend[1]!.MsgBody, [...text('rewrite'), stamp])
        assert.equal(seen.c2cWithdraw.length, 1)
        assert.deepEqual([seen.c2cWithdraw[0]!.MsgKey, seen.c2cWithdraw[0]!.UnreadMsgNum], [allow.MsgKey, 1])
        assert.deepEqual([seen.errors, seen.invalid], [[], []])
      }))
  })
}

describe('emulator → receiver with a wrong or missing token', () => {
  for (const [name, emulatorToken, code] of [
    ['a wrong token', 'not-the-token', 'TIMHOOK_SIGN_MISMATCH'],
    ['no token', undefined, 'TIMHOOK_SIGN_MISSING'],
  ] as const) {
    it(`${name}: the receiver rejects every callback, and the REST caller sees fail-open delivery`, () =>
      withPair('right-token', emulatorToken, async (emulator, seen) => {
        const g = await createGroup(emulator)
        const r = await rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: 1, MsgBody: text('deny') })
        assert.deepEqual([r.ActionStatus, r.MsgSeq], ['OK', 1], 'a rejected before-send is a failed callback: delivered')
        const c = await rest(emulator, 'openim/sendmsg', { From_Account: 'a', To_Account: 'b', MsgRandom: 1, MsgBody: text('deny') })
        assert.equal(c.ActionStatus, 'OK')
        await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'a', To_Account: 'b', MsgKey: c.MsgKey })
        await emulator.idle()
        assert.deepEqual([seen.groupAfterSend, seen.c2cWithdraw], [[], []])
        assert.equal(seen.errors.length, 5)
        assert.ok(seen.errors.every((e) => e.isRejection && e.code === code))
        const outcomes = emulator.callbacks().map((x) => x.outcome)
        assert.ok(outcomes.every((o) => o?.kind === 'failed' && o.reason === 'status' && o.status === 401))
      }))
  }
})
