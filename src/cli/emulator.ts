import type { Command } from 'commander'
import { Option } from 'commander'
import { EMULATED_COMMANDS, startEmulator, type SentCallback } from '../emulator/index.js'
import { EMULATOR_DEFAULTS } from '../emulator/options.js'
import { formatProgress, formatReport, parseDuration, parseMix, runLoad } from '../load/index.js'
import { LOAD_DEFAULTS } from '../load/load-options.js'

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
const integer = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`)
  return n
}
const positive = (name: string) => (value: string) => {
  const n = Number(value)
  if (!(n > 0 && Number.isFinite(n))) throw new Error(`${name} must be a positive number, got ${JSON.stringify(value)}`)
  return n
}

function describeCallback(r: SentCallback): string {
  const o = r.outcome
  const result =
    o === undefined
      ? 'pending'
      : o.kind === 'answered'
        ? `${String(o.answer.ActionStatus)} ErrorCode ${String(o.answer.ErrorCode)}${o.answer.MsgBody !== undefined || o.answer.CloudCustomData !== undefined ? ' (rewrite)' : ''}`
        : `FAILED ${o.detail}`
  return `→ ${r.command.padEnd(28)} ${result}  ${o === undefined ? '' : `${o.latencyMs.toFixed(1)} ms`}`
}

interface EmulatorFlags {
  port: number
  host: string
  callbackUrl?: string
  sdkAppId?: string
  token?: string
  commands?: string[]
  timeoutMs: number
  failClosed?: boolean
  accounts?: string[]
  admins?: string[]
  quiet?: boolean
}

interface LoadFlags {
  target: string
  rate: number
  duration: number
  mix?: ReturnType<typeof parseMix>
  sdkAppId: string
  token?: string
  groups: number
  users: number
  connections: number
  timeoutMs: number
  maxInFlight: number
  json?: boolean
}

/**
 * Registers `timhook emulator` (the IM backend stand-in) and `timhook emulator load` (the load generator).
 * @example timhook emulator --port 9080 --callback-url http://127.0.0.1:8080/im --sdk-app-id 1400000000 --token secret
 */
export function registerEmulator(program: Command): void {
  // `emulator load --token T` must reach load's own --token, not the emulator's: options are
  // positional at every level (the program itself has only --version and --help).
  program.enablePositionalOptions()
  const emulator = program
    .command('emulator')
    .enablePositionalOptions()
    .description('run a local stand-in for Tencent Cloud IM: its REST API, and callbacks to your backend exactly as Tencent sends them')
    .option('--port <port>', 'port to listen on (0 picks a free one)', integer('--port'), 9080)
    .option('--host <address>', 'address to listen on', EMULATOR_DEFAULTS.host)
    .option('--callback-url <url>', 'your callback backend, e.g. http://127.0.0.1:8080/im (without it, no callbacks are sent)')
    .option('--sdk-app-id <id>', 'the SDKAppID (REST sdkappid, callback SdkAppid)')
    .option('--token <token>', 'callback authentication token: adds Sign/RequestTime (default: $TIM_CALLBACK_TOKEN)')
    .option('--commands <list>', `enabled callbacks, comma-separated (default: all of ${EMULATED_COMMANDS.join(', ')})`, list)
    .option('--timeout-ms <ms>', 'callback timeout', integer('--timeout-ms'), EMULATOR_DEFAULTS.timeoutMs)
    .option('--fail-closed', 'refuse a message when its before-send callback fails (default: deliver, as Tencent does)')
    .option('--accounts <list>', 'only these UserIDs exist (default: every account exists, no import needed)', list)
    .option('--admins <list>', 'only these identifiers may call the REST API (default: any)', list)
    .option('--quiet', 'do not log each callback')
    .action(serveEmulator)
  registerLoad(emulator)
}

/** `timhook emulator load`: the load generator (src/load) as a subcommand. */
function registerLoad(emulator: Command): void {
  emulator
    .command('load')
    .description(
      'drive a realistic callback mix (group and one-to-one sends, recalls, withdraws) at a target rate against a running callback backend',
    )
    .requiredOption('--target <url>', 'the callback URL of the backend under test')
    .requiredOption('--rate <n>', 'callbacks per second', positive('--rate'))
    .requiredOption('--duration <d>', 'how long, e.g. 30s, 2m, 500ms', parseDuration)
    .option('--mix <weights>', 'relative weights, e.g. group=60,c2c=30,recall=5,withdraw=5 (the default)', parseMix)
    .option('--sdk-app-id <id>', 'SdkAppid of the callbacks', LOAD_DEFAULTS.sdkAppId)
    .option('--token <token>', 'sign callbacks with this token (default: $TIM_CALLBACK_TOKEN)')
    .option('--groups <n>', 'groups to spread group messages over', integer('--groups'), LOAD_DEFAULTS.groups)
    .option('--users <n>', 'accounts', integer('--users'), LOAD_DEFAULTS.users)
    .option('--connections <n>', 'keep-alive connections to the target', integer('--connections'), LOAD_DEFAULTS.connections)
    .option('--timeout-ms <ms>', 'per-callback timeout', integer('--timeout-ms'), LOAD_DEFAULTS.timeoutMs)
    .option(
      '--max-in-flight <n>',
      'at most this many callbacks outstanding (raise it for a slow target at a high rate)',
      integer('--max-in-flight'),
      LOAD_DEFAULTS.maxInFlight,
    )
    .addOption(new Option('--json', 'print the report as JSON'))
    .action(load)
}

/** `timhook emulator`: starts the emulator and prints where everything is. */
async function serveEmulator(flags: EmulatorFlags): Promise<void> {
  if (flags.sdkAppId === undefined) throw new Error('--sdk-app-id is required, e.g. --sdk-app-id 1400000000')
  const token = flags.token ?? process.env.TIM_CALLBACK_TOKEN
  const running = await startEmulator({
    sdkAppId: flags.sdkAppId,
    callbackUrl: flags.callbackUrl,
    token: token === '' ? undefined : token,
    commands: flags.commands,
    timeoutMs: flags.timeoutMs,
    failClosed: flags.failClosed,
    port: flags.port,
    host: flags.host,
    accounts: flags.accounts,
    admins: flags.admins,
    onCallback: flags.quiet ? undefined : (r) => console.log(describeCallback(r)),
  })
  // Registered before anything is printed: a supervisor that waits for the banner may signal at once.
  const stop = () => {
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  const q = `sdkappid=${flags.sdkAppId}&identifier=admin&usersig=x&random=1&contenttype=json`
  console.log(`timhook emulator listening on ${running.url}`)
  console.log(
    `  REST API   ${running.url}/v4/group_open_http_svc/send_group_msg?${q} (and create_group, group_msg_recall, openim/sendmsg, openim/admin_msgwithdraw, million_group_open_http_svc/create_topic)`,
  )
  console.log(
    flags.callbackUrl === undefined
      ? '  callbacks  none (no --callback-url)'
      : `  callbacks  → ${flags.callbackUrl} ${token ? 'signed' : 'unsigned'}, timeout ${flags.timeoutMs} ms, ${flags.failClosed ? 'fail-closed' : 'fail-open'}`,
  )
  console.log(`  read API   ${running.url}/emulator/groups (emulator only: what members would receive)`)
}

/** `timhook emulator load`: runs the load and prints the report (progress on a terminal). */
async function load(flags: LoadFlags): Promise<void> {
  const token = flags.token ?? process.env.TIM_CALLBACK_TOKEN
  const tty = process.stderr.isTTY === true && !flags.json
  const controller = new AbortController()
  process.once('SIGINT', () => controller.abort())
  const report = await runLoad({
    target: flags.target,
    rate: flags.rate,
    durationMs: flags.duration,
    mix: flags.mix,
    sdkAppId: flags.sdkAppId,
    token: token === '' ? undefined : token,
    groups: flags.groups,
    users: flags.users,
    connections: flags.connections,
    timeoutMs: flags.timeoutMs,
    maxInFlight: flags.maxInFlight,
    signal: controller.signal,
    onProgress: tty ? (p) => process.stderr.write(`\r${formatProgress(p)}\x1b[K`) : undefined,
  })
  if (tty) process.stderr.write('\n')
  console.log(flags.json ? JSON.stringify(report, null, 2) : formatReport(report))
}
