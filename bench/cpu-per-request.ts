/**
 * CPU µs per request of one target under the bench's mix (bench/lib/mix.lua: a signed
 * before-send, a group recall, a C2C withdraw in turn, each with a unique key): the target's
 * utime + stime from /proc (all its threads: the event loop, the SQLite writer and readers, libuv)
 * divided by the requests wrk completed. On a shared machine this is steadier than req/s: another
 * process's work slows the target but does not add to its CPU time.
 *
 *   npm run build && npx tsx bench/cpu-per-request.ts [--target sqlite|pg|limit|limit-parse|library] [--seconds 5]
 *     [--rounds 3] [--connections 32] [--profile DIR] [--root DIR …] [--policy FILE|none …]
 *
 * The target is pinned to CPU 0 and wrk to CPU 1. `--profile DIR` runs the target under
 * `node --cpu-prof` (one .cpuprofile per thread, the writer's too) and prints each profile's
 * top self-time entries. `--root` (repeatable) runs the target from each of several checkouts (each
 * built), in alternating rounds, to compare two versions under the same load; `DIR@NAME=VALUE,…`
 * runs that checkout with those environment variables, to compare two settings of one build
 * (`--root . --root .@NODE_OPTIONS=--max-semi-space-size=16`). PostgreSQL:
 * TIMHOOK_BENCH_PG_URL or TIMHOOK_TEST_PG_URL, one schema per checkout (`cpu_` and the checkout's
 * directory name), so versions with different migrations can be compared on one database. `--policy FILE`
 * starts `serve` with that policy (repeatable: the variants alternate round by round, and `none` is
 * `serve` without a policy; with two policies — or two checkouts — their ratio is printed round by
 * round, per checkout, as the paired bench states it: the second's CPU per request ÷ the first's).
 * With `ONLY=before SENDERS=100003` in the environment the load is the policy pairs' before-sends:
 *
 *   ONLY=before SENDERS=100003 npx tsx bench/cpu-per-request.ts --policy examples/policy.yaml --root A --root B
 *   ONLY=before SENDERS=100003 npx tsx bench/cpu-per-request.ts --policy bench/targets/empty-policy.yaml --policy none --rounds 6
 *   ONLY=before SENDERS=100003 npx tsx bench/cpu-per-request.ts --policy bench/targets/empty-policy.yaml --policy none --root A --root B
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { sign } from '../src/protocol/signature.js'

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'sqlite' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    profile: { type: 'string' },
    root: { type: 'string', multiple: true },
    policy: { type: 'string', multiple: true },
  },
})
const SDK_APP_ID = '1400000000'
const TOKEN = 'bench-token'
const ADMIN_TOKEN = 'bench-admin-token-cpu' // only to read /metrics after a round
const pgUrl = process.env.TIMHOOK_BENCH_PG_URL ?? process.env.TIMHOOK_TEST_PG_URL
const work = mkdtempSync(join(tmpdir(), 'timhook-cpu-'))
const clockTicks = 100 // USER_HZ on Linux

function cpuMicros(pid: number, tid?: string): number {
  // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8')
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return ((Number(rest[11]) + Number(rest[12])) * 1e6) / clockTicks
}

/** CPU µs of each thread, by thread name (threads of one name summed: the libuv pool, V8's workers). */
function threadMicros(pid: number): Map<string, number> {
  const out = new Map<string, number>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim()
      out.set(name, (out.get(name) ?? 0) + cpuMicros(pid, tid))
    } catch {
      // the thread ended
    }
  }
  return out
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** `DIR@NAME=VALUE,NAME=VALUE`: the checkout, and the environment its target gets beyond the bench's. */
function rootSpec(spec: string): { dir: string; env: Record<string, string> } {
  const at = spec.indexOf('@')
  if (at < 0) return { dir: spec, env: {} }
  const env: Record<string, string> = {}
  for (const kv of spec.slice(at + 1).split(',')) {
    const eq = kv.indexOf('=')
    if (eq <= 0) throw new Error(`--root ${spec}: expected DIR@NAME=VALUE[,NAME=VALUE…]`)
    env[kv.slice(0, eq)] = kv.slice(eq + 1)
  }
  return { dir: spec.slice(0, at), env }
}

