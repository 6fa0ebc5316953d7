/**
 * Starts background work (the admin API's SQLite readers, the sinks' delivery loops) from a module
 * next to the caller, either as a worker thread of this process or as a child process of its own
 * (`spawnBackground`). Under tsx (tests run the TypeScript sources) the `.ts` file runs through
 * tsx's loader, which neither a worker nor a child inherits from its parent.
 *
 * Why a child process: V8's helper threads (garbage collection, compilation) are shared by every
 * isolate of a process and run at the process's priority. A worker thread lowered to `SCHED_IDLE`
 * still hands its garbage collection to helpers at normal priority, which then take the event loop's
 * core for a scheduler slice. A child started at `SCHED_IDLE` (`chrt --idle 0 node …`) has every
 * thread at that priority, V8's helpers included: it runs only on CPU time the callbacks' event
 * loop does not want. The two talk over the child's IPC channel (`serialization: 'advanced'`, so
 * byte arrays cross as they are); src/store/background-port.ts is the child's side.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { constants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import { startThreadPool } from './thread-priority.js'

/** Where background work runs: child processes at the lowest priority (default), or threads of this process. */
export type Isolation = 'process' | 'thread'

/**
 * A background thread or process, as its starter sees it (the part of `Worker` the callers use).
 * `exit` is emitted once, with an exit code (a child killed by a signal: 128 + its number).
 */
export interface Background {
  /** The child's process id, or undefined for a thread. */
  readonly pid: number | undefined
  postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void
  /**
   * A child process only: sends `message` with a native socket handle, which stays open here too (the
   * child gets its own copy of it). `failed` is called if it cannot be sent (the socket closed here
   * while the message waited for the channel): the child then never hears of it.
   */
  sendHandle?(message: unknown, handle: object, failed: (err: Error) => void): void
  on<M>(event: 'message', listener: (message: M) => void): this
  on(event: 'error', listener: (err: Error) => void): this
  on(event: 'exit', listener: (code: number) => void): this
  once(event: 'exit', listener: (code: number) => void): this
  /** Ends it at once (a child: SIGKILL). */
  terminate(): Promise<unknown>
  /** Whether it keeps this process alive (both: like `Worker.ref`/`unref`). */
  ref(): void
  unref(): void
}

/**
 * The thread is named after its module (Node 24+ shows it as the thread's name in /proc and `top -H`,
 * cut to 15 characters), so a profile or the benchmarks can tell the threads apart.
 * @param from the caller's `import.meta.url`
 * @param name the thread module's file name without extension, beside the caller
 * @example spawnThread(import.meta.url, 'sqlite-writer-thread', { path })
 */
