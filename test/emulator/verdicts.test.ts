import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Emulator } from '../../src/emulator/index.js'
import { createGroup, emulatorFor, read, recordingBackend, rest, text, type Backend, type Reply } from './helpers.js'

const masked = [
  { MsgType: 'TIMTextElem', MsgContent: { Text: '***' } },
  { MsgType: 'TIMCustomElem', MsgContent: { Desc: 'CustomElement.MemberLevel', Data: 'LV1' } },
]

/** The backend decides by the message text, so one backend serves every case. */
function decide(command: string, body: Record<string, unknown>): Reply | undefined {
  if (!command.endsWith('BeforeSendMsg')) return undefined
  const said = ((body.MsgBody as Array<{ MsgContent: { Text?: string } }>)[0]!.MsgContent.Text ?? '') as string
  const group = command.startsWith('Group.')
  const answer = (fields: Record<string, unknown>): Reply => ({ body: { ActionStatus: 'OK', ErrorInfo: '', ErrorCode: 0, ...fields } })
  switch (said) {
    case 'deny':
      return answer({ ErrorCode: 1 })
    case 'custom':
      return answer({ ErrorCode: group ? 10123 : 120123, ErrorInfo: 'links are not allowed' })
    case 'drop':
      return answer({ ErrorCode: 2 })
    case 'rewrite':
      return answer({ MsgBody: masked, CloudCustomData: 'stamped' })
    case 'slow':
      return { delayMs: 600 }
    case 'status':
      return { status: 500, raw: 'internal error' }
    case 'garbage':
      return { raw: 'OK' }
    default:
      return undefined
  }
}