/** `--policy` given several times: each round runs every variant in turn; `none` is `serve` without a policy. */
const policies: Array<string | undefined> = (values.policy ?? ['none']).map((p) => (p === 'none' ? undefined : p))

function argv(port: number, round: number, spec: string, policy: string | undefined): string[] {
  const root = rootSpec(spec).dir
  const prof = values.profile === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values.profile]
  if (values.target === 'limit') return [process.execPath, ...prof, join(root, 'bench/targets/limit.mjs')]
  if (values.target === 'library' || values.target === 'limit-parse')
    return [process.execPath, ...prof, join(root, `bench/targets/${values.target}.mjs`)]
  const db = values.target === 'pg' ? pgUrl : join(work, `cpu-${round}.db`)
  if (db === undefined) throw new Error('set TIMHOOK_BENCH_PG_URL (or TIMHOOK_TEST_PG_URL) for --target pg')
  const schema = `cpu_${basename(resolve(root))
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63)
  return [
    process.execPath,
    ...prof,
    join(root, 'dist/cli/main.js'),
    'serve',
    ...['--host', '127.0.0.1', '--port', String(port), '--sdk-app-id', SDK_APP_ID, '--token', TOKEN, '--db', db],
    ...['--admin-token', ADMIN_TOKEN],
    ...(policy === undefined ? [] : ['--policy', resolve(policy)]),
    ...(values.target === 'pg' ? ['--pg-schema', schema] : []),
  ]
}

function queries(): Record<string, string> {
  const t = Math.floor(Date.now() / 1000)
  const q = (command: string) =>
    `SdkAppid=${SDK_APP_ID}&CallbackCommand=${command}&contenttype=json&ClientIP=10.0.0.1&OptPlatform=RESTAPI&Sign=${sign(TOKEN, t)}&RequestTime=${t}`
  return {
    Q_BEFORE: q('Group.CallbackBeforeSendMsg'),
    Q_RECALL: q('Group.CallbackAfterRecallMsg'),
    Q_WITHDRAW: q('C2C.CallbackAfterMsgWithDraw'),
  }
}

function wrk(port: number, seconds: number): Promise<{ requests: number; non2xx: number }> {
  return new Promise((resolve, reject) => {
    const c = Number(values.connections)
    const child = spawn(
      'taskset',
      ['-c', '1', 'wrk', '-t', '2', '-c', String(c), '-d', `${seconds}s`, '-s', 'bench/lib/mix.lua', `http://127.0.0.1:${port}/`],
      { env: { ...process.env, ...queries() } },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('exit', (code) => {
      const m = /WRKJSON (\{.*\})/.exec(out)
      if (code !== 0 || m === null) reject(new Error(`wrk failed (${code}): ${out}`))
      else resolve(JSON.parse(m[1]!) as { requests: number; non2xx: number })
    })
  })
}

