import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Emulator } from '../../src/emulator/index.js'
import { emulatorFor, read, recordingBackend, rest, text, type Backend } from './helpers.js'

describe('emulator one-to-one REST API', () => {
  let backend: Backend
  let emulator: Emulator
  before(async () => {
    backend = await recordingBackend()
    emulator = await emulatorFor(backend)
  })
  after(async () => {
    await emulator.close()
    await backend.close()
  })

  const send = (body: Record<string, unknown>) =>
    rest(emulator, 'openim/sendmsg', { MsgRandom: Math.floor(Math.random() * 2 ** 32), MsgBody: text('hi'), ...body })

  it('answers MsgKey = MsgSeq_MsgRandom_MsgTime and fires before/after-send with every documented field', async () => {
    const r = await rest(emulator, 'openim/sendmsg', {
      From_Account: 'jared',
      To_Account: 'jonh',
      MsgSeq: 48374,
      MsgRandom: 3998651049,
      MsgBody: text('hi'),
      CloudCustomData: 'cc',
    })
    assert.equal(r.ActionStatus, 'OK')
    assert.equal(r.MsgKey, `48374_3998651049_${r.MsgTime}`)
    await emulator.idle()
    const b = backend.of('C2C.CallbackBeforeSendMsg').find((x) => x.body.MsgKey === r.MsgKey)!
    assert.deepEqual(Object.keys(b.body), [
      'CallbackCommand',
      'From_Account',
      'To_Account',
      'MsgSeq',
      'MsgRandom',
      'MsgTime',
      'MsgKey',
      'MsgId',
      'OnlineOnlyFlag',
      'MsgBody',
      'CloudCustomData',
      'EventTime',
    ])
    assert.equal(b.body.MsgRandom, 3998651049)
    assert.equal(b.query.get('OptPlatform'), 'RESTAPI')
    const a = backend.of('C2C.CallbackAfterSendMsg').find((x) => x.body.MsgKey === r.MsgKey)!
    assert.equal(a.body.SendMsgResult, 0)
    assert.equal(a.body.ErrorInfo, 'send msg succeed')
    assert.equal(a.body.UnreadMsgNum, 1)
    assert.ok(Number(a.body.EventTime) > 1e12)
  })

  it('counts unread per receiver across conversations; NoUnread does not count; a withdraw uncounts', async () => {
    const keys: string[] = []
    for (const from of ['a1', 'a2', 'a1']) keys.push((await send({ From_Account: from, To_Account: 'reader' })).MsgKey as string)
    await send({ From_Account: 'a3', To_Account: 'reader', SendMsgControl: ['NoUnread'] })
    assert.equal((await read(emulator, '/emulator/unread?account=reader')).body.UnreadMsgNum, 3)
    const w = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'a2', To_Account: 'reader', MsgKey: keys[1] })
    assert.equal(w.ActionStatus, 'OK')
    await emulator.idle()
    const event = backend.of('C2C.CallbackAfterMsgWithDraw').find((x) => x.body.MsgKey === keys[1])!
    assert.deepEqual(Object.keys(event.body), ['CallbackCommand', 'From_Account', 'To_Account', 'MsgKey', 'UnreadMsgNum', 'EventTime'])
    assert.equal(event.body.UnreadMsgNum, 2)
    const afterSends = backend
      .of('C2C.CallbackAfterSendMsg')
      .filter((x) => x.body.To_Account === 'reader')
      .map((x) => x.body.UnreadMsgNum)
    assert.deepEqual(afterSends, [1, 2, 3, 3])
  })

  it('withdraw: 20022 for an unknown key or the wrong pair, 20023 when already withdrawn, field codes for missing fields', async () => {
    const key = (await send({ From_Account: 'w1', To_Account: 'w2' })).MsgKey as string
    assert.equal(
      (await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'w1', To_Account: 'w2', MsgKey: '1_2_3' })).ErrorCode,
      20022,
    )
    assert.equal((await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'w2', To_Account: 'w1', MsgKey: key })).ErrorCode, 20022)
    assert.equal((await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'w1', To_Account: 'w2', MsgKey: key })).ErrorCode, 0)
    const again = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'w1', To_Account: 'w2', MsgKey: key })
    assert.deepEqual([again.ActionStatus, again.ErrorCode], ['FAIL', 20023])
    assert.equal((await rest(emulator, 'openim/admin_msgwithdraw', { To_Account: 'w2', MsgKey: key })).ErrorCode, 90008)
    assert.equal((await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'w1', MsgKey: key })).ErrorCode, 90003)
    assert.equal((await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'w1', To_Account: 'w2' })).ErrorCode, 90054)
    const view = await read(emulator, '/emulator/c2c/messages?a=w2&b=w1')
    assert.deepEqual(
      (view.body.Messages as Array<{ Withdrawn: boolean }>).map((m) => m.Withdrawn),
      [true],
    )
  })

  it('refuses missing or mistyped fields with sendmsg codes', async () => {
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ MsgRandom: 1, MsgBody: text('x') }, 90003],
      [{ To_Account: 'b', MsgBody: text('x') }, 90005],
      [{ To_Account: 'b', MsgRandom: 'x', MsgBody: text('x') }, 90005],
      [{ To_Account: 'b', MsgRandom: 1 }, 90002],
      [{ To_Account: 'b', MsgRandom: 1, MsgBody: { MsgType: 'TIMTextElem' } }, 90002],
      [{ To_Account: 'b', MsgRandom: 1, MsgBody: text('x'), MsgLifeTime: 604801 }, 90026],
      [{ To_Account: 'b', From_Account: 5, MsgRandom: 1, MsgBody: text('x') }, 90008],
    ]
    for (const [body, code] of cases) {
      const r = await rest(emulator, 'openim/sendmsg', body)
      assert.deepEqual([r.ActionStatus, r.ErrorCode], ['FAIL', code], JSON.stringify(body))
    }
  })

  it('a resend (same sender, MsgSeq, MsgRandom, content) within 120 s gets the first MsgKey and is not delivered twice', async () => {
    const body = { From_Account: 'd1', To_Account: 'd2', MsgSeq: 5, MsgRandom: 6, MsgBody: text('same') }
    const first = await rest(emulator, 'openim/sendmsg', body)
    const dup = await rest(emulator, 'openim/sendmsg', body)
    assert.equal(dup.MsgKey, first.MsgKey)
    const other = await rest(emulator, 'openim/sendmsg', { ...body, MsgBody: text('different') })
    assert.equal(other.ActionStatus, 'OK')
    assert.equal(((await read(emulator, '/emulator/c2c/messages?a=d1&b=d2')).body.Messages as unknown[]).length, 2)
  })

  it('MsgLifeTime 0 sends online-only (OnlineOnlyFlag 1)', async () => {
    const r = await send({ From_Account: 'o1', To_Account: 'o2', MsgLifeTime: 0 })
    await emulator.idle()
    assert.equal(backend.of('C2C.CallbackAfterSendMsg').find((x) => x.body.MsgKey === r.MsgKey)!.body.OnlineOnlyFlag, 1)
  })
})

