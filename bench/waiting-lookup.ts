/**
 * What a SQLite batch holding before-sends pays to find the messages waiting for their decision,
 * on a file of 100,000 messages that all have theirs: FIND_WAITING over the batch's send keys (what
 * every such batch ran), against the look-up every batch runs anyway (LAST_RECEIVED) with and
 * without the check that any message is waiting at all folded in (LAST_RECEIVED_AND_WAITING, what
 * such a batch runs now, FIND_WAITING only when it says one is). In memory: statement CPU only.
 *
 *   npx tsx bench/waiting-lookup.ts [--iterations 100000] [--rounds 3]
 */
import { parseArgs } from 'node:util'
import { asStored, openDatabase } from '../src/store/sqlite-driver.js'
import { SQLITE_MIGRATIONS } from '../src/store/sqlite-migrations.js'
import * as sql from '../src/store/sqlite-sql.js'

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '3' } } })
const N = Number(values.iterations)
const db = openDatabase(':memory:')
for (const m of SQLITE_MIGRATIONS) db.exec(m)
const insert = db.prepare(`INSERT INTO messages (key, send_key, family, received_at, body, decision) VALUES (?, ?, 'group', 1, '{}', '{}')`)
db.exec('BEGIN')
for (let i = 0; i < 100_000; i++) insert.run(`k${i}`, `s${i}`)
db.exec('COMMIT')

const findWaiting = db.prepare(sql.FIND_WAITING)
const last = db.prepare(sql.LAST_RECEIVED)
const lastAndWaiting = db.prepare(sql.LAST_RECEIVED_AND_WAITING)
const micros = (fn: () => unknown) => {
  const t = process.cpuUsage()
  for (let i = 0; i < N; i++) fn()
  const d = process.cpuUsage(t)
  return (d.user + d.system) / N
}
for (let r = 1; r <= Number(values.rounds); r++) {
  for (const batch of [1, 4, 32]) {
    const keys = Array.from({ length: batch }, (_, i) => `group|@TGS#bench${i}||user${i}|${1000 + i}`)
    const find = micros(() => findWaiting.all(JSON.stringify(keys.map(asStored))))
    const plain = micros(() => last.get())
    const folded = micros(() => lastAndWaiting.get())
    console.log(
      `round ${r}, ${batch} send keys: FIND_WAITING ${find.toFixed(2)} µs; LAST_RECEIVED ${plain.toFixed(2)} µs, with the check folded in ${folded.toFixed(2)} µs (per batch)`,
    )
  }
}
db.close()
