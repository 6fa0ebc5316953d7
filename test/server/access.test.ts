/**
 * What the callback port gives away: `/metrics` is behind the admin token there (or moved to a
 * port of its own), starting without a callback token says what that risks, and any command name
 * is counted in `/api/stats` (`__proto__` included), on both backends.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PG_SKIP, PG_URL } from '../store/helpers.js'
import { ADMIN, admin, captureLogs, groupAfterSend, postCallback, startTestServer, tempDir } from './helpers.js'

describe('/metrics access', () => {
  it('on the callback port, answers 401 without the admin token and 200 with it', async () => {
    const t = tempDir()
    const server = await startTestServer({ db: `${t.dir}/m.db` })
    try {
      const open = await fetch(`${server.url}/metrics`)
      assert.equal(open.status, 401)
      assert.match(open.headers.get('www-authenticate') ?? '', /^Bearer/)
      await open.body?.cancel()
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-wrong-wrong-wrong' } })).status, 401)
      const ok = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
      assert.equal(ok.status, 200)
      assert.match(await ok.text(), /timhook_callbacks_total/)
      assert.equal(server.metricsUrl, undefined)
    } finally {
      await server.close()
      t.cleanup()
    }
  })

  it('with metricsPort, is served there without a token and not on the callback port', async () => {
    const t = tempDir()
    const server = await startTestServer({ db: `${t.dir}/m.db`, metricsPort: 0 })
    try {
      assert.match(server.metricsUrl ?? '', /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.notEqual(server.metricsUrl, server.url)
      const res = await fetch(`${server.metricsUrl}/metrics`)
      assert.equal(res.status, 200)
      assert.match(await res.text(), /timhook_callbacks_total/)
      assert.equal(
        (await fetch(`${server.metricsUrl}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).status,
        404,
        'nothing else there',
      )
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 404)
    } finally {
      await server.close()
      t.cleanup()
    }
    await assert.rejects(fetch(`${server.metricsUrl}/metrics`), 'closed with the server')
  })
})

describe('x-request-id in the store', () => {
  it('keeps a plain id and replaces any other before it reaches the request_id column', async () => {
    const t = tempDir()
    const server = await startTestServer({ db: `${t.dir}/r.db` })
    try {
      const ids = ['trace-42', 'x'.repeat(65), 'a\tb', '<img src=x>']
      for (const [i, id] of ids.entries()) {
        const res = await fetch(`${server.url}/?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg`, {
          method: 'POST',
          headers: { 'x-request-id': id },
          body: JSON.stringify(groupAfterSend('rid', i + 1)),
        })
        assert.equal(res.status, 200)
        await res.arrayBuffer()
      }
      const stored = ((await admin(server.url, '/api/events?limit=10')).body.items as Array<{ requestId: string }>)
        .map((e) => e.requestId)
        .reverse()
      assert.equal(stored[0], 'trace-42')
      for (const [i, id] of stored.slice(1).entries()) {
        assert.notEqual(id, ids[i + 1])
        assert.match(id, /^[0-9a-f]{8}-[0-9a-z]+$/)
      }
    } finally {
      await server.close()
      t.cleanup()
    }
  })
})

describe('callback token', () => {
  it('warns at start, naming the risk, when no token is set; not when one is', async () => {
    for (const token of [undefined, ['a-callback-token']]) {
      const t = tempDir()
      const logs = captureLogs()
      const server = await startTestServer({ db: `${t.dir}/t.db`, token }, logs.stream)
      await server.close()
      t.cleanup()
      const warning = logs.lines.find((l) => l.level === 40 && /no callback token/.test(String(l.msg)))
      if (token === undefined) {
        assert.ok(warning, 'a warning')
        assert.match(String(warning.msg), /anyone who can reach this port can send callbacks/)
      } else assert.equal(warning, undefined)
    }
  })
})

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`stats by command (${kind})`, { skip: kind === 'postgres' && PG_SKIP }, () => {
    it('counts any command name, __proto__ and constructor included', async () => {
      const t = tempDir()
      const db = kind === 'sqlite' ? `${t.dir}/s.db` : PG_URL!
      const server = await startTestServer({ db, pgSchema: kind === 'postgres' ? `t_${process.pid}_proto` : 'public' })
      try {
        for (const [i, command] of ['__proto__', 'constructor', 'toString', '__proto__'].entries()) {
          assert.equal((await postCallback(server.url, { ...groupAfterSend('g', i), CallbackCommand: command })).status, 200)
        }
        await server.store.flush()
        const res = await admin(server.url, '/api/stats')
        assert.equal(res.status, 200)
        const raw = await (await fetch(`${server.url}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).text()
        assert.match(raw, /"__proto__":2/, 'in the JSON as an own key')
        const byCommand = (res.body.events as { byCommand: Record<string, number> }).byCommand
        assert.deepEqual(Object.entries(byCommand).sort(), [
          ['__proto__', 2],
          ['constructor', 1],
          ['toString', 1],
        ])
      } finally {
        await server.close()
        if (kind === 'postgres') {
          const { dropSchema } = await import('../store/helpers.js')
          await dropSchema(`t_${process.pid}_proto`)
        }
        t.cleanup()
      }
    })
  })
}

describe('the example configuration', () => {
  it('sets the callback token the emulator quick starts use', async () => {
    const { loadConfig } = await import('../../src/server/config.js')
    const { readFileSync } = await import('node:fs')
    const root = new URL('../../', import.meta.url)
    const config = loadConfig({ file: new URL('examples/timhook.yaml', root).pathname, env: {} })
    assert.deepEqual(config.token, ['dev-token'])
    for (const doc of ['README.md', 'docs/emulator.md']) assert.match(readFileSync(new URL(doc, root), 'utf8'), /--token dev-token/, doc)
  })
})