export function spawnThread(from: string, name: string, workerData: unknown): Worker {
  // Background threads lower their priority; libuv's pool must not be started (and inherit it) by one.
  startThreadPool()
  if (from.endsWith('.ts')) {
    const url = new URL(`./${name}.ts`, from).href
    const boot = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(url)}, ${JSON.stringify(from)}))`
    return new Worker(boot, { eval: true, workerData, name })
  }
  return new Worker(new URL(`./${name}.js`, from), { workerData, name })
}

/** How a background child process is started, and the priority that gives it. */
export interface Launcher {
  /** The command put before `node …` (empty: none). */
  readonly prefix: readonly string[]
  /** `idle`: SCHED_IDLE, every thread of the child; `nice 19`; `unchanged`: the same priority as this process. */
  readonly priority: 'idle' | 'nice 19' | 'unchanged'
}

let launcher: Launcher | undefined

/**
 * The lowest priority this system lets a child start at, found once: util-linux's `chrt --idle 0`
 * (Linux), else `nice -n 19`, else none. Each is tried on `node --version`.
 * @example backgroundLauncher().priority // 'idle' on Linux with util-linux
 */
export function backgroundLauncher(): Launcher {
  if (launcher !== undefined) return launcher
  const tries: Launcher[] = [
    { prefix: ['chrt', '--idle', '0'], priority: 'idle' },
    { prefix: ['nice', '-n', '19'], priority: 'nice 19' },
  ]
  for (const t of tries) {
    try {
      execFileSync(t.prefix[0]!, [...t.prefix.slice(1), process.execPath, '--version'], { stdio: 'ignore', timeout: 10_000 })
      launcher = t
      return t
    } catch {
      // not there, or not permitted: the next
    }
  }
  launcher = { prefix: [], priority: 'unchanged' }
  return launcher
}

/** A child process with an IPC channel, shaped like a `Worker`. */
class ChildBackground extends EventEmitter implements Background {
  private readonly exited: Promise<void>
  private ended = false

  /** `what`: the command being started, named in the error when it cannot be (`spawn chrt ENOENT` alone names neither). */
  constructor(
    private readonly child: ChildProcess,
    what: string,
  ) {
    super()
    let onExit!: () => void
    this.exited = new Promise<void>((resolve) => (onExit = resolve))
    const exit = (code: number) => {
      if (this.ended) return
      this.ended = true
      onExit()
      this.emit('exit', code)
    }
    child.on('message', (m: unknown) => {
      // The child's last words (src/store/background-port.ts): the error that ends it.
      if (typeof m === 'object' && m !== null && 'timhookBackgroundError' in m) {
        if (this.listenerCount('error') > 0) this.emit('error', new Error(String(m.timhookBackgroundError)))
        return
      }
      this.emit('message', m)
    })
    child.on('error', (err) => {
      // Spawning failed: no 'exit' follows.
      const failed = child.pid === undefined
      const e = failed ? new Error(`could not start ${what}: ${err.message}`, { cause: err }) : err
      if (this.listenerCount('error') > 0) this.emit('error', e)
      if (failed) exit(1)
    })
    child.on('exit', (code, signal) => exit(code ?? 128 + (signal === null ? 0 : constants.signals[signal])))
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  postMessage(message: unknown): void {
    // A child that has gone: the message is dropped (its 'exit' tells the caller).
    if (this.child.connected) this.child.send(message as never, undefined, undefined, () => {})
  }

  sendHandle(message: unknown, handle: object, failed: (err: Error) => void): void {
    if (!this.child.connected) return
    this.child.send(message as never, handle as never, { keepOpen: true }, (err) => {
      if (err !== null) failed(err)
    })
  }

  async terminate(): Promise<unknown> {
    if (!this.ended) this.child.kill('SIGKILL')
    await this.exited
    return undefined
  }

  ref(): void {
    this.child.ref()
    ;(this.child.channel as { ref?: () => void } | null | undefined)?.ref?.()
  }

  unref(): void {
    this.child.unref()
    ;(this.child.channel as { unref?: () => void } | null | undefined)?.unref?.()
  }
}

/**
 * Starts background work from the module `name` beside the caller: a worker thread (`thread`), or a
 * child process at the lowest priority `backgroundLauncher` finds (`process`). The module reads its
 * data and talks to this side through src/store/background-port.ts, the same code either way.
 * @example const reader = spawnBackground(import.meta.url, 'sqlite-reader-thread', { path }, 'process')
 */
export function spawnBackground(from: string, name: string, data: unknown, isolation: Isolation): Background {
  if (isolation === 'thread') {
    const w = spawnThread(from, name, data) as unknown as Background & { pid?: undefined }
    return w
  }
  const ts = from.endsWith('.ts')
  const file = fileURLToPath(new URL(`./${name}.${ts ? 'ts' : 'js'}`, from))
  const { prefix } = backgroundLauncher()
  const node = [process.execPath, ...(ts ? ['--import', import.meta.resolve('tsx')] : []), file]
  const argv = [...prefix, ...node]
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, TIMHOOK_BACKGROUND_CHILD: name },
  })
  const bg = new ChildBackground(child, `the ${name} child process (${argv.join(' ')})`)
  // The first message is the data (a worker gets it as `workerData`).
  bg.postMessage({ timhookBackgroundData: data })
  return bg
}
