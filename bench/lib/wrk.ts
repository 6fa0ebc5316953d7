/**
 * One wrk run against one target, pinned to CPU 1, with bench/lib/mix.lua: the target's CPU time
 * (all threads) and RSS are read from /proc over the same interval.
 */
import { execFileSync, spawn } from 'node:child_process'
import { sign } from '../../src/protocol/signature.js'
import { cpuMicros, rssMiB } from './procs.js'

export const SDK_APP_ID = '1400000000'
export const TOKEN = 'bench-token'

export interface WrkResult {
  requests: number
  duration_us: number
  non2xx: number
  socket_errors: number
  timeouts: number
  p50_us: number
  p90_us: number
  p99_us: number
  max_us: number
}

export interface Measured extends WrkResult {
  /** Requests per second over wrk's own duration. */
  rps: number
  /** CPU µs per request of the target process, all threads. */
  cpuUsPerRequest: number
  /** The target's CPU time ÷ wall time over the run: 1.0 is one core fully used. */
  cpuShare: number
  peakRssMiB: number
  /** RSS every `rssEveryMs`, with the seconds since the start of the run. */
  rssSamples: Array<{ s: number; mib: number }>
}

/** Signed query strings for the three callbacks of the mix; `RequestTime` is now, so build them per run. */
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

// Every wrk run numbers its callbacks from its own base, so that no two runs of one bench send the
// same idempotency key (a repeated key is a cheap duplicate for a server, not a write).
let runs = 0

export interface WrkOptions {
  port: number
  seconds: number
  connections: number
  /** The target's pid, for CPU and RSS. */
  pid: number
  /** mix.lua's knobs: ONLY, SENDERS, DELAY_MS. */
  env?: Record<string, string>
  rssEveryMs?: number
}

export async function runWrk(o: WrkOptions): Promise<Measured> {
  const samples: Array<{ s: number; mib: number }> = []
  const t0 = performance.now()
  const cpuBefore = cpuMicros(o.pid)
  const sampler = setInterval(() => samples.push({ s: (performance.now() - t0) / 1000, mib: rssMiB(o.pid) }), o.rssEveryMs ?? 250)
  const keyBase = String(++runs * 1e10)
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'taskset',
      [
        '-c',
        '1',
        'wrk',
        '-t',
        String(Math.min(o.connections, 2)),
        '-c',
        String(o.connections),
        '-d',
        `${o.seconds}s`,
        '--timeout',
        '5s',
        '-s',
        'bench/lib/mix.lua',
        `http://127.0.0.1:${o.port}/`,
      ],
      { env: { ...process.env, ...queries(), KEY_BASE: keyBase, ...o.env } },
    )
    let text = ''
    child.stdout.on('data', (d: Buffer) => (text += d.toString()))
    child.stderr.on('data', (d: Buffer) => (text += d.toString()))
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`))))
  })
  const wallUs = (performance.now() - t0) * 1000
  clearInterval(sampler)
  samples.push({ s: wallUs / 1e6, mib: rssMiB(o.pid) })
  const cpu = cpuMicros(o.pid) - cpuBefore
  const line = /WRKJSON (\{.*\})/.exec(out)
  if (!line) throw new Error(`wrk printed no result: ${out}`)
  const r = JSON.parse(line[1]!) as WrkResult
  return {
    ...r,
    rps: r.requests / (r.duration_us / 1e6),
    cpuUsPerRequest: cpu / Math.max(1, r.requests),
    cpuShare: cpu / wallUs,
    peakRssMiB: Math.max(0, ...samples.map((x) => x.mib)),
    rssSamples: samples,
  }
}

export function ensureWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
  } catch (err) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return
    if (process.getuid?.() === 0) {
      console.log('installing wrk (apt-get install wrk)')
      execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'inherit' })
      return
    }
    throw new Error('wrk is required: apt-get install wrk (Debian/Ubuntu) or brew install wrk')
  }
}
