/**
 * Cost of policy.decide() per message with 1k / 10k / 100k keywords and 20 regex rules, over
 * realistic mixed-language messages (mostly clean, some with hits); and the receiver's
 * before-send throughput with the example policy against no policy. All cases run in this
 * process in alternating rounds, so machine noise hits them alike.
 *
 *   npx tsx bench/policy.ts [--rounds 5] [--iterations 20000] [--server]
 *
 * --server also measures `timhook serve` over HTTP (autocannon, SQLite store) with and without
 * the example policy.
 *
 * `--http` measures instead what each part of the policy costs `timhook serve` (SQLite) per
 * before-send, as CPU µs per request over HTTP (bench/http-parts.ts; the paired bench's typical
 * traffic: 100,003 senders, every message passes and is stamped): serve without a policy, with an
 * empty one, with the example, and with the example less its stamp rule or its rate rules. Needs
 * `npm run build` and wrk; ~(rounds × 5 × (seconds + 4)) s.
 *
 *   npx tsx bench/policy.ts --http --rounds 3 [--seconds 10]
 */
import { parseArgs } from 'node:util'
import { createPolicy, loadPolicyFile, type Policy } from '../src/policy/index.js'
import { createReceiver } from '../src/receiver/index.js'
import { sign } from '../src/protocol/signature.js'
import { verdict } from '../src/protocol/verdict.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '20000' },
    server: { type: 'boolean', default: false },
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

// A deterministic generator, so every run measures the same words and messages.
let seed = 42
const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 0x1_0000_0000
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!
const CJK = [
  ...'的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严',
]
const LATIN = [...'abcdefghijklmnopqrstuvwxyz']
function word(i: number): string {
  const n = 2 + Math.floor(rnd() * 4)
  let w = ''
  if (i % 2 === 0) for (let k = 0; k < n; k++) w += pick(CJK)
  else for (let k = 0; k < n + 2; k++) w += pick(LATIN)
  return i % 2 === 0 ? w : `${w}${i % 7 === 0 ? ' ' + pick(['now', 'free', 'bonus', 'deal']) : ''}`
}
const ALL_WORDS = Array.from({ length: 100_000 }, (_, i) => word(i))

const CLEAN = [
  '今晚八点开会，别迟到 — see you at 8pm!',
  'ok 👍',
  'where are you? 我在公司楼下等你',
  '收到，明天上午十点前把方案发给你，有问题随时沟通。Thanks!',
  'lol that was great 哈哈哈',
  'Can you review the PR before lunch? 需要改的地方我已经标注了',
  '周末一起去爬山吗？天气预报说是晴天 ☀️',
  'meeting moved to 3pm, room 402',
]
const DIRTY = ['call me at 13812345678 for the deal', 'ＢＵＹ ＮＯＷ at https://evil.example.cn/x', '免费领取 iPhone，加微信 wx_abc123']
// 90 % clean, 10 % with something to find: roughly what a chat app's moderation sees.
const MESSAGES = Array.from({ length: 100 }, (_, i) => (i % 10 === 9 ? DIRTY[i % DIRTY.length]! : CLEAN[i % CLEAN.length]!))
const events = MESSAGES.map((t, i) => ({
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  GroupId: `@TGS#g${i % 7}`,
  Type: 'Public',
  From_Account: `user${i}`,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: t } }],
}))