async function round(
  n: number,
  root: string,
  policy: string | undefined,
): Promise<{ cpuUs: number; rps: number; non2xx: number; threads: string }> {
  const port = 23000 + (process.pid % 1000) + n
  const child = spawn('taskset', ['-c', '0', ...argv(port, n, root, policy)], {
    env: { ...process.env, PORT: String(port), SDK_APP_ID, TOKEN, TIMHOOK_LOG_LEVEL: 'warn', ...rootSpec(root).env },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  for (let i = 0; ; i++) {
    if (i > 200) throw new Error('the target did not start')
    try {
      await fetch(`http://127.0.0.1:${port}/healthz`)
      break
    } catch {
      await sleep(100)
    }
  }
  await wrk(port, 1) // warm-up: JIT, caches, the first pages of the file
  const seconds = Number(values.seconds)
  const before = cpuMicros(child.pid!)
  const threadsBefore = threadMicros(child.pid!)
  const t0 = performance.now()
  const r = await wrk(port, seconds)
  const cpu = cpuMicros(child.pid!) - before
  const threads = [...threadMicros(child.pid!)].map(
    ([name, us]) => `${name} ${((us - (threadsBefore.get(name) ?? 0)) / r.requests).toFixed(1)}`,
  )
  const elapsed = (performance.now() - t0) / 1000
  // The store's mean batch (records per commit) since the start: per-batch costs weigh by it.
  const batch = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    .then((res) => res.text())
    .then((t) => {
      const sum = /^timhook_store_batch_size_sum (\S+)/m.exec(t)
      const count = /^timhook_store_batch_size_count (\S+)/m.exec(t)
      return sum === null || count === null ? undefined : Number(sum[1]) / Number(count[1])
    })
    .catch(() => undefined)
  const exited = new Promise((res) => child.once('exit', res))
  child.kill('SIGTERM')
  await exited
  return {
    cpuUs: cpu / r.requests,
    rps: r.requests / elapsed,
    non2xx: r.non2xx,
    threads: threads.join(', ') + (batch === undefined ? '' : `; mean batch ${batch.toFixed(1)} records`),
  }
}

/** The top self-time entries of each .cpuprofile in the directory. */
function profileTops(dir: string, top = 15): void {
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>
      samples: number[]
    }
    const byId = new Map(p.nodes.map((n) => [n.id, n]))
    const self = new Map<string, number>()
    for (const s of p.samples) {
      const cf = byId.get(s)!.callFrame
      const name = `${cf.functionName || '(anonymous)'} ${cf.url.replace(/^.*\/(src|dist|node_modules)\//, '$1/')}:${cf.lineNumber + 1}`
      self.set(name, (self.get(name) ?? 0) + 1)
    }
    const total = p.samples.length
    console.log(`\n${f} (${total} samples)`)
    for (const [name, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`  ${((100 * n) / total).toFixed(1).padStart(5)} %  ${name}`)
  }
}

const rounds = Number(values.rounds)
const roots = values.root ?? ['.']
const variants = roots.flatMap((root) => policies.map((policy) => ({ root, policy })))
const label = (v: { root: string; policy: string | undefined }) =>
  values.policy === undefined ? v.root : `${v.root} policy ${v.policy ?? 'none'}`
const results = new Map<string, number[]>(variants.map((v) => [label(v), []]))
for (let i = 0; i < rounds; i++) {
  for (const [j, v] of variants.entries()) {
    const r = await round(i * variants.length + j, v.root, v.policy)
    results.get(label(v))!.push(r.cpuUs)
    console.log(
      `${values.target} ${label(v)} round ${i + 1}: ${r.cpuUs.toFixed(1)} µs CPU per request (all threads), ${Math.round(r.rps)} req/s, non-2xx ${r.non2xx}\n  by thread (µs per request): ${r.threads}`,
    )
  }
}
const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const [name, xs] of results) {
  console.log(`${values.target} ${name}: median ${medianOf(xs).toFixed(1)} µs CPU per request over ${rounds} rounds`)
}
// Two variants per checkout (two builds, or two policies): their ratio round by round (each round ran
// both, back to back), as the paired bench states its pairs: the second's CPU per request ÷ the
// first's (as the first's req/s ÷ the second's on one core). With two policies and several
// checkouts, one ratio per checkout.
const pairsOfVariants =
  policies.length === 2
    ? roots.map((root) => [label({ root, policy: policies[0] }), label({ root, policy: policies[1] })] as const)
    : variants.length === 2
      ? [[label(variants[0]!), label(variants[1]!)] as const]
      : []
for (const [first, second] of pairsOfVariants) {
  const a = results.get(first)!
  const b = results.get(second)!
  const ratios = a.map((x, i) => b[i]! / x)
  console.log(
    `${first} ÷ ${second} (paired ratio: CPU per request of the second ÷ of the first): median ${medianOf(ratios).toFixed(3)} (rounds ${ratios.map((r) => r.toFixed(3)).join(', ')})`,
  )
}
if (values.profile !== undefined) profileTops(values.profile)
rmSync(work, { recursive: true, force: true })
