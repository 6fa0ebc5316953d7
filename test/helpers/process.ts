/** Child processes for tests that run a program as a user would: start it, wait for a line, stop it. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'

/** A TCP port free on 127.0.0.1 right now (for programs that take a port but cannot report one). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

export interface Running {
  child: ChildProcess
  /** Everything the process wrote so far, stdout and stderr. */
  output: () => string
  /** Resolves with the first match of `re` in the output (now or later); rejects if the process exits first. */
  waitFor: (re: RegExp) => Promise<RegExpExecArray>
  /** SIGTERM, then waits for the exit. */
  stop: () => Promise<void>
}

export function start(command: string, args: string[], options: SpawnOptions = {}): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options })
  let out = ''
  let exited = false
  const waiters = new Set<() => void>()
  const notify = () => waiters.forEach((w) => w())
  child.stdout?.on('data', (d: Buffer) => ((out += d.toString()), notify()))
  child.stderr?.on('data', (d: Buffer) => ((out += d.toString()), notify()))
  child.on('exit', () => ((exited = true), notify()))
  return {
    child,
    output: () => out,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out)
          if (m) {
            waiters.delete(check)
            resolve(m)
          } else if (exited) {
            waiters.delete(check)
            reject(new Error(`${command} exited (${child.exitCode ?? child.signalCode}) before printing ${re}:\n${out}`))
          }
        }
        waiters.add(check)
        check()
      }),
    stop: async () => {
      if (exited) return
      const done = once(child, 'exit')
      child.kill('SIGTERM')
      await done
    },
  }
}
