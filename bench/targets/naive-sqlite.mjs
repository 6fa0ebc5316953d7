// What users write without timhook when callbacks must be kept: Express + express.json() + one
// synchronous SQLite insert per request (node:sqlite, WAL, synchronous = FULL like `timhook serve`),
// answered 200 after the insert; no verification. The database file is the first argument.
import { createRequire } from 'node:module'
import express from 'express'

// node:sqlite through require: Node 22 has it behind an experimental warning, and a static import
// of a builtin that may be missing would fail before any message could say why.
const { DatabaseSync } = createRequire(import.meta.url)('node:sqlite')
const db = new DatabaseSync(process.argv[2] ?? 'naive.db')
db.exec('PRAGMA journal_mode = WAL')
db.exec('PRAGMA synchronous = FULL')
db.exec(`CREATE TABLE IF NOT EXISTS callbacks (
  id INTEGER PRIMARY KEY,
  command TEXT NOT NULL,
  key TEXT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
)`)
const insert = db.prepare('INSERT OR IGNORE INTO callbacks (command, key, body, received_at) VALUES (?, ?, ?, ?)')

// The key a user would pick so a redelivered callback is stored once: the message's own identity.
const keyOf = (command, b) =>
  `${command}:${b.MsgKey ?? `${b.GroupId}:${b.MsgSeq ?? b.Random ?? (b.MsgSeqList ?? []).map((m) => m.MsgSeq).join(',')}`}`

const app = express()
app.use(express.json({ type: () => true })) // Tencent sends no content-type
app.post('/', (req, res) => {
  const command = String(req.query.CallbackCommand ?? '')
  const body = req.body ?? {}
  insert.run(command, keyOf(command, body), JSON.stringify(body), Date.now())
  res.json({ ActionStatus: 'OK', ErrorCode: 0, ErrorInfo: '' })
})
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'))
server.keepAliveTimeout = 65_000

for (const sig of ['SIGTERM', 'SIGINT'])
  process.on(sig, () =>
    server
      .close(() => {
        db.close()
        process.exit(0)
      })
      .closeAllConnections(),
  )
