/**
 * The parent side of background work, as the work sees it: the same code runs as a worker thread
 * (`parentPort`, `workerData`) or as a child process started by `spawnBackground`
 * (src/store/spawn-thread.ts), whose IPC channel delivers the data first and then the messages.
 *
 * A child ends by itself when its channel closes — its parent closed it, or the parent died (even
 * by `kill -9`: the kernel closes the pipe) — so no child outlives the server that started it.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'

export interface ParentPort {
  on<M>(event: 'message', listener: (message: M, handle?: unknown) => void): unknown
  /** `transfer`: arrays moved rather than copied to a parent thread (a child process ignores it: its messages are copied anyway). */
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void
  /** Ends the conversation (a child: once every message posted so far has been sent, it closes its channel and exits). */
  close(): void
}

/** True in a child process started by `spawnBackground`. */
export const inChildProcess = isMainThread && process.env.TIMHOOK_BACKGROUND_CHILD !== undefined && process.send !== undefined

/** The child's side of its IPC channel. Messages wait until a listener is attached (as on a worker's port). */
function childPort(): { port: ParentPort; data: Promise<unknown> } {
  let sending = 0
  let closing = false
  let onData!: (data: unknown) => void
  const data = new Promise<unknown>((resolve) => (onData = resolve))
  let gotData = false
  const queued: Array<[unknown, unknown]> = []
  const listeners: Array<(m: unknown, handle?: unknown) => void> = []
  process.on('message', (m: unknown, handle?: unknown) => {
    if (!gotData) {
      gotData = true
      onData((m as { timhookBackgroundData?: unknown }).timhookBackgroundData)
      return
    }
    if (listeners.length === 0) queued.push([m, handle])
    else for (const l of listeners) l(m, handle)
  })
  const disconnect = () => {
    if (process.connected) process.disconnect()
  }
  const port: ParentPort = {
    on(_event, listener) {
      const l = listener as (m: unknown, handle?: unknown) => void
      listeners.push(l)
      if (listeners.length === 1) for (const [m, handle] of queued.splice(0)) l(m, handle)
      return port
    },
    postMessage(message) {
      if (!process.connected) return
      sending++
      process.send!(message, undefined, undefined, () => {
        if (--sending === 0 && closing) disconnect()
      })
    },
    close() {
      closing = true
      if (sending === 0) disconnect()
    },
  }
  return { port, data }
}

async function connect(): Promise<{ port: ParentPort; data: unknown }> {
  if (!inChildProcess) {
    if (parentPort === null) throw new Error('background work must be started by spawnBackground (a worker thread or a child process)')
    return { port: parentPort as unknown as ParentPort, data: workerData }
  }
  // The parent gone or done: nothing here is needed any more.
  process.once('disconnect', () => process.exit(0))
  // An error that ends the child reaches the parent with its cause (a worker's would as its 'error').
  const fail = (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    if (!process.connected) process.exit(1)
    process.send!({ timhookBackgroundError: message }, undefined, undefined, () => process.exit(1))
  }
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  const child = childPort()
  return { port: child.port, data: await child.data }
}

export const { port, data } = await connect()
