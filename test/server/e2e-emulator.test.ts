/** End to end: the emulator (Tencent's REST API and callback sender) drives `timhook serve`; the admin API shows the result. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startEmulator, type Emulator } from '../../src/emulator/index.js'
import type { RunningServer } from '../../src/server/start-server.js'
import { APP, admin, startTestServer, tempDir } from './helpers.js'

const TOKEN = 'e2e-callback-token'

describe('end to end with the emulator', () => {
  const tmp = tempDir()
  let server: RunningServer
  let emulator: Emulator
  const rest = async (api: string, body: unknown) => {
    const q = new URLSearchParams({
      sdkappid: APP,
      identifier: 'admin',
      usersig: 'x',
      random: String(Math.floor(Math.random() * 1e8)),
      contenttype: 'json',
    })
    const res = await fetch(`${emulator.url}/v4/${api}?${q}`, { method: 'POST', body: JSON.stringify(body) })
    const answer = (await res.json()) as Record<string, unknown>
    assert.equal(answer.ActionStatus, 'OK', `${api}: ${JSON.stringify(answer)}`)
    return answer
  }
  const text = (t: string) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }]
  type Item = Record<string, unknown>
  const messages = async (query: string) => (await admin(server.url, `/api/messages?${query}`)).body.items as Item[]

  before(async () => {
    server = await startTestServer({ db: `${tmp.dir}/e2e.db`, token: TOKEN, callbackPath: '/im' })
    emulator = await startEmulator({ sdkAppId: APP, callbackUrl: `${server.url}/im`, token: TOKEN })
  })
  after(async () => {
    await emulator?.close()
    await server?.close()
    tmp.cleanup()
  })

  it('group sends and a recall show up in the admin API', async () => {
    const { GroupId } = (await rest('group_open_http_svc/create_group', { Type: 'Public', Name: 'e2e' })) as { GroupId: string }
    const seqs: number[] = []
    for (let i = 0; i < 3; i++)
      seqs.push(
        (await rest('group_open_http_svc/send_group_msg', { GroupId, Random: 100 + i, From_Account: 'jared', MsgBody: text(`m${i}`) }))
          .MsgSeq as number,
      )
    await rest('group_open_http_svc/group_msg_recall', { GroupId, MsgSeqList: [{ MsgSeq: seqs[1] }] })
    await emulator.idle()
    const items = await messages(`groupId=${encodeURIComponent(GroupId)}`)
    assert.deepEqual(
      items.map((m) => m.MsgSeq),
      [...seqs].reverse(),
    )
    const byseq = new Map(items.map((m) => [m.MsgSeq, m]))
    assert.equal(byseq.get(seqs[1])!.recalledBy, 'admin')
    assert.equal(typeof byseq.get(seqs[1])!.recalledAt, 'string')
    assert.equal(byseq.get(seqs[0])!.recalledAt, null)
    assert.deepEqual(byseq.get(seqs[2])!.MsgBody, text('m2'))
    assert.equal(byseq.get(seqs[2])!.From_Account, 'jared')
    const recalled = await messages(`groupId=${encodeURIComponent(GroupId)}&recalled=true`)
    assert.deepEqual(
      recalled.map((m) => m.MsgSeq),
      [seqs[1]],
    )
  })

  it('topic messages in a Community are keyed by (GroupId, TopicId, MsgSeq) and recalled per topic', async () => {
    const { GroupId } = (await rest('group_open_http_svc/create_group', { Type: 'Community', Name: 'c', SupportTopic: 1 })) as {
      GroupId: string
    }
    const t1 = (await rest('million_group_open_http_svc/create_topic', { GroupId, TopicName: 't1' })).TopicId as string
    const t2 = (await rest('million_group_open_http_svc/create_topic', { GroupId, TopicName: 't2' })).TopicId as string
    const s1 = (
      await rest('group_open_http_svc/send_group_msg', { GroupId, TopicId: t1, Random: 1, From_Account: 'ann', MsgBody: text('in t1') })
    ).MsgSeq
    await rest('group_open_http_svc/send_group_msg', { GroupId, TopicId: t2, Random: 2, From_Account: 'ann', MsgBody: text('in t2') })
    await rest('group_open_http_svc/group_msg_recall', { GroupId, TopicId: t1, MsgSeqList: [{ MsgSeq: s1 }] })
    await emulator.idle()
    const g = encodeURIComponent(GroupId)
    const inT1 = await messages(`groupId=${g}&topicId=${encodeURIComponent(t1)}`)
    const inT2 = await messages(`groupId=${g}&topicId=${encodeURIComponent(t2)}`)
    assert.deepEqual(
      inT1.map((m) => [m.TopicId, m.recalledBy]),
      [[t1, 'admin']],
    )
    assert.deepEqual(
      inT2.map((m) => [m.TopicId, m.recalledBy]),
      [[t2, null]],
    )
  })

  it('one-to-one sends and a withdraw show up in the admin API, with the before-send verdict recorded', async () => {
    const a = await rest('openim/sendmsg', { From_Account: 'lee', To_Account: 'kim', MsgRandom: 11, MsgBody: text('hi kim') })
    const b = await rest('openim/sendmsg', { From_Account: 'lee', To_Account: 'kim', MsgRandom: 12, MsgBody: text('again') })
    await rest('openim/admin_msgwithdraw', { From_Account: 'lee', To_Account: 'kim', MsgKey: a.MsgKey })
    await emulator.idle()
    const items = await messages('from=lee')
    assert.deepEqual(
      items.map((m) => [m.MsgKey, m.To_Account, m.recalledBy !== null]),
      [
        [b.MsgKey, 'kim', false],
        [a.MsgKey, 'kim', true],
      ],
    )
    await server.store.flush()
    const events = (await admin(server.url, '/api/events?command=C2C.CallbackBeforeSendMsg')).body.items as Item[]
    assert.equal(events.length, 2)
    for (const e of events) assert.equal((e.decision as { verdict: string } | null)?.verdict ?? 'allow', 'allow')
  })

  it('counts what it received per command', async () => {
    const stats = (await admin(server.url, '/api/stats')).body as { events: { byCommand: Record<string, number> } }
    assert.ok(stats.events.byCommand['Group.CallbackAfterSendMsg']! >= 3)
    assert.equal(stats.events.byCommand['Group.CallbackAfterRecallMsg'], 2)
    assert.equal(stats.events.byCommand['C2C.CallbackAfterMsgWithDraw'], 1)
  })
})
