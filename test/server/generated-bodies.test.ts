/**
 * Generated bodies — deep, wide, odd unicode, huge numbers, any command — through `timhook serve`,
 * its store and its admin API: every request gets 200 or a named 4xx, every accepted body is
 * served back (parsed, or whole by its own endpoint when large), and the process stays up.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import { MAX_BODY_DEPTH } from '../../src/protocol/parse-json.js'
import { sign } from '../../src/protocol/signature.js'
import type { RunningServer } from '../../src/server/start-server.js'
import { PG_SKIP, PG_URL, dropSchema } from '../store/helpers.js'
import { ADMIN, APP, startTestServer, tempDir } from './helpers.js'

const TOKEN = 'generated-bodies-token'
const COMMANDS = [
  'Group.CallbackAfterSendMsg',
  'Group.CallbackBeforeSendMsg',
  'C2C.CallbackAfterSendMsg',
  'C2C.CallbackBeforeSendMsg',
  'Group.CallbackAfterRecallMsg',
  'State.StateChange',
  'Vendor.CallbackSomethingNew',
]

// JSON text, generated as text so that depth and numbers are not limited by JSON.stringify.
const text = fc.string({ unit: 'binary', maxLength: 12 }).map((s) => JSON.stringify(s))
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
  fc.constantFrom('1e400', '-1e400', '-0', '123456789012345678901234567890', '0.1e-330', '9007199254740993', '4294967296'),
)
const leaf = fc.oneof(text, number, fc.constantFrom('true', 'false', 'null'))
const value = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    leaf,
    fc.array(tie('node'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(text, tie('node')), { maxLength: 4 }).map((entries) => `{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}`),
  ),
})).node
/** Nested `depth` levels of arrays and objects, around a value. */
const deep = fc
  .tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean(), value)
  .map(([depth, objects, inner]) =>
    objects ? `${'{"k":'.repeat(depth)}${inner}${'}'.repeat(depth)}` : `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`,
  )
/** Many items: up to ~150 KB, past the size a page holds inline. */
const wide = fc.tuple(fc.integer({ min: 0, max: 20_000 }), leaf).map(([n, item]) => `[${Array.from({ length: n }, () => item).join(',')}]`)
const bodies = fc.tuple(fc.constantFrom(...COMMANDS), fc.oneof(value, deep, wide), fc.option(fc.tuple(text, text), { nil: undefined }))

/** The depth of a JSON text, counted without parsing (strings skipped). */
function depthOf(t: string): number {
  let depth = 0
  let max = 0
  for (let i = 0; i < t.length; i++) {
    const c = t[i]
    if (c === '"') for (i++; t[i] !== '"'; i++) if (t[i] === '\\') i++
    if (c === '[' || c === '{') max = Math.max(max, ++depth)
    if (c === ']' || c === '}') depth--
  }
  return max
}

for (const kind of ['sqlite', 'postgres'] as const)
  describe(`generated bodies through serve, store and admin API (${kind})`, { skip: kind === 'postgres' && PG_SKIP }, () => {
    const tmp = tempDir()
    const schema = `t_${process.pid}_generated`
    let server: RunningServer
    before(async () => {
      server = await startTestServer({ db: kind === 'sqlite' ? `${tmp.dir}/generated.db` : PG_URL, pgSchema: schema, token: [TOKEN] })
    })
    after(async () => {
      await server?.close()
      if (kind === 'postgres') await dropSchema(schema)
      tmp.cleanup()
    })

    it('answers 200 or a named 4xx, and serves back every accepted body', async () => {
      let n = 0
      const seen = { accepted: 0, tooDeep: 0, large: 0 }
      await fc.assert(
        fc.asyncProperty(bodies, async ([command, payload, extra]) => {
          n++
          // A unique field first, so that each body is a new event (not a redelivery of an earlier one).
          const body = `{"Probe":${n},"GroupId":"p${n}","MsgSeq":${n},"MsgKey":"p${n}","Payload":${payload}${extra ? `,${extra[0]}:${extra[1]}` : ''}}`
          const t = Math.floor(Date.now() / 1000)
          const q = new URLSearchParams({ SdkAppid: APP, CallbackCommand: command, Sign: sign(TOKEN, t), RequestTime: String(t) })
          const res = await fetch(`${server.url}/?${q}`, { method: 'POST', body })
          const answer = (await res.json()) as { ActionStatus: string; ErrorInfo: string }
          const tooDeep = depthOf(body) > MAX_BODY_DEPTH
          if (res.status !== 200) {
            assert.equal(res.status, 400, `${command}: ${answer.ErrorInfo}`)
            assert.match(answer.ErrorInfo, tooDeep ? /^TIMHOOK_BODY_TOO_DEEP: / : /^TIMHOOK_BODY_FORBIDDEN_KEY: /)
            if (tooDeep) seen.tooDeep++
            return
          }
          assert.ok(!tooDeep, 'a body past the limit is never accepted')
          seen.accepted++
          await server.store.flush() // before-sends are stored after their answer
          const page = await fetch(`${server.url}/api/events?limit=1`, { headers: { authorization: `Bearer ${ADMIN}` } })
          assert.equal(page.status, 200)
          const [item] = ((await page.json()) as { items: Array<{ id: string; body: unknown; bodyNote?: { reason: string } }> }).items
          if (item!.bodyNote === undefined) {
            // What JSON can carry: 1e400 is served as null, as JSON.stringify writes Infinity.
            assert.deepEqual(item!.body, JSON.parse(JSON.stringify(JSON.parse(body))))
          } else {
            assert.equal(item!.bodyNote.reason, 'TOO_LARGE')
            seen.large++
            const raw = await fetch(`${server.url}/api/events/${item!.id}/raw`, { headers: { authorization: `Bearer ${ADMIN}` } })
            assert.ok(Buffer.from(await raw.arrayBuffer()).equals(Buffer.from(body)))
          }
          const messages = await fetch(`${server.url}/api/messages?limit=500`, { headers: { authorization: `Bearer ${ADMIN}` } })
          assert.equal(messages.status, 200)
          await messages.arrayBuffer()
        }),
        { numRuns: kind === 'sqlite' ? 80 : 40 },
      )
      assert.ok(seen.accepted > 0 && seen.tooDeep > 0 && seen.large > 0, `every kind was generated: ${JSON.stringify(seen)}`)
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200)
      assert.equal((await fetch(`${server.url}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 200)
    })
  })
