/** The result of a decision that may be late or fail. */
export type Timed<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'late' }

/**
 * Runs `fn` and settles with its value, its error, or `late` after `ms` — whichever comes first.
 * The late work is not cancelled (JavaScript cannot), only no longer waited for; a late
 * rejection is swallowed here so it never becomes an unhandled rejection.
 */
export function runWithDeadline<T>(fn: () => T | Promise<T>, ms: number): Promise<Timed<T>> {
  let result: T | Promise<T>
  try {
    result = fn()
  } catch (error) {
    return Promise.resolve({ kind: 'error', error })
  }
  if (!(result instanceof Promise)) return Promise.resolve({ kind: 'value', value: result })
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'late' }), ms)
    result.then(
      (value) => {
        clearTimeout(timer)
        resolve({ kind: 'value', value })
      },
      (error: unknown) => {
        clearTimeout(timer)
        resolve({ kind: 'error', error })
      },
    )
  })
}