// 20 regex rules, all accepted by the load-time check (linear), typical of moderation lists.
const REGEXES = [
  '1[3-9]\\d{9}',
  '\\b\\d{3}[- ]?\\d{3}[- ]?\\d{4}\\b',
  '@[a-z0-9-]+\\.(?:com|cn|net|org)\\b',
  'wx(?:id|号)?[:：_]?[a-z][-_a-z0-9]{5,19}',
  'qq[:：]?\\d{5,11}',
  '\\bv[i1]agra\\b',
  '\\bcasino\\b',
  '\\bfree\\s{1,3}money\\b',
  '\\bclick\\s{1,3}here\\b',
  '\\bbit\\.ly/\\w{4,10}',
  '[\\u4e00-\\u9fff]{40}',
  '\\$\\d{3,}',
  '¥\\d{3,}',
  '\\b(?:btc|eth|usdt)\\b',
  '\\btelegram\\b',
  '\\bt\\.me/\\w{4,32}',
  '加[我微]信',
  '代[开办]发票',
  '\\b(?:whatsapp|wechat)\\b',
  '[!！]{5}',
].map((pattern, i) => ({ name: `re${i}`, when: { regex: { pattern, flags: 'i' } }, then: i === 0 ? { mask: '*' } : 'deny' }))

const policyWith = (k: number): Policy =>
  createPolicy({ rules: [{ name: 'words', when: { keywords: ALL_WORDS.slice(0, k) }, then: 'deny' }, ...REGEXES] } as never)

type Case = { name: string; run: (i: number) => unknown }
const cases: Case[] = []
const buildMs: Record<string, number> = {}
for (const k of [1_000, 10_000, 100_000]) {
  const t = performance.now()
  const p = policyWith(k)
  buildMs[k] = performance.now() - t
  cases.push({ name: `decide  ${String(k).padStart(6)} keywords + 20 regex`, run: (i) => p.decide(events[i % events.length]!) })
}
const example = loadPolicyFile('examples/policy.yaml')
// With every message at time 0 and 100 senders, the flood rule refuses nearly all of them after the
// first rounds: the flood traffic. The typical traffic of the server bench (bench/lib/paired.ts)
// is 100,003 senders, no one flooding, every group message stamped: its own policy (its own rate
// windows), a clock advancing 0.1 ms per message (10,000 a second), a new sender and Random each time.
cases.push({ name: 'decide  examples/policy.yaml (flood)', run: (i) => example.decide(events[i % events.length]!, 0) })
const typical = loadPolicyFile('examples/policy.yaml')
const SENDERS = Array.from({ length: 100_003 }, (_, i) => `user${i}`)
const typicalEvents = events.map((e) => ({ ...e, Random: 0 }))
const clock0 = Date.now()
let tick = 0
const typicalRun = (i: number) => {
  const e = typicalEvents[i % typicalEvents.length]!
  e.From_Account = SENDERS[tick % SENDERS.length]!
  e.Random = tick
  return typical.decide(e, clock0 + tick++ / 10)
}
// Every sender once first, so that the measured rounds find each sender's window, as a server does.
for (let k = 0; k < SENDERS.length; k++) typicalRun(k)
cases.push({ name: 'decide  examples/policy.yaml (100,003 senders)', run: typicalRun })

// The receiver with and without the example policy as the before-send decider.
const APP = '1400000000'
const TOKEN = 'bench-token'
const time = Math.floor(Date.now() / 1000)
const query = new URLSearchParams({
  SdkAppid: APP,
  CallbackCommand: 'Group.CallbackBeforeSendMsg',
  contenttype: 'json',
  ClientIP: '10.0.0.1',
  OptPlatform: 'iOS',
  Sign: sign(TOKEN, time),
  RequestTime: String(time),
})
const bodies = events.map((e) => Buffer.from(JSON.stringify(e)))
const plain = createReceiver({ sdkAppId: APP, token: TOKEN })
plain.on('Group.CallbackBeforeSendMsg', () => verdict.allow())
const moderated = createReceiver({ sdkAppId: APP, token: TOKEN })
moderated.on('Group.CallbackBeforeSendMsg', example.decider)
cases.push({
  name: 'receiver.handle() without a policy',
  run: (i) => plain.handle({ method: 'POST', query, body: bodies[i % bodies.length]! }),
})
cases.push({
  name: 'receiver.handle() with examples/policy.yaml',
  run: (i) => moderated.handle({ method: 'POST', query, body: bodies[i % bodies.length]! }),
})

async function measure(c: Case, n: number): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const r = c.run(i)
    if (r instanceof Promise) await r
  }
  return Number(process.hrtime.bigint() - start) / n
}

