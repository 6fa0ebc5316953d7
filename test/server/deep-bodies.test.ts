/**
 * Bodies nested deeper than the receive-time limit are refused, for every command, before
 * anything recurses over them; the deepest payloads Tencent documents (merged-forward messages
 * inside merged-forward messages) pass through the receiver, the policy, the store and the admin
 * API. The server runs as a child process: a crash is a failed assertion, not a dead test runner.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { MAX_BODY_DEPTH } from '../../src/protocol/parse-json.js'
import { sign } from '../../src/protocol/signature.js'
import { nestedText, relayDepth, relayText } from '../helpers/deep-bodies.js'
import { ADMIN, APP, spawnServer, tempDir, type ChildServer } from './helpers.js'

const TOKEN = 'deep-bodies-token'
const POLICY = fileURLToPath(new URL('../../examples/policy.yaml', import.meta.url))

async function post(url: string, command: string, text: string): Promise<{ status: number; answer: Record<string, unknown> }> {
  const t = Math.floor(Date.now() / 1000)
  const q = new URLSearchParams({
    SdkAppid: APP,
    CallbackCommand: command,
    contenttype: 'json',
    Sign: sign(TOKEN, t),
    RequestTime: String(t),
  })
  const res = await fetch(`${url}/?${q}`, { method: 'POST', body: text })
  return { status: res.status, answer: (await res.json()) as Record<string, unknown> }
}

async function get(url: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

describe('nesting depth', () => {
  const tmp = tempDir()
  let server: ChildServer
  before(async () => {
    server = await spawnServer(['--db', `${tmp.dir}/deep.db`, '--token', TOKEN, '--admin-token', ADMIN, '--policy', POLICY])
  })
  after(async () => {
    server?.proc.kill('SIGKILL')
    await server?.exited
    tmp.cleanup()
  })

  it('refuses a body nested deeper than the limit with 400 TIMHOOK_BODY_TOO_DEEP, whatever the command', async () => {
    const cases: Array<[string, string]> = [
      // 12 KB nested 6,000 deep: stored under an unknown command or as a before-send, it used to crash the next GET /api/events.
      ['Vendor.CallbackSomethingNew', nestedText(6000, { CallbackCommand: 'Vendor.CallbackSomethingNew' })],
      [
        'Group.CallbackBeforeSendMsg',
        nestedText(6000, { CallbackCommand: 'Group.CallbackBeforeSendMsg', GroupId: 'g', From_Account: 'a', Random: 1 }),
      ],
      // 100,000 deep: an after-send used to get 503 (redelivered for ever).
      ['Group.CallbackAfterSendMsg', nestedText(100_000, { CallbackCommand: 'Group.CallbackAfterSendMsg', GroupId: 'g', MsgSeq: 1 })],
      // Merged-forward messages 1,000 deep: used to get 500 TIMHOOK_INTERNAL.
      ['Group.CallbackBeforeSendMsg', relayText(200)],
      // One past the limit.
      ['C2C.CallbackAfterSendMsg', nestedText(MAX_BODY_DEPTH + 1, { CallbackCommand: 'C2C.CallbackAfterSendMsg', MsgKey: 'k' })],
    ]
    for (const [command, text] of cases) {
      const { status, answer } = await post(server.url, command, text)
      assert.equal(status, 400, `${command}, ${text.length} bytes`)
      assert.equal(answer.ActionStatus, 'FAIL')
      assert.match(String(answer.ErrorInfo), /^TIMHOOK_BODY_TOO_DEEP: .*512/)
    }
    const events = await get(server.url, '/api/events?limit=500')
    assert.equal(events.status, 200)
    assert.deepEqual(events.body.items, [], 'nothing refused was stored')
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'the process is alive')
  })

  it('accepts the deepest merged-forward payloads, and a body exactly at the limit, through policy, store and admin API', async () => {
    // 48 levels is what fits Tencent's 12 KB inline MsgList with these fields; 101 levels is depth 509.
    for (const levels of [48, Math.floor((MAX_BODY_DEPTH - 4) / 5)]) {
      const { status, answer } = await post(server.url, 'Group.CallbackBeforeSendMsg', relayText(levels, { Random: levels }))
      assert.equal(status, 200, `${levels} levels (depth ${relayDepth(levels)})`)
      assert.equal(answer.ActionStatus, 'OK')
    }
    const atLimit = nestedText(MAX_BODY_DEPTH, { CallbackCommand: 'Vendor.CallbackSomethingNew' })
    assert.equal((await post(server.url, 'Vendor.CallbackSomethingNew', atLimit)).status, 200)
    const events = await get(server.url, '/api/events?limit=10')
    assert.equal(events.status, 200)
    const items = events.body.items as Array<Record<string, unknown>>
    assert.equal(items.length, 3)
    for (const item of items) assert.equal(item.bodyNote, undefined, 'shown parsed')
    assert.deepEqual(items[0]!.body, JSON.parse(atLimit))
    assert.deepEqual(items[1]!.body, JSON.parse(relayText(Math.floor((MAX_BODY_DEPTH - 4) / 5), { Random: 101 })))
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
  })
})
