/**
 * Cost of receiver.handle() per callback for the three core callbacks, beside a minimal baseline
 * that only parses the JSON body, and the cost of schema validation, reading the query and the Sign
 * check alone (CPU time of the process). All cases run in this
 * process, in alternating rounds, so machine noise hits them alike; the ratios are what to read.
 *
 *   npx tsx bench/receiver.ts [--rounds 5] [--iterations 50000]
 *
 * `--http` measures instead, over HTTP (CPU µs per request under the bench's mix, bench/http-parts.ts),
 * what each part of the library costs in a server: limit-parse (read, decode, JSON.parse, answer),
 * then `handle()` behind a minimal listener, then `toNodeHandler` (the adapter), then the same
 * without a token (the Sign check). Needs `npm run build` and wrk; ~(rounds × 4 × (seconds + 3)) s.
 *
 *   npx tsx bench/receiver.ts --http --rounds 3 [--seconds 10]
 */
import { parseArgs } from 'node:util'
import { createReceiver } from '../src/receiver/index.js'
import { decodeEvent } from '../src/protocol/decode.js'
import { sign, verify } from '../src/protocol/signature.js'
import { scanQuery } from '../src/receiver/parse-query.js'
import { verdict } from '../src/protocol/verdict.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '50000' },
    http: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
  },
})
if (values.http) {
  await httpParts()
  process.exit(0)
}
const ROUNDS = Number(values.rounds)
const N = Number(values.iterations)

const APP = '1400000000'
const TOKEN = 'bench-token'
const time = Math.floor(Date.now() / 1000)
// The query as the node:http, Fastify and Fetch adapters pass it: the raw string after '?'.
const query = (command: string) =>
  new URLSearchParams({
    SdkAppid: APP,
    CallbackCommand: command,
    contenttype: 'json',
    ClientIP: '10.0.0.1',
    OptPlatform: 'iOS',
    Sign: sign(TOKEN, time),
    RequestTime: String(time),
  }).toString()

const bodies = {
  'Group.CallbackBeforeSendMsg': {
    CallbackCommand: 'Group.CallbackBeforeSendMsg',
    GroupId: '@TGS#2J4SZEAEL',
    Type: 'Public',
    From_Account: 'jared',
    Operator_Account: 'jared',
    Random: 123456,
    OnlineOnlyFlag: 0,
    MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: '今晚八点开会，别迟到 — see you at 8pm!' } }],
    CloudCustomData: '',
    EventTime: '1670574414123',
  },
  'Group.CallbackAfterRecallMsg': {
    CallbackCommand: 'Group.CallbackAfterRecallMsg',
    Operator_Account: 'admin',
    Type: 'Community',
    GroupId: '@TGS#_@TGS#cQVLVHIM62CJ',
    MsgSeqList: [{ MsgSeq: 130 }],
    TopicId: '@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic',
    EventTime: '1670574414123',
  },
  'C2C.CallbackAfterMsgWithDraw': {
    CallbackCommand: 'C2C.CallbackAfterMsgWithDraw',
    From_Account: 'jared',
    To_Account: 'Jonh',
    MsgKey: '48374_2837546_1557481126',
    UnreadMsgNum: 7,
  },
} as const

const receiver = createReceiver({ sdkAppId: APP, token: TOKEN })
receiver.on('Group.CallbackBeforeSendMsg', () => verdict.allow())
receiver.on('Group.CallbackAfterRecallMsg', () => {})
receiver.on('C2C.CallbackAfterMsgWithDraw', () => {})

type Case = { name: string; run: () => unknown }
const cases: Case[] = []
for (const [command, body] of Object.entries(bodies)) {
  const raw = Buffer.from(JSON.stringify(body))
  const q = query(command)
  cases.push({ name: `baseline JSON.parse   ${command}`, run: () => JSON.parse(raw.toString('utf8')) })
  // The validator on an already-parsed body (after the first call its numeric strings are numbers).
  const parsed = JSON.parse(raw.toString('utf8')) as Record<string, unknown>
  cases.push({ name: `validate only         ${command}`, run: () => decodeEvent(command, parsed) })
  cases.push({ name: `handle() (signed)     ${command}`, run: () => receiver.handle({ method: 'POST', query: q, body: raw }) })
  // Parts of handle(), alone: reading the query string, and the Sign check on what it read.
  cases.push({ name: `query only            ${command}`, run: () => scanQuery(q) })
  const read = scanQuery(q)
  cases.push({
    name: `Sign check only       ${command}`,
    run: () => verify({ sign: read.Sign, requestTime: read.RequestTime }, { tokens: [TOKEN], maxSkewSeconds: 60, now: Date.now() }),
  })
}

