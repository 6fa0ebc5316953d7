/**
 * `timhook serve` runs its background work — the SQLite admin reads and the sinks' delivery — in
 * child processes (the default `--background process`). A child killed with -9 is replaced: the
 * next admin read is answered, and every acknowledged callback still reaches the sink, in order.
 * No child outlives serve: not after SIGTERM, not after serve itself is killed with -9; with
 * `background: thread` there is none, and delivery is the same. Linux only
 * (the children are found through /proc).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { ADMIN, groupAfterSend, spawnServer, tempDir, type ChildServer } from '../server/helpers.js'
import { SECRET, deliveryRanks, postAll, tally, waitUntil, webhookEndpoint } from './helpers.js'

const LINUX = existsSync('/proc/self/stat')

/** serve's child processes by role ('readers', 'sinks'), from /proc. */
function childrenOf(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8')
      if (cmd.includes('sqlite-reader-thread')) out.set('readers', Number(p))
      if (cmd.includes('sinks-thread')) out.set('sinks', Number(p))
    } catch {
      // ended meanwhile
    }
  }
  return out
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('serve’s background child processes', { skip: LINUX ? false : 'Linux only' }, () => {
  const running: ChildServer[] = []
  after(() => {
    for (const s of running) s.proc.kill('SIGKILL')
  })

  it(
    'replace a child killed with -9: admin reads answered again, every acknowledged callback delivered in order; none outlives SIGTERM',
    { timeout: 120_000 },
    async () => {
      const t = tempDir()
      const hook = await webhookEndpoint()
      const db = `${t.dir}/timhook.db`
      try {
        const env = {
          TIMHOOK_SINKS: JSON.stringify([{ name: 'billing', type: 'webhook', url: hook.url, secret: SECRET, start: 'beginning' }]),
        }
        const s = await spawnServer(['--db', db, '--admin-token', ADMIN, '--log-level', 'info'], env)
        running.push(s)
        await s.waitForLog((l) => l.sink === 'billing' && l.msg === 'sink delivering from this instance', 30_000)
        const stats = () => fetch(`${s.url}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })
        assert.equal((await stats()).status, 200)
        await waitUntil('both children', () => childrenOf(s.proc.pid!).size === 2)
        const first = childrenOf(s.proc.pid!)

        const acked = await postAll(
          s.url,
          Array.from({ length: 100 }, (_, i) => groupAfterSend('child', i + 1)),
        )
        process.kill(first.get('sinks')!, 'SIGKILL')
        process.kill(first.get('readers')!, 'SIGKILL')
        acked.push(
          ...(await postAll(
            s.url,
            Array.from({ length: 100 }, (_, i) => groupAfterSend('child', 101 + i)),
          )),
        )
        assert.equal(acked.length, 200)
        // A new reader process answers: at once, or after 503s while it starts (at the lowest
        // priority, on a busy machine that takes a while), as an operator's client retries.
        let total = -1
        await waitUntil(
          'an admin read answered by the new reader process',
          async () => {
            const answer = await stats()
            if (answer.status === 200) total = ((await answer.json()) as { events: { total: number } }).events.total
            else assert.equal(answer.status, 503)
            return answer.status === 200
          },
          60_000,
        )
        assert.equal(total, 200)
        await s.waitForLog((l) => l.msg === 'sink delivery process stopped; starting it again')
        const ranks = await deliveryRanks(db)
        await waitUntil('every acknowledged callback at the webhook', () => new Set(hook.delivered().map((e) => e.key)).size >= 200, 60_000)
        const c = tally(acked, hook.delivered(), ranks)
        assert.deepEqual({ lost: c.lost, outOfOrder: c.outOfOrder }, { lost: 0, outOfOrder: 0 })
        const second = childrenOf(s.proc.pid!)
        assert.equal(second.size, 2)
        for (const role of ['readers', 'sinks']) assert.notEqual(second.get(role), first.get(role), role)

        s.proc.kill('SIGTERM')
        assert.equal((await s.exited).code, 0)
        for (const pid of second.values()) assert.equal(alive(pid), false, `child ${pid} outlived serve`)
      } finally {
        await hook.close()
        t.cleanup()
      }
    },
  )

  it('start the sinks’ process again when the one started after a crash dies before it is ready', { timeout: 90_000 }, async () => {
    const t = tempDir()
    const hook = await webhookEndpoint()
    const db = `${t.dir}/timhook.db`
    try {
      const env = {
        TIMHOOK_SINKS: JSON.stringify([{ name: 'billing', type: 'webhook', url: hook.url, secret: SECRET, start: 'beginning' }]),
      }
      const s = await spawnServer(['--db', db, '--admin-token', ADMIN, '--log-level', 'info'], env)
      running.push(s)
      await s.waitForLog((l) => l.sink === 'billing' && l.msg === 'sink delivering from this instance', 30_000)
      const first = childrenOf(s.proc.pid!).get('sinks')!
      process.kill(first, 'SIGKILL')
      // The next one is killed as soon as it appears: it has not said it is ready yet.
      let second = first
      while (second === first) {
        await new Promise((resolve) => setTimeout(resolve, 1))
        second = childrenOf(s.proc.pid!).get('sinks') ?? first
      }
      process.kill(second, 'SIGKILL')
      const acked = await postAll(
        s.url,
        Array.from({ length: 20 }, (_, i) => groupAfterSend('again', i + 1)),
      )
      await waitUntil('every acknowledged callback at the webhook', () => new Set(hook.delivered().map((e) => e.key)).size >= 20, 60_000)
      const c = tally(acked, hook.delivered(), await deliveryRanks(db))
      assert.deepEqual({ lost: c.lost, outOfOrder: c.outOfOrder }, { lost: 0, outOfOrder: 0 })
      s.proc.kill('SIGTERM')
      assert.equal((await s.exited).code, 0)
    } finally {
      await hook.close()
      t.cleanup()
    }
  })

  it('stay in serve’s process with background: thread, and deliver the same', { timeout: 60_000 }, async () => {
    const t = tempDir()
    const hook = await webhookEndpoint()
    const db = `${t.dir}/timhook.db`
    try {
      const env = {
        TIMHOOK_BACKGROUND: 'thread',
        TIMHOOK_SINKS: JSON.stringify([{ name: 'billing', type: 'webhook', url: hook.url, secret: SECRET, start: 'beginning' }]),
      }
      const s = await spawnServer(['--db', db, '--admin-token', ADMIN, '--log-level', 'info'], env)
      running.push(s)
      await s.waitForLog((l) => l.sink === 'billing' && l.msg === 'sink delivering from this instance', 30_000)
      const acked = await postAll(
        s.url,
        Array.from({ length: 50 }, (_, i) => groupAfterSend('thread', i + 1)),
      )
      assert.equal((await fetch(`${s.url}/api/stats`, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 200)
      assert.equal(childrenOf(s.proc.pid!).size, 0)
      await waitUntil('every acknowledged callback at the webhook', () => new Set(hook.delivered().map((e) => e.key)).size >= 50)
      const c = tally(acked, hook.delivered(), await deliveryRanks(db))
      assert.deepEqual({ lost: c.lost, outOfOrder: c.outOfOrder }, { lost: 0, outOfOrder: 0 })
      s.proc.kill('SIGTERM')
      assert.equal((await s.exited).code, 0)
    } finally {
      await hook.close()
      t.cleanup()
    }
  })

  it('end by themselves when serve is killed with -9', { timeout: 60_000 }, async () => {
    const t = tempDir()
    const hook = await webhookEndpoint()
    try {
      const env = { TIMHOOK_SINKS: JSON.stringify([{ name: 'billing', type: 'webhook', url: hook.url, secret: SECRET }]) }
      const s = await spawnServer(['--db', `${t.dir}/timhook.db`, '--admin-token', ADMIN], env)
      running.push(s)
      await waitUntil('both children', () => childrenOf(s.proc.pid!).size === 2)
      const children = [...childrenOf(s.proc.pid!).values()]
      s.proc.kill('SIGKILL')
      await s.exited
      await waitUntil('the children gone', () => !children.some(alive))
    } finally {
      await hook.close()
      t.cleanup()
    }
  })
})
