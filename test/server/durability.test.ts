/**
 * "200 means on disk": kill -9 the server during a load, restart it on the same database, and
 * check that every callback that got a 200 is stored exactly once. SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { openStore } from '../../src/store/open-store.js'
import { PG_SKIP, PG_URL, allPages, dropSchema } from '../store/helpers.js'
import { ADMIN, groupAfterSend, postCallback, spawnServer, tempDir } from './helpers.js'

const WORKERS = 8
const KILL_AFTER = 300 // acknowledged callbacks before the kill
const MAX_SENDS = 5000 // bound on the load

async function loadThenKill(args: string[]): Promise<Set<number>> {
  let inFlight = 0
  const server = await spawnServer([...args, '--admin-token', ADMIN, '--log-level', 'info'])
  const acked = new Set<number>()
  let next = 1
  let killed = false
  const worker = async () => {
    while (!killed && next <= MAX_SENDS) {
      const seq = next++
      inFlight++
      try {
        const res = await postCallback(server.url, groupAfterSend('durable', seq))
        if (res.status === 200 && res.answer.ActionStatus === 'OK') acked.add(seq)
      } catch {
        // in flight when the server died: not acknowledged, so it may or may not be stored
      } finally {
        inFlight--
      }
      // Kill only while other requests are outstanding, so the kill lands in the middle of a load.
      if (!killed && acked.size >= KILL_AFTER && inFlight > 0) {
        killed = true
        server.proc.kill('SIGKILL')
      }
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, worker))
  if (!killed) server.proc.kill('SIGKILL')
  const exit = await server.exited
  assert.equal(exit.signal, 'SIGKILL')
  return acked
}

async function checkAfterRestart(args: string[], acked: Set<number>, db: string, schema?: string): Promise<void> {
  // Restart on the same database: it opens, migrates nothing, serves.
  const server = await spawnServer([...args, '--admin-token', ADMIN, '--log-level', 'info'])
  try {
    const ready = await fetch(`${server.url}/readyz`)
    assert.equal(ready.status, 200)
    await ready.body?.cancel()
  } finally {
    server.proc.kill('SIGTERM')
    await server.exited
  }
  const store = await openStore(db, schema === undefined ? {} : { schema })
  try {
    const messages = await allPages((cursor) => store.listMessages({ groupId: 'durable', limit: 500, cursor }))
    const events = await allPages((cursor) => store.listEvents({ command: 'Group.CallbackAfterSendMsg', limit: 500, cursor }))
    const stored = new Map<number, number>()
    for (const m of messages) stored.set(m.MsgSeq as number, (stored.get(m.MsgSeq as number) ?? 0) + 1)
    const missing = [...acked].filter((s) => !stored.has(s))
    assert.deepEqual(missing, [], `${missing.length} acknowledged callbacks were lost`)
    for (const [seq, n] of stored) assert.equal(n, 1, `MsgSeq ${seq} stored ${n} times`)
    assert.equal(new Set(events.map((e) => e.idempotencyKey)).size, events.length)
    for (const e of events) assert.equal(e.deliveries, 1)
    assert.ok(acked.size >= KILL_AFTER)
  } finally {
    await store.close()
  }
}

describe('durability under kill -9', () => {
  it('SQLite: every callback answered 200 before the kill is stored exactly once after a restart', async () => {
    const tmp = tempDir()
    try {
      const db = `${tmp.dir}/durable.db`
      const acked = await loadThenKill(['--db', db])
      await checkAfterRestart(['--db', db], acked, db)
    } finally {
      tmp.cleanup()
    }
  })

  it('PostgreSQL: every callback answered 200 before the kill is stored exactly once after a restart', { skip: PG_SKIP }, async () => {
    const schema = `durable_${process.pid}`
    try {
      const args = ['--db', PG_URL!, '--pg-schema', schema]
      const acked = await loadThenKill(args)
      await checkAfterRestart(args, acked, PG_URL!, schema)
    } finally {
      await dropSchema(schema)
    }
  })
})
