/**
 * What the SQLite writer thread's priority (`--writer-nice`) does at full load, where its
 * consequences show: the event loop is always runnable, and the writer gets the core only by its
 * weight (nice 0: 1024, 5: 335, 10: 110, 19: 15).
 *
 *   npm run build && npx tsx bench/writer-nice.ts [--nice 0,5,10,19] [--rounds 3] [--seconds 10] [--connections 100]
 *
 * For each nice value, in alternating rounds (the order rotates), `timhook serve` on SQLite is
 * started pinned to CPU 0 with wrk on CPU 1, and loaded unpaced twice:
 * - a before-send flood (`ONLY=before`): answered without waiting for the disk, their records are
 *   written behind; reported: req/s, CPU µs per request (all threads), the writer thread's share
 *   of the core, and the records the store dropped past its cap (`timhook_store_dropped_records`:
 *   a writer that falls behind drops what it cannot keep up with);
 * - the mix (a before-send, a group recall, a C2C withdraw in turn): after-callbacks wait for
 *   their commit; reported: req/s, p50/p99/max latency, CPU µs per request, non-2xx (FAIL answers
 *   past the write queue's cap);
 * - both at once (the flood and the mix, each from its own wrk): whether after-callbacks still get
 *   their 200 while before-sends keep the event loop busy — a writer that falls behind fills the
 *   write queue with before-send records, and an after-callback past the cap gets FAIL at once;
 *   reported: the mix's req/s, p99 and non-2xx, and the records dropped.
 * Each round takes about 3 × (seconds + 1) + 3 s per nice value.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { median } from './lib/stats.js'
import { droppedRecords } from './lib/paced.js'
import { startTarget, target } from './lib/targets.js'
import { ensureWrk, runWrk, type Measured } from './lib/wrk.js'

const { values } = parseArgs({
  options: {
    nice: { type: 'string', default: '0,10' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
  },
})
const NICES = values.nice.split(',').map(Number)
const ROUNDS = Number(values.rounds)
const SECONDS = Number(values.seconds)
const CONNECTIONS = Number(values.connections)
for (const n of NICES) if (!(Number.isInteger(n) && n >= 0 && n <= 19)) throw new Error(`--nice: ${n} is not 0–19`)
if (!(ROUNDS > 0 && SECONDS > 0 && CONNECTIONS > 0)) throw new Error('--rounds, --seconds, --connections must be positive')

const nameOf = (n: number) => (n === 0 ? 'server-sqlite' : `server-sqlite-nice${n}`)

/** CPU µs of the target's threads whose name starts with `prefix` (Node names its worker threads after their module). */
function threadMicros(pid: number, prefix: string): number {
  let us = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').startsWith(prefix)) continue
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      us += ((Number(f[11]) + Number(f[12])) * 1e6) / 100
    } catch {
      // the thread ended
    }
  }
  return us
}

async function dropped(port: number): Promise<number> {
  const n = await droppedRecords(port)
  if (Number.isNaN(n)) throw new Error('no timhook_store_dropped_records in /metrics')
  return n
}

interface Row {
  nice: number
  flood: { rps: number; cpuUs: number; writerShare: number; dropped: number; requests: number }
  mix: { rps: number; p50ms: number; p99ms: number; maxms: number; cpuUs: number; non2xx: number; errors: number }
  both: { mixRps: number; mixP99ms: number; mixNon2xx: number; mixRequests: number; floodRps: number; dropped: number }
}

