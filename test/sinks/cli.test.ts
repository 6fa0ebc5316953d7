/** `timhook sinks status` and `timhook sinks replay`, on the database a serve with a sink used. */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { configSchema } from '../../src/server/config.js'
import { startServer } from '../../src/server/start-server.js'
import { ADMIN, APP, groupAfterSend, tempDir } from '../server/helpers.js'
import { SECRET, postAll, waitUntil, webhookEndpoint } from './helpers.js'

const ROOT = new URL('../../', import.meta.url).pathname
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx/esm', 'src/cli/main.ts', 'sinks', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, TIMHOOK_SINKS: '' },
  })

describe('timhook sinks', () => {
  const t = tempDir()
  const db = `${t.dir}/timhook.db`
  let hook: Awaited<ReturnType<typeof webhookEndpoint>>
  before(async () => {
    hook = await webhookEndpoint()
    const server = await startServer(
      configSchema.parse({
        sdkAppId: APP,
        port: 0,
        adminToken: ADMIN,
        logLevel: 'silent',
        db,
        sinks: [{ name: 'billing', type: 'webhook', url: hook.url, secret: SECRET, start: 'beginning' }],
      }),
      { sinks: { pollMs: 50 } },
    )
    await postAll(
      server.url,
      [1, 2, 3, 4, 5].map((i) => groupAfterSend('cli', i)),
      1,
    )
    await waitUntil('five deliveries', () => hook.delivered().length === 5)
    await server.close()
  })
  after(async () => {
    await hook.close()
    t.cleanup()
  })

  it('status prints each sink with its cursor, lag and dead letters', () => {
    const r = cli('status', '--db', db)
    assert.equal(r.status, 0, r.stderr)
    const line = r.stdout.split('\n').find((l) => l.startsWith('billing'))
    assert.match(line ?? '', /^billing \(not configured\)\s+5\s+0\s+0\s+0\s+nobody$/)
    const json = JSON.parse(cli('status', '--db', db, '--json').stdout) as {
      sinks: Array<{ name: string; lastId: number; lagEvents: number }>
    }
    assert.deepEqual(
      json.sinks.map((s) => [s.name, s.lastId, s.lagEvents]),
      [['billing', 5, 0]],
    )
  })

  it('replay moves the cursor back to before the event named; status shows the lag', () => {
    const r = cli('replay', 'billing', '--from', '3', '--db', db)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /sink billing: delivering again from event 3/)
    const json = JSON.parse(cli('status', '--db', db, '--json').stdout) as { sinks: Array<{ lastId: number; lagEvents: number }> }
    assert.deepEqual([json.sinks[0]!.lastId, json.sinks[0]!.lagEvents], [2, 3])
  })

  it('refuses a bad --from, or a point with no event, naming why (exit 2)', () => {
    const bad = cli('replay', 'billing', '--from', 'last tuesday', '--db', db)
    assert.equal(bad.status, 2)
    assert.match(bad.stderr, /--from an event id or a time/)
    const none = cli('replay', 'billing', '--from', '999', '--db', db)
    assert.equal(none.status, 2)
    assert.match(none.stderr, /no event with id 999 or later/)
  })
})
