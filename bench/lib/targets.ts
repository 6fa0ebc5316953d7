/**
 * The bench's targets: each a separate process, started pinned to CPU 0 (`taskset -c 0`, which
 * holds for every thread it starts), answering on its own port; each start gets a fresh database
 * (a new SQLite file, a new PostgreSQL schema) that is removed when it stops.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SDK_APP_ID, TOKEN } from './wrk.js'

export const ADMIN = 'bench-admin-token-0123456789'
const node = process.execPath
export const pgUrl = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
/** Where the SQLite files go: a disk, so that `synchronous = FULL` pays a real fsync (not tmpfs). */
export const work = join(process.env.TIMHOOK_BENCH_DIR ?? tmpdir(), `timhook-bench-${process.pid}`)

export interface Target {
  name: string
  /** One line for the docs: what the process is. */
  what: string
  /** The argv of the target process (run under `taskset -c 0`) and what to remove after it stops. */
  start: (port: number) => { argv: string[]; cleanup?: () => Promise<void>; db?: string }
  available: () => string | true
  /** Environment of the target process beyond the bench's own (e.g. NODE_OPTIONS with V8 flags). */
  env?: Record<string, string>
}

const serveArgs = (port: number, db: string, extra: string[] = []) => [
  node,
  'dist/cli/main.js',
  'serve',
  '--host',
  '127.0.0.1',
  '--port',
  String(port),
  '--sdk-app-id',
  SDK_APP_ID,
  '--token',
  TOKEN,
  '--admin-token',
  ADMIN,
  '--db',
  db,
  ...extra,
]

let fileCounter = 0
function sqliteFile(prefix: string): { path: string; cleanup: () => Promise<void> } {
  mkdirSync(work, { recursive: true })
  const path = join(work, `${prefix}-${++fileCounter}.db`)
  return {
    path,
    cleanup: async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true })
    },
  }
}

function pgSchema(): { schema: string; cleanup: () => Promise<void> } {
  const schema = `bench_${process.pid}_${++fileCounter}`
  return {
    schema,
    cleanup: async () => {
      const { default: pg } = await import('pg')
      const client = new pg.Client({ connectionString: pgUrl })
      try {
        await client.connect()
        await client.query(`drop schema if exists ${schema} cascade`)
      } finally {
        await client.end().catch(() => {})
      }
    },
  }
}

let serveChecked: string | true | undefined
function serveAvailable(): string | true {
  if (serveChecked !== undefined) return serveChecked
  try {
    const help = execFileSync(node, ['dist/cli/main.js', 'serve', '--help'], { encoding: 'utf8' })
    serveChecked = help.includes('--db') ? true : '`timhook serve` is not built (run npm run build)'
  } catch {
    serveChecked = '`timhook serve` is not available (run npm run build)'
  }
  return serveChecked
}

const sqliteServe = (name: string, what: string, extra: string[] = [], needs?: string, env?: Record<string, string>): Target => ({
  name,
  what,
  start: (port) => {
    const db = sqliteFile(name)
    return { argv: serveArgs(port, db.path, extra), cleanup: db.cleanup, db: db.path }
  },
  available: () => (needs !== undefined && !existsSync(needs) ? `${needs} is missing` : serveAvailable()),
  ...(env === undefined ? {} : { env }),
})

export const TARGETS: Target[] = [
  {
    name: 'limit',
    what: 'node:http that reads the body and answers the fixed OK envelope: the ceiling for any Node receiver',
    start: () => ({ argv: [node, 'bench/targets/limit.mjs'] }),
    available: () => true,
  },
  {
    name: 'limit-parse',
    what: 'the limit plus `JSON.parse` of the body: the ceiling for a receiver that looks at the body at all',
    start: () => ({ argv: [node, 'bench/targets/limit-parse.mjs'] }),
    available: () => true,
  },
  {
    name: 'naive',
    what: 'Express 5 + `express.json()` + a switch on `CallbackCommand`, no verification, nothing stored',
    start: () => ({ argv: [node, 'bench/targets/naive.mjs'] }),
    available: () => true,
  },
  {
    name: 'naive-sqlite',
    what: 'Express 5 + `express.json()` + one synchronous node:sqlite insert per request (WAL, `synchronous = FULL`), 200 after it',
    start: () => {
      const db = sqliteFile('naive-sqlite')
      return { argv: [node, 'bench/targets/naive-sqlite.mjs', db.path], cleanup: db.cleanup }
    },
    available: () => true,
  },
  {
    name: 'library',
    what: '`createReceiver` on node:http, token on, handlers for the three callbacks',
    start: () => ({ argv: [node, 'bench/targets/library.mjs'] }),
    available: () => true,
  },
  sqliteServe('server-sqlite', '`timhook serve` on SQLite: every after-callback durable before its 200'),
  {
    name: 'server-pg',
    what: '`timhook serve` on PostgreSQL (a fresh schema per start)',
    start: (port) => {
      const s = pgSchema()
      return { argv: serveArgs(port, pgUrl!, ['--pg-schema', s.schema]), cleanup: s.cleanup }
    },
    available: () => (pgUrl === undefined ? 'set TIMHOOK_BENCH_PG_URL (or TIMHOOK_TEST_PG_URL) to a PostgreSQL URL' : serveAvailable()),
  },
  sqliteServe(
    'server-policy',
    '`timhook serve` on SQLite with `examples/policy.yaml` (10,000 keywords, regex, rate limits, mask and stamp rules)',
    ['--policy', 'examples/policy.yaml'],
    'examples/policy.yaml',
  ),
  // One build against another, paired: `TIMHOOK_BENCH_VERSUS=DIR` names another checkout, built
  // (`npm run build` there); its `serve` runs with this checkout's policy file, on the same load.
  {
    name: 'server-policy-versus',
    what: '`timhook serve` on SQLite with `examples/policy.yaml`, started from the build in `TIMHOOK_BENCH_VERSUS` (another checkout)',
    start: (port) => {
      const db = sqliteFile('server-policy-versus')
      const argv = serveArgs(port, db.path, ['--policy', 'examples/policy.yaml'])
      argv[1] = join(process.env.TIMHOOK_BENCH_VERSUS!, 'dist/cli/main.js')
      return { argv, cleanup: db.cleanup, db: db.path }
    },
    available: () => {
      const dir = process.env.TIMHOOK_BENCH_VERSUS
      if (dir === undefined) return 'set TIMHOOK_BENCH_VERSUS to another checkout, built'
      return existsSync(join(dir, 'dist/cli/main.js')) ? serveAvailable() : `${dir}/dist/cli/main.js is missing (npm run build there)`
    },
  },
  sqliteServe(
    'server-policy-nostamp',
    '`timhook serve` on SQLite with the example policy less its stamp rule (`bench/targets/policy-no-stamp.yaml`)',
    ['--policy', 'bench/targets/policy-no-stamp.yaml'],
    'bench/targets/policy-no-stamp.yaml',
  ),
  sqliteServe(
    'server-sqlite-young16',
    "`timhook serve` on SQLite with `NODE_OPTIONS=--max-semi-space-size=16`: the main isolate's young generation capped at 2 × 16 MiB",
    [],
    undefined,
    { NODE_OPTIONS: '--max-semi-space-size=16' },
  ),
  sqliteServe(
    'server-empty-policy',
    '`timhook serve` on SQLite with a policy of no rules (`bench/targets/empty-policy.yaml`)',
    ['--policy', 'bench/targets/empty-policy.yaml'],
    'bench/targets/empty-policy.yaml',
  ),
]

