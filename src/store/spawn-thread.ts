/**
 * Starts a worker thread from a module next to the caller: the compiled `.js` file, or under tsx
 * (tests run the TypeScript sources) the `.ts` file through tsx's loader, which a worker does not
 * inherit from its parent.
 */
import { Worker } from 'node:worker_threads'

/**
 * @param from the caller's `import.meta.url`
 * @param name the thread module's file name without extension, beside the caller
 * @example spawnThread(import.meta.url, 'sqlite-writer-thread', { path })
 */
export function spawnThread(from: string, name: string, workerData: unknown): Worker {
  if (from.endsWith('.ts')) {
    const url = new URL(`./${name}.ts`, from).href
    const boot = `import('tsx/esm/api').then((m) => m.tsImport(${JSON.stringify(url)}, ${JSON.stringify(from)}))`
    return new Worker(boot, { eval: true, workerData })
  }
  return new Worker(new URL(`./${name}.js`, from), { workerData })
}
