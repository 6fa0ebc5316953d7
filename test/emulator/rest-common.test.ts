import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { Emulator } from '../../src/emulator/index.js'
import { createGroup, emulatorFor, read, rest, restQuery, text } from './helpers.js'

const APIS = [
  'group_open_http_svc/create_group',
  'million_group_open_http_svc/create_topic',
  'group_open_http_svc/send_group_msg',
  'group_open_http_svc/group_msg_recall',
  'openim/sendmsg',
  'openim/admin_msgwithdraw',
]

describe('emulator REST: common query, bodies, robustness', () => {
  let emulator: Emulator
  before(async () => {
    emulator = await emulatorFor(undefined)
  })
  after(() => emulator.close())

  it('checks the documented query: sdkappid, identifier, usersig, random, contenttype=json', async () => {
    const api = 'group_open_http_svc/create_group'
    const body = { Type: 'Public', Name: 'x' }
    const without = (key: string) => {
      const q = new URLSearchParams(restQuery())
      q.delete(key)
      return q.toString()
    }
    assert.equal((await rest(emulator, api, body, without('sdkappid'))).ErrorCode, 60012)
    assert.equal((await rest(emulator, api, body, restQuery({ sdkappid: '1400000001' }))).ErrorCode, 60006)
    assert.equal((await rest(emulator, api, body, without('identifier'))).ErrorCode, 60004)
    assert.equal((await rest(emulator, api, body, without('usersig'))).ErrorCode, 70009)
    assert.equal((await rest(emulator, api, body, without('random'))).ErrorCode, 60002)
    assert.equal((await rest(emulator, api, body, restQuery({ random: '4294967296' }))).ErrorCode, 60002)
    assert.equal((await rest(emulator, api, body, restQuery({ contenttype: 'xml' }))).ErrorCode, 60002)
    assert.equal((await rest(emulator, api, body)).ActionStatus, 'OK')
  })

  it('refuses a body that is not a JSON object: 60003 for group APIs, 90001 for openim', async () => {
    for (const raw of ['', '{', '[1]', 'null', '{"__proto__":{"x":1}}']) {
      const g = await rest(emulator, 'group_open_http_svc/send_group_msg', raw)
      assert.deepEqual([g.ActionStatus, g.ErrorCode], ['FAIL', 60003], raw)
      const c = await rest(emulator, 'openim/sendmsg', raw)
      assert.deepEqual([c.ActionStatus, c.ErrorCode], ['FAIL', 90001], raw)
      assert.match(c.ErrorInfo, /JSON object/)
    }
  })

  it('answers an unknown API and a GET with a FAIL envelope, and unknown paths with 404', async () => {
    const unknown = await rest(emulator, 'openim/batchsendmsg', {})
    assert.deepEqual([unknown.ActionStatus, unknown.ErrorCode], ['FAIL', 60009])
    const get = await fetch(`${emulator.url}/v4/openim/sendmsg?${restQuery()}`)
    assert.equal(((await get.json()) as { ErrorCode: number }).ErrorCode, 60002)
    assert.equal((await fetch(`${emulator.url}/elsewhere`)).status, 404)
  })

  it('read API: 404 for an unknown group or topic, 400 without the required parameters, 405 for writes', async () => {
    assert.equal((await read(emulator, '/emulator/groups/nope/messages')).status, 404)
    const g = await createGroup(emulator)
    assert.equal((await read(emulator, `/emulator/groups/${encodeURIComponent(g)}/messages?TopicId=x`)).status, 404)
    assert.equal((await read(emulator, '/emulator/c2c/messages?a=x')).status, 400)
    assert.equal((await read(emulator, '/emulator/unread')).status, 400)
    assert.equal((await read(emulator, '/emulator/groups/%E0%A4%A/messages')).status, 400)
    assert.equal((await fetch(`${emulator.url}/emulator/groups`, { method: 'POST' })).status, 405)
    const groups = (await read(emulator, '/emulator/groups')).body.Groups as Array<{ GroupId: string }>
    assert.ok(groups.some((x) => x.GroupId === g))
  })

  it('never crashes and always answers an envelope, whatever the body (property)', async () => {
    const g = await createGroup(emulator)
    const value = fc.oneof(fc.jsonValue(), fc.constant(g), fc.constant(text('x')), fc.integer({ min: -1, max: 2 ** 33 }))
    const keys = fc.constantFrom(
      'GroupId',
      'Random',
      'MsgBody',
      'MsgSeqList',
      'TopicId',
      'From_Account',
      'To_Account',
      'MsgRandom',
      'MsgKey',
      'Type',
      'Name',
      'TopicName',
      'MsgSeq',
      'ForbidCallbackControl',
      'SendMsgControl',
      'MsgLifeTime',
      'CloudCustomData',
      'GroupAtInfo',
      'OnlineOnlyFlag',
      'SupportTopic',
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...APIS), fc.dictionary(keys, value), async (api, body) => {
        const r = await rest(emulator, api, body)
        assert.ok(r.ActionStatus === 'OK' || r.ActionStatus === 'FAIL')
        assert.equal(typeof r.ErrorCode, 'number')
        assert.equal(typeof r.ErrorInfo, 'string')
        assert.equal(r.ActionStatus === 'OK', r.ErrorCode === 0)
        assert.notEqual(r.ErrorCode, 91000, r.ErrorInfo)
      }),
      { numRuns: 300 },
    )
  })
})

describe('strict accounts and admins', () => {
  it('with accounts set, unknown senders and recipients are refused; with admins set, other identifiers get 60010', async () => {
    const emulator = await emulatorFor(undefined, { accounts: ['alice', 'bob'], admins: ['admin'] })
    try {
      const ok = await rest(emulator, 'openim/sendmsg', { From_Account: 'alice', To_Account: 'bob', MsgRandom: 1, MsgBody: text('x') })
      assert.equal(ok.ActionStatus, 'OK')
      assert.equal(
        (await rest(emulator, 'openim/sendmsg', { From_Account: 'alice', To_Account: 'carol', MsgRandom: 1, MsgBody: text('x') }))
          .ErrorCode,
        90003,
      )
      assert.equal(
        (await rest(emulator, 'openim/sendmsg', { From_Account: 'mallory', To_Account: 'bob', MsgRandom: 1, MsgBody: text('x') }))
          .ErrorCode,
        90008,
      )
      const g = await createGroup(emulator)
      const groupSend = await rest(emulator, 'group_open_http_svc/send_group_msg', {
        GroupId: g,
        From_Account: 'mallory',
        Random: 1,
        MsgBody: text('x'),
      })
      assert.equal(groupSend.ErrorCode, 10004)
      assert.match(groupSend.ErrorInfo, /not an imported account/)
      const notAdmin = await rest(
        emulator,
        'openim/sendmsg',
        { To_Account: 'bob', MsgRandom: 1, MsgBody: text('x') },
        restQuery({ identifier: 'alice' }),
      )
      assert.equal(notAdmin.ErrorCode, 60010)
    } finally {
      await emulator.close()
    }
  })

  it('rejects invalid options with a message naming the option', async () => {
    await assert.rejects(emulatorFor(undefined, { sdkAppId: 'abc' }), /sdkAppId/)
    await assert.rejects(emulatorFor(undefined, { callbackUrl: 'ftp://x' }), /callbackUrl/)
    await assert.rejects(emulatorFor(undefined, { timeoutMs: 0 }), /timeoutMs/)
    await assert.rejects(emulatorFor(undefined, { token: '' }), /token/)
  })
})
