/** `/readyz`: ready while the server is not stopping, commits succeed and the store answers a ping within a second. */
import type { Store } from '../store/store.js'

export interface Readiness {
  ready: boolean
  error?: string
}

/** How long the store's ping may take before `/readyz` says not ready. */
export const PING_TIMEOUT_MS = 1000

export function createReadiness(store: Pick<Store, 'lastCommitError' | 'ping'>, stopping: () => boolean): () => Promise<Readiness> {
  return async () => {
    if (stopping()) return { ready: false, error: 'shutting down' }
    // Not ready while commits fail (the database is gone, hung, full or locked), whatever a ping says.
    const failing = store.lastCommitError
    if (failing !== undefined) return { ready: false, error: `store commits fail: ${failing.message}` }
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        store.ping(),
        new Promise(
          (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS)),
        ),
      ])
      return { ready: true }
    } catch (err) {
      return { ready: false, error: err instanceof Error ? err.message : String(err) }
    } finally {
      clearTimeout(timer)
    }
  }
}
