/**
 * Node's built-in SQLite driver (`node:sqlite`), as the store uses it on every supported Node:
 * loading it, opening a file with an error that names the path and the cause, transactions, and
 * SQLite's result-code names.
 *
 * Loading: Node 22 marks `node:sqlite` experimental and prints "ExperimentalWarning: SQLite is an
 * experimental feature…" when it is first loaded. That one warning is dropped here, while the
 * module loads synchronously; every other warning (other experimental features included) still
 * reaches `process.emitWarning` as usual. Node 24 and later print nothing.
 *
 * Strings: SQLite stores text as UTF-8, and a JavaScript string holding a lone surrogate (an
 * unpaired half of a UTF-16 pair, e.g. `'\ud800x'`) has no UTF-8 form. The driver stores each lone
 * surrogate as U+FFFD (the replacement character) on Node 22, 24 and 26 alike, in parameters bound
 * to text columns and in query parameters, so a filter matches what was stored. JSON bodies keep
 * them exactly: `JSON.stringify` writes them as `\ud800` escapes, and raw bodies are stored as bytes.
 */
import { existsSync, statSync, accessSync, constants as fs } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import type * as NodeSqlite from 'node:sqlite'

export type DatabaseSync = NodeSqlite.DatabaseSync
export type StatementSync = NodeSqlite.StatementSync

/** True for the warning Node 22 prints when `node:sqlite` loads, and for nothing else. */
export function isSqliteExperimentalWarning(warning: unknown, typeOrOptions: unknown): boolean {
  const type = typeof typeOrOptions === 'string' ? typeOrOptions : (typeOrOptions as { type?: unknown } | undefined)?.type
  const name = warning instanceof Error ? warning.name : type
  const text = warning instanceof Error ? warning.message : String(warning)
  return name === 'ExperimentalWarning' && text.startsWith('SQLite is an experimental feature')
}

function load(): typeof NodeSqlite {
  const emit = process.emitWarning
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (isSqliteExperimentalWarning(warning, rest[0])) return
    return (emit as (...args: unknown[]) => void).call(process, warning, ...rest)
  } as typeof process.emitWarning
  try {
    return createRequire(import.meta.url)('node:sqlite') as typeof NodeSqlite
  } finally {
    process.emitWarning = emit
  }
}

const sqlite = load()

/** Why a database file could not be opened, in words: the directory, permissions, or what SQLite said. */
function openCause(path: string, err: unknown): string {
  const dir = dirname(resolve(path))
  if (!existsSync(dir)) return 'directory does not exist'
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`
    if (existsSync(path) && statSync(path).isDirectory()) return 'it is a directory'
    accessSync(existsSync(path) ? path : dir, fs.R_OK | fs.W_OK)
  } catch (e) {
    if ((e as { code?: unknown }).code === 'EACCES' || (e as { code?: unknown }).code === 'EPERM') return 'permission denied'
  }
  return err instanceof Error ? err.message : String(err)
}

export interface OpenOptions {
  readOnly?: boolean
  /** Busy timeout, ms: how long a statement waits for another connection's lock. */
  busyTimeoutMs?: number
}

/**
 * Opens a database file and runs `setup` on it (pragmas, migrations); any failure is an Error
 * naming the path and the cause, e.g. `cannot open SQLite database /x/y.db: directory does not exist`.
 * A file that is not a SQLite database fails here too (SQLite finds out at the first statement).
 */
export function openDatabase(path: string, options: OpenOptions = {}, setup: (db: DatabaseSync) => void = () => {}): DatabaseSync {
  let db: DatabaseSync
  try {
    db = new sqlite.DatabaseSync(path, { readOnly: options.readOnly === true })
  } catch (err) {
    throw new Error(`cannot open SQLite database ${path}: ${openCause(path, err)}`, { cause: err })
  }
  try {
    if (options.busyTimeoutMs !== undefined) db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs))}`)
    db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get() // reads the header: "file is not a database" shows here
  } catch (err) {
    db.close()
    throw new Error(`cannot open SQLite database ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
  try {
    setup(db)
  } catch (err) {
    db.close()
    throw err
  }
  return db
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * The string as the driver stores it: each lone surrogate replaced by U+FFFD. For text that
 * reaches SQLite another way than a bound parameter — a JSON array unpacked by `json_each`,
 * whose `\ud800` escapes SQLite would decode to bytes that match no stored key.
 */
export const asStored = (s: string): string => s.replace(LONE_SURROGATE, '\ufffd')

/** Runs `fn` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when it throws. */
export function immediate<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (err) {
    // SQLite may have rolled back already (e.g. SQLITE_FULL, an interrupt): then there is nothing to undo.
    if (db.isTransaction) db.exec('ROLLBACK')
    throw err
  }
}

/** A PRAGMA's single value, e.g. `pragma(db, 'user_version')`. */
export function pragma(db: DatabaseSync, name: string): unknown {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined
  return row === undefined ? undefined : Object.values(row)[0]
}

const PRIMARY = [
  'OK',
  'ERROR',
  'INTERNAL',
  'PERM',
  'ABORT',
  'BUSY',
  'LOCKED',
  'NOMEM',
  'READONLY',
  'INTERRUPT',
  'IOERR',
  'CORRUPT',
  'NOTFOUND',
  'FULL',
  'CANTOPEN',
  'PROTOCOL',
  'EMPTY',
  'SCHEMA',
  'TOOBIG',
  'CONSTRAINT',
  'MISMATCH',
  'MISUSE',
  'NOLFS',
  'AUTH',
  'FORMAT',
  'RANGE',
  'NOTADB',
]
const EXTENDED: Record<number, string> = {
  275: 'SQLITE_CONSTRAINT_CHECK',
  787: 'SQLITE_CONSTRAINT_FOREIGNKEY',
  1299: 'SQLITE_CONSTRAINT_NOTNULL',
  1555: 'SQLITE_CONSTRAINT_PRIMARYKEY',
  2067: 'SQLITE_CONSTRAINT_UNIQUE',
  517: 'SQLITE_BUSY_SNAPSHOT',
  261: 'SQLITE_BUSY_RECOVERY',
  1032: 'SQLITE_READONLY_DBMOVED',
}

/** SQLite's name for a driver error's result code (`SQLITE_BUSY`, `SQLITE_CONSTRAINT_NOTNULL`, …), or undefined when it is not a SQLite error. */
export function sqliteCode(err: unknown): string | undefined {
  const errcode = (err as { errcode?: unknown } | null)?.errcode
  if (typeof errcode !== 'number') return undefined
  return EXTENDED[errcode] ?? (PRIMARY[errcode & 0xff] === undefined ? `SQLITE_${errcode}` : `SQLITE_${PRIMARY[errcode & 0xff]}`)
}
