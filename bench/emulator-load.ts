/**
 * How many callbacks/s one core of the load generator (`timhook emulator load`) can drive.
 *
 * The target is the simplest possible node:http server answering `{"ActionStatus":"OK",...}`, in a
 * child process so that it does not share this process's CPU accounting. Two clients run against it
 * in alternating rounds, in this process:
 *   baseline   a bare undici Pool sending one fixed callback body in a closed loop (the HTTP floor)
 *   generator  runLoad(): the realistic mix, signed, open-loop at a rate above what the machine can do
 * Each is measured in callbacks per CPU second of this process (process.cpuUsage), which does not
 * depend on how fast the target or the other tenants of the machine are. Read the ratio.
 *
 *   npx tsx bench/emulator-load.ts [--rounds 3] [--seconds 4] [--connections 64] [--max-in-flight 1024]
 */
import { fork } from 'node:child_process'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'
import { runLoad } from '../src/load/run-load.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '4' },
    connections: { type: 'string', default: '64' },
    'max-in-flight': { type: 'string', default: '1024' },
    child: { type: 'boolean', default: false },
  },
})

if (values.child) {
  const http = await import('node:http')
  const answer = '{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length })
      res.end(answer)
    })
  })
  server.keepAliveTimeout = 65_000
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as { port: number }).port))
  process.on('disconnect', () => process.exit(0))
} else {
  const child = fork(new URL(import.meta.url).pathname, ['--child'], { execArgv: ['--import', 'tsx'] })
  const port = await new Promise<number>((resolve) => child.once('message', (p) => resolve(p as number)))
  const target = `http://127.0.0.1:${port}/im`
  const seconds = Number(values.seconds)
  const connections = Number(values.connections)

  const body = Buffer.from(
    JSON.stringify({
      CallbackCommand: 'Group.CallbackAfterSendMsg',
      GroupId: '@TGS#2J4SZEAEL',
      Type: 'Public',
      From_Account: 'jared',
      Operator_Account: 'jared',
      Random: 123456,
      MsgSeq: 1,
      MsgTime: 1670574414,
      OnlineOnlyFlag: 0,
      MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } }],
      EventTime: 1670574414123,
    }),
  )
  async function baseline(): Promise<{ done: number; cpuS: number }> {
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections })
    const path = `/im?SdkAppid=1400000000&CallbackCommand=Group.CallbackAfterSendMsg&contenttype=json&ClientIP=127.0.0.1&OptPlatform=RESTAPI`
    const cpu0 = process.cpuUsage()
    const end = performance.now() + seconds * 1000
    let done = 0
    const worker = async () => {
      while (performance.now() < end) {
        const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body })
        JSON.parse(await res.body.text())
        done++
      }
    }
    await Promise.all(Array.from({ length: connections * 4 }, worker))
    const cpu = process.cpuUsage(cpu0)
    await pool.close()
    return { done, cpuS: (cpu.user + cpu.system) / 1e6 }
  }

  const rows: Array<{ name: string; perCpuS: number; perS: number }> = []
  for (let round = 0; round < Number(values.rounds); round++) {
    const b = await baseline()
    rows.push({ name: 'baseline', perCpuS: b.done / b.cpuS, perS: b.done / seconds })
    const r = await runLoad({
      target,
      token: 'bench-token',
      rate: 1_000_000,
      durationMs: seconds * 1000,
      connections,
      maxInFlight: Number(values['max-in-flight']),
    })
    rows.push({ name: 'generator', perCpuS: r.callbacksPerCpuSecond, perS: r.achievedRate })
  }
  child.disconnect()
  const median = (name: string, key: 'perCpuS' | 'perS') => {
    const v = rows
      .filter((r) => r.name === name)
      .map((r) => r[key])
      .sort((a, b) => a - b)
    return v[Math.floor(v.length / 2)]!
  }
  console.log(
    `target: minimal node:http OK server (child process); ${connections} keep-alive connections; ${values.rounds} rounds × ${seconds} s; medians`,
  )
  for (const name of ['baseline', 'generator']) {
    console.log(
      `${name.padEnd(10)} ${Math.round(median(name, 'perCpuS')).toString().padStart(7)} callbacks per CPU second   ${Math.round(median(name, 'perS')).toString().padStart(7)} callbacks/s achieved`,
    )
  }
  console.log(`generator / baseline (per CPU second): ${(median('generator', 'perCpuS') / median('baseline', 'perCpuS')).toFixed(2)}`)
}
