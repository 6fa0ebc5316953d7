/** The result of a decision that may be late or fail. */
export type Timed<T> = { kind: 'value'; value: T } | { kind: 'error'; error: unknown } | { kind: 'late' }

const LATE: { kind: 'late' } = Object.freeze({ kind: 'late' })

/** After this turn of the event loop: setImmediate where the runtime has it (Node, Bun), else the next timer tick. */
const afterTurn: (f: () => void) => void =
  typeof globalThis.setImmediate === 'function' ? (f) => void setImmediate(f) : (f) => void setTimeout(f, 0)

interface Deadline {
  /** Undefined once settled (in time or late). */
  late: ((t: { kind: 'late' }) => void) | undefined
  group: Group
}

interface Group {
  readonly items: Deadline[]
  /** Members not settled yet. */
  pending: number
  timer: NodeJS.Timeout | undefined
}

/**
 * The deadlines of the requests that arrive in one turn of the event loop share ONE timer, where a
 * timer per request cost its creation and clearing on every callback. The timer is set once the
 * turn is over, so it runs `ms` after the last of them began, never before any
 * member's own deadline; and it is cleared as soon as every member has settled.
 */
export class Deadlines {
  private open: Group | undefined
  constructor(readonly ms: number) {}

  add(late: (t: { kind: 'late' }) => void): Deadline {
    let group = this.open
    if (group === undefined) {
      group = this.open = { items: [], pending: 0, timer: undefined }
      afterTurn(this.close)
    }
    const d: Deadline = { late, group }
    group.items.push(d)
    group.pending++
    return d
  }

  /** Settled in time. */
  settle(d: Deadline): void {
    if (d.late === undefined) return
    d.late = undefined
    const group = d.group
    if (--group.pending === 0 && group.timer !== undefined) clearTimeout(group.timer)
  }

  private readonly close = (): void => {
    const group = this.open!
    this.open = undefined
    if (group.pending > 0) group.timer = setTimeout(fire, this.ms, group)
  }
}

function fire(group: Group): void {
  for (const d of group.items) {
    const late = d.late
    if (late === undefined) continue
    d.late = undefined
    late(LATE)
  }
}

/**
 * Runs `fn` and settles with its value, its error, or `late` after the queue's `ms` — whichever comes first.
 * The late work is not cancelled (JavaScript cannot), only no longer waited for; a late
 * rejection is swallowed here so it never becomes an unhandled rejection.
 */
export function runWithDeadline<T>(fn: () => T | Promise<T>, queue: Deadlines): Promise<Timed<T>> {
  let result: T | Promise<T>
  try {
    result = fn()
  } catch (error) {
    return Promise.resolve({ kind: 'error', error })
  }
  if (!(result instanceof Promise)) return Promise.resolve({ kind: 'value', value: result })
  return new Promise((resolve) => {
    const d = queue.add(resolve)
    result.then(
      (value) => {
        queue.settle(d)
        resolve({ kind: 'value', value })
      },
      (error: unknown) => {
        queue.settle(d)
        resolve({ kind: 'error', error })
      },
    )
  })
}
