/**
 * A sinks child that hangs before it is ready (here: a preload in `NODE_OPTIONS` that never
 * returns, in the sinks child only) is stopped after `startTimeoutMs`: at serve's own start, serve
 * fails with an error naming the timeout and leaves no child behind; after a crash, the hung
 * restart is stopped and started again, and delivery resumes once a start succeeds. Linux only (the
 * children are found through /proc).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { configSchema } from '../../src/server/config.js'
import { createLogger } from '../../src/server/logger.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'
import { ADMIN, APP, captureLogs, groupAfterSend, tempDir } from '../server/helpers.js'
import { SECRET, keyOf, postAll, waitUntil, webhookEndpoint } from './helpers.js'

const LINUX = existsSync('/proc/self/stat')
/**
 * Long enough for a good start of the child (at the lowest priority, compiling its TypeScript)
 * on a machine busy with other tests: a good start stopped as hung would restart forever here.
 */
const START_TIMEOUT_MS = 10_000

/** This process's sinks child, if one runs. */
function sinksChild(): number | undefined {
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('sinks-thread')) return Number(p)
    } catch {
      // ended meanwhile
    }
  }
  return undefined
}

describe('a sinks child that never becomes ready', { skip: LINUX ? false : 'Linux only' }, () => {
  const t = tempDir()
  // Loaded by every child started while NODE_OPTIONS names it; hangs the sinks child alone.
  const hang = `${t.dir}/hang.mjs`
  writeFileSync(
    hang,
    "if (process.env.TIMHOOK_BACKGROUND_CHILD === 'sinks-thread') { setInterval(() => {}, 1e9); await new Promise(() => {}) }\n",
  )
  const hangOptions = `--import=${pathToFileURL(hang).href}`
  const original = process.env.NODE_OPTIONS
  const setHang = (on: boolean) => {
    if (on) process.env.NODE_OPTIONS = `${original ?? ''} ${hangOptions}`.trim()
    else if (original === undefined) delete process.env.NODE_OPTIONS
    else process.env.NODE_OPTIONS = original
  }
  const servers: RunningServer[] = []
  after(async () => {
    setHang(false)
    for (const s of servers) await s.close()
    t.cleanup()
  })

  const config = (db: string, url: string) =>
    configSchema.parse({
      sdkAppId: APP,
      port: 0,
      adminToken: ADMIN,
      logLevel: 'info',
      db,
      sinks: [{ name: 'billing', type: 'webhook', url, secret: SECRET, start: 'beginning' }],
    })

  it('at serve’s start: serve fails naming the timeout, and no child is left', { timeout: 60_000 }, async () => {
    const hook = await webhookEndpoint()
    const logs = captureLogs()
    setHang(true)
    try {
      await assert.rejects(
        startServer(config(`${t.dir}/first.db`, hook.url), {
          logger: createLogger('info', logs.stream),
          sinks: { startTimeoutMs: START_TIMEOUT_MS },
        }).then((s) => {
          servers.push(s) // started after all: closed by after()
        }),
        new RegExp(`the sinks' delivery did not start within ${START_TIMEOUT_MS} ms`),
      )
    } finally {
      setHang(false)
      await hook.close()
    }
    assert.ok(logs.lines.some((l) => String(l.msg).includes(`did not start within ${START_TIMEOUT_MS} ms`)))
    assert.equal(sinksChild(), undefined)
  })

  it('after a crash: a hung restart is stopped and started again, and delivery resumes', { timeout: 150_000 }, async () => {
    const hook = await webhookEndpoint()
    const logs = captureLogs()
    try {
      const server = await startServer(config(`${t.dir}/second.db`, hook.url), {
        logger: createLogger('info', logs.stream),
        sinks: { startTimeoutMs: START_TIMEOUT_MS, pollMs: 100 },
      })
      servers.push(server)
      const url = `http://127.0.0.1:${server.port}`
      const first = await postAll(url, [groupAfterSend('hang', 1)])
      await waitUntil('the first delivery', () => hook.delivered().length === 1)
      const child = sinksChild()
      assert.ok(child !== undefined)
      setHang(true)
      process.kill(child, 'SIGKILL')
      await waitUntil('a restart stopped as hung', () =>
        logs.lines.some((l) => String(l.msg).includes(`did not start within ${START_TIMEOUT_MS} ms`)),
      )
      setHang(false)
      const second = await postAll(url, [groupAfterSend('hang', 2)])
      // At least once: the first may come again (its cursor may not have been stored when the child was killed).
      const keys = () => [...new Set(hook.delivered().map((e) => e.key))]
      await waitUntil('the delivery after a good restart', () => keys().length >= 2, 60_000)
      assert.deepEqual(keys(), [...first, ...second])
      assert.deepEqual([...first, ...second], [keyOf(groupAfterSend('hang', 1)), keyOf(groupAfterSend('hang', 2))])
    } finally {
      await hook.close()
    }
  })
})