const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
for (const c of cases) await measure(c, Math.min(N, 5000))
for (let round = 0; round < ROUNDS; round++) {
  for (const c of round % 2 === 0 ? cases : [...cases].reverse()) samples.get(c.name)!.push(await measure(c, N))
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const ns = (name: string) => median(samples.get(name)!)

console.log(`node ${process.version}, ${ROUNDS} alternating rounds × ${N} messages (90 % clean, 10 % with hits), median per case\n`)
console.log('case                                               ns/message   × 1k keywords   build ms')
const base = ns(cases[0]!.name)
for (const [i, k] of [1_000, 10_000, 100_000].entries()) {
  const c = cases[i]!
  console.log(
    `${c.name.padEnd(50)} ${ns(c.name).toFixed(0).padStart(10)}   ${(ns(c.name) / base).toFixed(2).padStart(12)}   ${buildMs[k]!.toFixed(0).padStart(8)}`,
  )
}
for (const c of cases.slice(3, 5)) console.log(`${c.name.padEnd(50)} ${ns(c.name).toFixed(0).padStart(10)}`)
const without = ns('receiver.handle() without a policy')
const withPolicy = ns('receiver.handle() with examples/policy.yaml')
console.log(
  `\nreceiver before-send, without a policy:   ${(without / 1000).toFixed(2)} µs/callback  (${Math.round(1e9 / without).toLocaleString('en')}/s)`,
)
console.log(
  `receiver before-send, with the example:   ${(withPolicy / 1000).toFixed(2)} µs/callback  (${Math.round(1e9 / withPolicy).toLocaleString('en')}/s)`,
)
console.log(`throughput with / without policy:         ${(without / withPolicy).toFixed(3)}`)

// ── --server: `timhook serve` (SQLite store) over HTTP, with and without examples/policy.yaml ──
if (values.server) {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  type Cannon = (o: Record<string, unknown>) => Promise<{ requests: { average: number }; errors: number; non2xx: number }>
  const cannonModule = 'autocannon' // untyped devDependency
  const autocannon = ((await import(cannonModule)) as { default: Cannon }).default
  const { configSchema } = await import('../src/server/config.js')
  const { startServer } = await import('../src/server/start-server.js')
  const dir = mkdtempSync(join(tmpdir(), 'timhook-bench-'))
  const start = (name: string, policy?: string) =>
    startServer(
      configSchema.parse({
        sdkAppId: APP,
        token: TOKEN,
        port: 0,
        logLevel: 'silent',
        db: join(dir, `${name}.db`),
        callbackPath: '/im',
        ...(policy === undefined ? {} : { policy }),
      }),
    )
  const { writeFileSync } = await import('node:fs')
  writeFileSync(join(dir, 'empty.yaml'), 'rules: []\n')
  const servers = {
    without: await start('without'),
    empty: await start('empty', join(dir, 'empty.yaml')),
    with: await start('with', 'examples/policy.yaml'),
  }
  let seq = 0
  const requests = () => ({
    method: 'POST' as const,
    path: `/im?${query.toString()}`,
    setupRequest: (req: Record<string, unknown>) => {
      const e = events[seq % events.length]!
      // A new Random per request: the server remembers decisions by idempotency key.
      req.body = JSON.stringify({ ...e, From_Account: `user${seq % 500}`, Random: seq++ })
      return req
    },
  })
  const run = async (url: string) => {
    const r = await autocannon({
      url,
      connections: 32,
      duration: 3,
      requests: [requests()],
      headers: { 'content-type': 'application/json' },
    })
    return { rps: r.requests.average, errors: r.errors + r.non2xx }
  }
  const rps: Record<string, number[]> = { without: [], empty: [], with: [] }
  for (let round = 0; round < 4; round++) {
    for (const name of round % 2 === 0 ? (['without', 'empty', 'with'] as const) : (['with', 'empty', 'without'] as const)) {
      const r = await run(servers[name].url)
      rps[name]!.push(r.rps)
      if (r.errors > 0) console.log(`  ${name}: ${r.errors} errors`)
    }
  }
  const w = median(rps.without!)
  const p = median(rps.with!)
  console.log(`\ntimhook serve (SQLite), Group.CallbackBeforeSendMsg over HTTP, 32 connections, 4 alternating 3 s rounds (median):`)
  console.log(`  without a policy:            ${Math.round(w).toLocaleString('en')} callbacks/s`)
  console.log(
    `  with an empty policy:        ${Math.round(median(rps.empty!)).toLocaleString('en')} callbacks/s  (the server's policy plumbing alone: ${(median(rps.empty!) / w).toFixed(3)})`,
  )
  console.log(`  with examples/policy.yaml:   ${Math.round(p).toLocaleString('en')} callbacks/s`)
  console.log(`  with / without:              ${(p / w).toFixed(3)}`)
  for (const server of Object.values(servers)) await server.close()
  rmSync(dir, { recursive: true, force: true })
}

// ── --http: the parts of the policy over HTTP, in `timhook serve` ──
async function httpParts(): Promise<void> {
  const { cpuPerRequest, here, printParts } = await import('./http-parts.js')
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'timhook-policy-parts-'))
  const example = readFileSync(new URL('../examples/policy.yaml', import.meta.url), 'utf8').replace(
    'file: ./policy-words.txt',
    `file: ${new URL('../examples/policy-words.txt', import.meta.url).pathname}`,
  )
  // The example less the rules between two of its comments.
  const without = (from: string, to: string) => {
    const a = example.indexOf(from)
    const b = example.indexOf(to)
    if (a === -1 || b === -1) throw new Error(`examples/policy.yaml changed: no "${from}" or "${to}"`)
    return example.slice(0, a) + example.slice(b)
  }
  const files = {
    empty: 'rules: []\n',
    example,
    'no-stamp': without('  # Every group message carries', '  # Try a rule without enforcing'),
    'no-rate': without('  # Floods:', '  # Links in public'),
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, `${name}.yaml`), text)
  const serve = (policy?: keyof typeof files) =>
    [
      'dist/cli/main.js',
      `${policy === undefined ? '' : `process.argv.push('--policy', ${JSON.stringify(join(dir, `${policy}.yaml`))})\n`}await import('${here('dist/cli/main.js')}')\n`,
    ] as [string, string]
  const medians = await cpuPerRequest(
    'sqlite',
    [
      { name: 'serve, no policy', file: serve() },
      { name: 'serve, empty policy', file: serve('empty') },
      { name: 'serve, examples/policy.yaml', file: serve('example') },
      { name: 'serve, the example less its stamp rule', file: serve('no-stamp') },
      { name: 'serve, the example less its rate rules', file: serve('no-rate') },
    ],
    { rounds: Number(values.rounds), seconds: Number(values.seconds), env: { ONLY: 'before', SENDERS: '100003' } },
  )
  rmSync(dir, { recursive: true, force: true })
  printParts(`node ${process.version}, serve (SQLite), before-sends only from 100,003 senders, CPU µs per request over HTTP`, medians, [
    ['a policy with no rules: its wiring, and the decision recorded', 'serve, empty policy', 'serve, no policy'],
    ["the example's rules", 'serve, examples/policy.yaml', 'serve, empty policy'],
    ['of which the stamp (rewrite, answer, its bytes)', 'serve, examples/policy.yaml', 'serve, the example less its stamp rule'],
    ['of which the rate windows', 'serve, examples/policy.yaml', 'serve, the example less its rate rules'],
  ])
  const none = medians.get('serve, no policy')!
  console.log(
    `\n  example ÷ none: ${(none / medians.get('serve, examples/policy.yaml')!).toFixed(3)}, empty ÷ none: ${(none / medians.get('serve, empty policy')!).toFixed(3)} (inverse ratios of CPU per request)`,
  )
}
