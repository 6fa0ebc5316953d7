import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Emulator } from '../../src/emulator/index.js'
import { createGroup, emulatorFor, read, recordingBackend, rest, text, type Answerer, type Backend } from './helpers.js'

/** The before-send answer of the message whose text is the key; OK for everything else. Each answer takes 200 ms. */
const slowBackend =
  (answers: Record<string, unknown>): Answerer =>
  (command, body) => {
    if (!command.endsWith('BeforeSendMsg')) return undefined
    const t = ((body.MsgBody as Array<{ MsgContent: { Text?: string } }>)[0]?.MsgContent.Text ?? '') as string
    return { delayMs: 200, body: answers[t] ?? { ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' } }
  }

describe('emulator de-duplication of concurrent resends (before-send answer pending)', () => {
  let backend: Backend
  let emulator: Emulator
  before(async () => {
    backend = await recordingBackend(
      slowBackend({
        denied: { ActionStatus: 'OK', ErrorCode: 1, ErrorInfo: '' },
        dropped: { ActionStatus: 'OK', ErrorCode: 2, ErrorInfo: '' },
      }),
    )
    emulator = await emulatorFor(backend)
  })
  after(async () => {
    await emulator.close()
    await backend.close()
  })

  it('group: two identical sends in flight → one before-callback, one stored message, the same answer to both', async () => {
    const g = await createGroup(emulator)
    const body = { GroupId: g, Random: 4242, MsgBody: text('hello') }
    const [a, b] = await Promise.all([
      rest(emulator, 'group_open_http_svc/send_group_msg', body),
      rest(emulator, 'group_open_http_svc/send_group_msg', body),
    ])
    assert.equal(a.ActionStatus, 'OK')
    assert.deepEqual(b, a)
    await emulator.idle()
    assert.equal(backend.of('Group.CallbackBeforeSendMsg').filter((r) => r.body.GroupId === g).length, 1)
    assert.equal(backend.of('Group.CallbackAfterSendMsg').filter((r) => r.body.GroupId === g).length, 1)
    assert.equal(((await read(emulator, `/emulator/groups/${encodeURIComponent(g)}/messages`)).body.Messages as unknown[]).length, 1)
  })

  it('one-to-one: two identical sends in flight → one before-callback, one stored message, the same MsgKey to both', async () => {
    const body = { From_Account: 'cc1', To_Account: 'cc2', MsgSeq: 9, MsgRandom: 4242, MsgBody: text('hello') }
    const [a, b] = await Promise.all([rest(emulator, 'openim/sendmsg', body), rest(emulator, 'openim/sendmsg', body)])
    assert.equal(a.ActionStatus, 'OK')
    assert.deepEqual(b, a)
    await emulator.idle()
    assert.equal(backend.of('C2C.CallbackBeforeSendMsg').filter((r) => r.body.From_Account === 'cc1').length, 1)
    assert.equal(((await read(emulator, '/emulator/c2c/messages?a=cc1&b=cc2')).body.Messages as unknown[]).length, 1)
  })

  it('a denied send: the concurrent resend gets the same FAIL; once settled it is forgotten, so a later resend is decided again', async () => {
    const g = await createGroup(emulator)
    const body = { GroupId: g, Random: 7, MsgBody: text('denied') }
    const [a, b] = await Promise.all([
      rest(emulator, 'group_open_http_svc/send_group_msg', body),
      rest(emulator, 'group_open_http_svc/send_group_msg', body),
    ])
    assert.deepEqual([a.ActionStatus, a.ErrorCode], ['FAIL', 10016])
    assert.deepEqual(b, a)
    const later = await rest(emulator, 'group_open_http_svc/send_group_msg', body)
    assert.equal(later.ErrorCode, 10016)
    assert.equal(backend.of('Group.CallbackBeforeSendMsg').filter((r) => r.body.GroupId === g).length, 2)
  })

  it('a dropped send: the concurrent resend gets the same OK with MsgSeq 0; nothing is stored and a later resend is decided again', async () => {
    const g = await createGroup(emulator)
    const body = { GroupId: g, Random: 8, MsgBody: text('dropped') }
    const [a, b] = await Promise.all([
      rest(emulator, 'group_open_http_svc/send_group_msg', body),
      rest(emulator, 'group_open_http_svc/send_group_msg', body),
    ])
    assert.deepEqual([a.ActionStatus, a.MsgSeq], ['OK', 0])
    assert.deepEqual(b, a)
    await rest(emulator, 'group_open_http_svc/send_group_msg', body)
    assert.equal(backend.of('Group.CallbackBeforeSendMsg').filter((r) => r.body.GroupId === g).length, 2)
    assert.equal(((await read(emulator, `/emulator/groups/${encodeURIComponent(g)}/messages`)).body.Messages as unknown[]).length, 0)
  })
})
