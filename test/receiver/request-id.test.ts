/** A request id from outside is kept only when short and plain; anything else gets a fresh one, so it never reaches logs or the store. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createReceiver } from '../../src/receiver/index.js'
import { APP, groupRecall, query } from '../helpers/callbacks.js'

const r = createReceiver({ sdkAppId: APP })
let seen: string | undefined
r.onAny((_, ctx) => void (seen = ctx.requestId))

async function requestIdFor(header: string | undefined): Promise<string> {
  seen = undefined
  const body = groupRecall()
  await r.handle({
    method: 'POST',
    query: query(String(body.CallbackCommand)),
    headers: header === undefined ? {} : { 'x-request-id': header },
    body: JSON.stringify(body),
  })
  return seen!
}

describe('x-request-id', () => {
  it('keeps a short plain id', async () => {
    for (const id of ['abc', 'req-1.2_3:4', 'x'.repeat(64), '9f86d081-884c-4d63-b5f9-8e9bbd0a9f3e'])
      assert.equal(await requestIdFor(id), id)
  })

  it('replaces a long, empty or unusual one with a fresh id', async () => {
    const fresh = await requestIdFor(undefined)
    for (const id of ['x'.repeat(65), '', 'a b', 'a\nb', 'a\u0000', 'é', '<script>', 'a"b', '{"x":1}']) {
      const got = await requestIdFor(id)
      assert.notEqual(got, id)
      assert.match(got, /^[0-9a-f]{8}-[0-9a-z]+$/, 'generated like one without a header')
      assert.equal(got.split('-')[0], fresh.split('-')[0])
    }
  })

  it('only ever yields a short plain id, whatever is sent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 100 }), async (id) => {
        const got = await requestIdFor(id)
        assert.match(got, /^[A-Za-z0-9._:-]{1,64}$/)
        if (/^[A-Za-z0-9._:-]{1,64}$/.test(id)) assert.equal(got, id)
      }),
      { numRuns: 300 },
    )
  })
})