export function target(name: string): Target {
  const t = TARGETS.find((x) => x.name === name)
  if (t === undefined) throw new Error(`no bench target named ${name} (${TARGETS.map((x) => x.name).join(', ')})`)
  return t
}

// ── processes ─────────────────────────────────────────────────────────────────────────────
// Below Linux's ephemeral range (32768–60999), where wrk's and the database clients' own sockets live.
let nextPort = 21000 + (process.pid % 500) * 20

export interface Running {
  name: string
  child: ChildProcess
  pid: number
  port: number
  /** The SQLite file of a target that has one. */
  db?: string
  stop: () => Promise<void>
}

// Targets run in sessions of their own, so a Ctrl-C at the terminal does not reach them: the bench
// stops what it started (stopAll) before it exits.
const running = new Set<Running>()

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((r) => r.stop()))
}

export interface StartOptions {
  /** Preload bench/lib/memory-probe.mjs: every thread of the target reports its V8 heap to this directory. */
  memoryProbe?: string
}

export async function startTarget(t: Target, o: StartOptions = {}, attempt = 1): Promise<Running> {
  try {
    return await startTargetOnce(t, o)
  } catch (err) {
    if (attempt < 3 && /EADDRINUSE/.test(String(err))) return startTarget(t, o, attempt + 1)
    throw err
  }
}

export const MEMORY_PROBE = fileURLToPath(new URL('./memory-probe.mjs', import.meta.url))

/** The target's environment: the bench's, the target's own, and the memory probe when asked (NODE_OPTIONS joined, not replaced). */
export function targetEnv(t: Target, port: number, o: StartOptions = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), SDK_APP_ID, TOKEN, TIMHOOK_LOG_LEVEL: 'warn', ...t.env }
  const nodeOptions = [process.env.NODE_OPTIONS, t.env?.NODE_OPTIONS]
  if (o.memoryProbe !== undefined) {
    // Quoted: NODE_OPTIONS splits on spaces, and the checkout's path may hold one.
    nodeOptions.push(`--import ${JSON.stringify(MEMORY_PROBE)}`)
    env.TIMHOOK_BENCH_MEMORY_DIR = o.memoryProbe
  }
  const joined = nodeOptions.filter((x) => x !== undefined && x !== '').join(' ')
  if (joined === '') delete env.NODE_OPTIONS
  else env.NODE_OPTIONS = joined
  return env
}

async function startTargetOnce(t: Target, o: StartOptions): Promise<Running> {
  const port = nextPort++
  const { argv, cleanup, db } = t.start(port)
  const child = spawn('taskset', ['-c', '0', ...argv], {
    env: targetEnv(t, port, o),
    stdio: ['ignore', 'pipe', 'pipe'],
    // A session of its own (setsid), hence a scheduler autogroup of its own where the kernel has
    // them: two targets on one core then get half of it each, whatever their thread counts.
    detached: true,
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)))
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)))
  const stop = async () => {
    running.delete(self)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(10_000)])
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await new Promise((r) => child.once('exit', r))
      }
    }
    await cleanup?.().catch((err: unknown) => console.error(`${t.name}: cleanup failed: ${String(err)}`))
  }
  const self: Running = { name: t.name, child, pid: child.pid!, port, stop, ...(db === undefined ? {} : { db }) }
  running.add(self)
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) {
      await cleanup?.().catch((err: unknown) => console.error(`${t.name}: cleanup failed: ${String(err)}`))
      throw new Error(`${t.name} exited at start: ${output.slice(-2000)}`)
    }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${t.name} did not listen on ${port} within 30 s: ${output.slice(-2000)}`)
    }
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`)
      break
    } catch {
      await sleep(100)
    }
  }
  return self
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function removeWork() {
  rmSync(work, { recursive: true, force: true })
}