describe('emulator one-to-one store: MsgKey is unique per direction only', () => {
  it('alice→bob and carol→dave with the same MsgSeq/MsgRandom in the same second are both kept and both withdrawable', async () => {
    const now = Date.UTC(2025, 0, 1, 12, 0, 0, 500)
    const emulator = await emulatorFor(undefined, { now: () => now })
    try {
      const ab = await rest(emulator, 'openim/sendmsg', {
        From_Account: 'alice',
        To_Account: 'bob',
        MsgSeq: 1,
        MsgRandom: 1,
        MsgBody: text('to bob'),
      })
      const cd = await rest(emulator, 'openim/sendmsg', {
        From_Account: 'carol',
        To_Account: 'dave',
        MsgSeq: 1,
        MsgRandom: 1,
        MsgBody: text('to dave'),
      })
      assert.equal(ab.MsgKey, cd.MsgKey)
      const w1 = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'alice', To_Account: 'bob', MsgKey: ab.MsgKey })
      assert.deepEqual([w1.ActionStatus, w1.ErrorCode], ['OK', 0])
      const w2 = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'carol', To_Account: 'dave', MsgKey: cd.MsgKey })
      assert.deepEqual([w2.ActionStatus, w2.ErrorCode], ['OK', 0])
      const view = await read(emulator, '/emulator/c2c/messages?a=alice&b=bob')
      assert.deepEqual(
        (view.body.Messages as Array<{ Withdrawn: boolean; MsgBody: unknown }>).map((m) => [m.Withdrawn, m.MsgBody]),
        [[true, text('to bob')]],
      )
    } finally {
      await emulator.close()
    }
  })

  it('withdraw in strict mode (accounts set) refuses unknown accounts with 90008 / 90003, as sendmsg does', async () => {
    const emulator = await emulatorFor(undefined, { accounts: ['alice', 'bob'] })
    try {
      const key = (await rest(emulator, 'openim/sendmsg', { From_Account: 'alice', To_Account: 'bob', MsgRandom: 3, MsgBody: text('x') }))
        .MsgKey
      const badFrom = await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'mallory', To_Account: 'bob', MsgKey: key })
      assert.equal(badFrom.ErrorCode, 90008)
      assert.match(badFrom.ErrorInfo, /mallory.*not an imported account/)
      assert.equal(
        (await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'alice', To_Account: 'zed', MsgKey: key })).ErrorCode,
        90003,
      )
      assert.equal(
        (await rest(emulator, 'openim/admin_msgwithdraw', { From_Account: 'alice', To_Account: 'bob', MsgKey: key })).ErrorCode,
        0,
      )
    } finally {
      await emulator.close()
    }
  })
})