async function one(nice: number): Promise<Row> {
  const r = await startTarget(target(nameOf(nice)))
  try {
    const before = { ONLY: 'before', SENDERS: '100003' }
    await runWrk({ port: r.port, seconds: 1, connections: CONNECTIONS, pid: r.pid, env: before })
    const d0 = await dropped(r.port)
    const w0 = threadMicros(r.pid, 'sqlite-writer')
    const t0 = performance.now()
    const flood: Measured = await runWrk({ port: r.port, seconds: SECONDS, connections: CONNECTIONS, pid: r.pid, env: before })
    const writerShare = (threadMicros(r.pid, 'sqlite-writer') - w0) / ((performance.now() - t0) * 1000)
    const d1 = await dropped(r.port)
    const mix = await runWrk({ port: r.port, seconds: SECONDS, connections: CONNECTIONS, pid: r.pid })
    const d2 = await dropped(r.port)
    const [bothFlood, bothMix] = await Promise.all([
      runWrk({ port: r.port, seconds: SECONDS, connections: CONNECTIONS, pid: r.pid, env: before }),
      runWrk({ port: r.port, seconds: SECONDS, connections: CONNECTIONS, pid: r.pid }),
    ])
    const d3 = await dropped(r.port)
    return {
      nice,
      flood: { rps: flood.rps, cpuUs: flood.cpuUsPerRequest, writerShare, dropped: d1 - d0, requests: flood.requests },
      mix: {
        rps: mix.rps,
        p50ms: mix.p50_us / 1000,
        p99ms: mix.p99_us / 1000,
        maxms: mix.max_us / 1000,
        cpuUs: mix.cpuUsPerRequest,
        non2xx: mix.non2xx,
        errors: mix.socket_errors + mix.timeouts,
      },
      both: {
        mixRps: bothMix.rps,
        mixP99ms: bothMix.p99_us / 1000,
        mixNon2xx: bothMix.non2xx,
        mixRequests: bothMix.requests,
        floodRps: bothFlood.rps,
        dropped: d3 - d2,
      },
    }
  } finally {
    await r.stop()
  }
}

async function main() {
  ensureWrk()
  console.log(
    `writer nice ${NICES.join(', ')}: ${ROUNDS} rounds × (before-send flood ${SECONDS} s, mix ${SECONDS} s, both at once ${SECONDS} s), ${CONNECTIONS} connections, serve on CPU 0, wrk on CPU 1`,
  )
  const rows: Row[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const k = round % NICES.length
    for (const nice of [...NICES.slice(k), ...NICES.slice(0, k)]) {
      const x = await one(nice)
      rows.push(x)
      const f = x.flood
      const m = x.mix
      console.log(
        `  round ${round + 1} nice ${String(nice).padStart(2)}: flood ${Math.round(f.rps).toLocaleString('en')} req/s, ${f.cpuUs.toFixed(1)} µs CPU/req, writer ${(100 * f.writerShare).toFixed(0)} % of the core, dropped ${f.dropped} of ${f.requests}` +
          ` · mix ${Math.round(m.rps).toLocaleString('en')} req/s p50 ${m.p50ms.toFixed(2)} p99 ${m.p99ms.toFixed(2)} max ${m.maxms.toFixed(1)} ms, ${m.cpuUs.toFixed(1)} µs CPU/req, non-2xx ${m.non2xx}, errors ${m.errors}` +
          ` · both: flood ${Math.round(x.both.floodRps).toLocaleString('en')} req/s, mix ${Math.round(x.both.mixRps).toLocaleString('en')} req/s p99 ${x.both.mixP99ms.toFixed(2)} ms, non-2xx ${x.both.mixNon2xx} of ${x.both.mixRequests}, dropped ${x.both.dropped}`,
      )
    }
  }
  console.log(
    '\n| writer nice | flood req/s | flood CPU µs/req | writer share of the core | dropped (sum) | mix req/s | mix p99 ms | mix max ms | mix CPU µs/req | mix non-2xx (sum) | both: mix req/s | both: mix p99 ms | both: mix non-2xx (sum) | both: dropped (sum) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  )
  for (const nice of NICES) {
    const xs = rows.filter((x) => x.nice === nice)
    const med = (f: (x: Row) => number) => median(xs.map(f))
    const sum = (f: (x: Row) => number) => xs.reduce((a, x) => a + f(x), 0)
    console.log(
      `| ${nice} | ${Math.round(med((x) => x.flood.rps)).toLocaleString('en')} | ${med((x) => x.flood.cpuUs).toFixed(1)} | ${(100 * med((x) => x.flood.writerShare)).toFixed(0)} % | ${sum((x) => x.flood.dropped)} | ${Math.round(med((x) => x.mix.rps)).toLocaleString('en')} | ${med((x) => x.mix.p99ms).toFixed(2)} | ${med((x) => x.mix.maxms).toFixed(1)} | ${med((x) => x.mix.cpuUs).toFixed(1)} | ${sum((x) => x.mix.non2xx)} | ${Math.round(med((x) => x.both.mixRps)).toLocaleString('en')} | ${med((x) => x.both.mixP99ms).toFixed(2)} | ${sum((x) => x.both.mixNon2xx)} | ${sum((x) => x.both.dropped)} |`,
    )
  }
  console.log('(medians over the rounds; dropped and non-2xx summed)')
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