for (const failClosed of [false, true]) {
  describe(`emulator applies verdicts${failClosed ? ' (fail-closed)' : ''}`, () => {
    let backend: Backend
    let emulator: Emulator
    let group: string
    before(async () => {
      backend = await recordingBackend(decide)
      emulator = await emulatorFor(backend, { timeoutMs: 300, failClosed })
      group = await createGroup(emulator)
    })
    after(async () => {
      await emulator.close()
      await backend.close()
    })

    let random = 0
    const sendGroup = (t: string) =>
      rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: group, Random: ++random, MsgBody: text(t), CloudCustomData: 'orig' })
    const sendC2C = (t: string) =>
      rest(emulator, 'openim/sendmsg', {
        From_Account: 'u1',
        To_Account: `to-${t}`,
        MsgRandom: ++random,
        MsgBody: text(t),
        CloudCustomData: 'orig',
      })
    const groupMessages = async () =>
      (await read(emulator, `/emulator/groups/${encodeURIComponent(group)}/messages`)).body.Messages as Array<Record<string, unknown>>
    const c2cMessages = async (t: string) =>
      (await read(emulator, `/emulator/c2c/messages?a=u1&b=to-${t}`)).body.Messages as Array<Record<string, unknown>>
    const afterSends = (command: string, t: string) =>
      backend
        .of(command)
        .filter(
          (r) =>
            (r.body.MsgBody as Array<{ MsgContent: { Text?: string } }>)[0]!.MsgContent.Text === t ||
            (t === 'rewrite' && r.body.CloudCustomData === 'stamped'),
        )

    it('deny: the caller gets 10016 / 20006, nothing is stored, no after-send', async () => {
      const g = await sendGroup('deny')
      assert.deepEqual([g.ActionStatus, g.ErrorCode], ['FAIL', 10016])
      const c = await sendC2C('deny')
      assert.deepEqual([c.ActionStatus, c.ErrorCode], ['FAIL', 20006])
      await emulator.idle()
      assert.equal(
        (await groupMessages()).some((m) => (m.MsgBody as Array<{ MsgContent: { Text: string } }>)[0]!.MsgContent.Text === 'deny'),
        false,
      )
      assert.deepEqual(await c2cMessages('deny'), [])
      assert.deepEqual(afterSends('Group.CallbackAfterSendMsg', 'deny'), [])
      assert.deepEqual(afterSends('C2C.CallbackAfterSendMsg', 'deny'), [])
    })

    it('custom deny codes and their ErrorInfo reach the caller', async () => {
      const g = await sendGroup('custom')
      assert.deepEqual([g.ActionStatus, g.ErrorCode, g.ErrorInfo], ['FAIL', 10123, 'links are not allowed'])
      const c = await sendC2C('custom')
      assert.deepEqual([c.ActionStatus, c.ErrorCode, c.ErrorInfo], ['FAIL', 120123, 'links are not allowed'])
    })

    it('silent drop: the caller is told OK, nothing is stored, no after-send', async () => {
      const before = (await groupMessages()).length
      const g = await sendGroup('drop')
      assert.deepEqual([g.ActionStatus, g.ErrorCode], ['OK', 0])
      const c = await sendC2C('drop')
      assert.deepEqual([c.ActionStatus, c.ErrorCode], ['OK', 0])
      await emulator.idle()
      assert.equal((await groupMessages()).length, before)
      assert.deepEqual(await c2cMessages('drop'), [])
      assert.deepEqual(afterSends('Group.CallbackAfterSendMsg', 'drop'), [])
      assert.deepEqual(afterSends('C2C.CallbackAfterSendMsg', 'drop'), [])
      const withdraw = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'u1', To_Account: 'to-drop', MsgKey: c.MsgKey })
      assert.equal(withdraw.ErrorCode, 20022, 'a dropped message does not exist')
    })

    it('rewrite: the stored message and the after-send carry the new MsgBody and CloudCustomData', async () => {
      const g = await sendGroup('rewrite')
      assert.equal(g.ActionStatus, 'OK')
      const c = await sendC2C('rewrite')
      await emulator.idle()
      const stored = (await groupMessages()).find((m) => m.MsgSeq === g.MsgSeq)!
      assert.deepEqual([stored.MsgBody, stored.CloudCustomData], [masked, 'stamped'])
      const [c2cStored] = await c2cMessages('rewrite')
      assert.deepEqual([c2cStored!.MsgBody, c2cStored!.CloudCustomData], [masked, 'stamped'])
      const ga = backend.of('Group.CallbackAfterSendMsg').find((r) => r.body.MsgSeq === g.MsgSeq && r.body.GroupId === group)!
      assert.deepEqual([ga.body.MsgBody, ga.body.CloudCustomData], [masked, 'stamped'])
      const ca = backend.of('C2C.CallbackAfterSendMsg').find((r) => r.body.MsgKey === c.MsgKey)!
      assert.deepEqual([ca.body.MsgBody, ca.body.CloudCustomData], [masked, 'stamped'])
    })

    for (const failure of ['slow', 'status', 'garbage']) {
      it(`a failed callback (${failure}) ${failClosed ? 'refuses the message' : 'delivers the message unchanged (fail-open)'}`, async () => {
        const g = await sendGroup(failure)
        const c = await sendC2C(failure)
        await emulator.idle()
        if (failClosed) {
          assert.deepEqual([g.ActionStatus, g.ErrorCode, c.ErrorCode], ['FAIL', 10016, 20006])
          assert.match(g.ErrorInfo, /fail-closed/)
          assert.deepEqual(await c2cMessages(failure), [])
        } else {
          assert.deepEqual([g.ActionStatus, c.ActionStatus], ['OK', 'OK'])
          const stored = (await groupMessages()).find((m) => m.MsgSeq === g.MsgSeq)!
          assert.deepEqual([stored.MsgBody, stored.CloudCustomData], [text(failure), 'orig'])
          assert.equal((await c2cMessages(failure)).length, 1)
          assert.equal(afterSends('Group.CallbackAfterSendMsg', failure).length, 1)
        }
      })
    }
  })
}

describe('enabled commands', () => {
  it('only the enabled callbacks are sent; a disabled before-send delivers', async () => {
    const backend = await recordingBackend(decide)
    const emulator = await emulatorFor(backend, { commands: ['Group.CallbackAfterSendMsg'] })
    try {
      const g = await createGroup(emulator)
      const r = await rest(emulator, 'group_open_http_svc/send_group_msg', { GroupId: g, Random: 1, MsgBody: text('deny') })
      assert.equal(r.ActionStatus, 'OK')
      await emulator.idle()
      assert.deepEqual(
        backend.requests.map((x) => x.command),
        ['Group.CallbackAfterSendMsg'],
      )
    } finally {
      await emulator.close()
      await backend.close()
    }
  })

  it('refuses a command the emulator cannot fire, naming it', async () => {
    await assert.rejects(
      emulatorFor(undefined, { commands: ['Group.CallbackBeforeSendMsg', 'Sns.CallbackFriendAdd'] }),
      /does not fire Sns\.CallbackFriendAdd/,
    )
  })
})