// CPU time of this process, not wall time: on a shared machine, time spent descheduled is not the code's.
async function measure(c: Case, n: number): Promise<number> {
  const start = process.cpuUsage()
  for (let i = 0; i < n; i++) {
    const r = c.run()
    if (r instanceof Promise) await r
  }
  const used = process.cpuUsage(start)
  return ((used.user + used.system) * 1000) / n // ns per op
}

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
for (const c of cases) await measure(c, Math.min(N, 5000)) // warm-up, JIT
for (let round = 0; round < ROUNDS; round++) {
  for (const c of round % 2 === 0 ? cases : [...cases].reverse()) samples.get(c.name)!.push(await measure(c, N))
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
console.log(`node ${process.version}, ${ROUNDS} alternating rounds × ${N} iterations, median per case\n`)
console.log('case                                                      µs/op     ops/s   × baseline JSON.parse')
for (const command of Object.keys(bodies)) {
  const base = median(samples.get(`baseline JSON.parse   ${command}`)!)
  for (const c of cases.filter((x) => x.name.endsWith(command))) {
    const ns = median(samples.get(c.name)!)
    console.log(
      `${c.name.padEnd(56)} ${(ns / 1000).toFixed(3).padStart(7)} ${Math.round(1e9 / ns)
        .toLocaleString('en')
        .padStart(10)}   ${(ns / base).toFixed(2).padStart(6)}`,
    )
  }
  console.log('')
}

// ── --http: the parts of a request over HTTP ──
async function httpParts(): Promise<void> {
  const { cpuPerRequest, here, printParts } = await import('./http-parts.js')
  const { readFileSync } = await import('node:fs')
  const target = (body: string) => ['bench/targets/library.mjs', body] as [string, string]
  // The library target's receiver and handlers (bench/targets/library.mjs), with its import made absolute.
  const library = readFileSync(new URL('targets/library.mjs', import.meta.url), 'utf8').replace(
    /'(?:\.\.\/){2}dist\/index\.js'/,
    `'${here('dist/index.js')}'`,
  )
  const minimal = library.replace(
    'const server = http.createServer(toNodeHandler(receiver))',
    `const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const url = req.url
    const q = url.indexOf('?')
    const r = receiver.handle({ method: req.method, query: q === -1 ? '' : url.slice(q + 1), headers: req.headers, body: Buffer.concat(chunks) })
    res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(r.body) }).end(r.body)
  })
})`,
  )
  const variants = [
    { name: 'limit-parse', file: target(readFileSync(new URL('targets/limit-parse.mjs', import.meta.url), 'utf8')) },
    { name: 'handle() behind a minimal listener', file: target(minimal) },
    { name: 'library (toNodeHandler)', file: target(library) },
    { name: 'library without a token', file: target(library.replace(', token: process.env.TOKEN', '')) },
  ]
  if (variants[1]!.file[1] === library || variants[3]!.file[1] === library)
    throw new Error('bench/targets/library.mjs changed: update the variants')
  const medians = await cpuPerRequest('library', variants, { rounds: Number(values.rounds), seconds: Number(values.seconds) })
  printParts(`node ${process.version}, CPU µs per request over HTTP (bench's mix), median of alternating rounds`, medians, [
    ['handle(): verify, decode, route, answer (+ the handlers)', 'handle() behind a minimal listener', 'limit-parse'],
    ['the node:http adapter (toNodeHandler) beyond a minimal listener', 'library (toNodeHandler)', 'handle() behind a minimal listener'],
    ['the Sign check', 'library (toNodeHandler)', 'library without a token'],
  ])
  console.log(
    `\n  library ÷ limit-parse (inverse ratio of CPU per request): ${(medians.get('limit-parse')! / medians.get('library (toNodeHandler)')!).toFixed(3)}`,
  )
}
