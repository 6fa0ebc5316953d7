/**
 * Starts a worker thread from a module next to the caller: the compiled `.js` file, or under tsx
 * (tests run the TypeScript sources) the `.ts` file through tsx's loader, which a worker does not
 * inherit from its parent.
 */
import { Worker } from 'node:worker_threads'
import { startThreadPool } from './thread-priority.js'

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
