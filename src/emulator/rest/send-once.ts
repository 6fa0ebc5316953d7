import type { SendAnswer } from '../emulator-context.js'
import type { DedupWindow } from '../state/dedup-window.js'

/**
 * Runs `send` at most once per `key` within the window. The entry is registered before `send`
 * awaits its before-callback, so a resend that arrives meanwhile waits for the first send and gets
 * its answer — or its failure — instead of calling back and storing a second time.
 * Once settled, only a send that stored a message stays remembered: a denied, dropped or failed
 * send is forgotten, so a later resend is decided afresh (your backend may decide differently now).
 * @example
 * return ok(await sendOnce(ctx.groupDedup, `${groupId}\u0000${topicId}\u0000${random}`, () => deliver()))
 */
export async function sendOnce<A>(
  window: DedupWindow<Promise<SendAnswer<A>>>,
  key: string,
  send: () => Promise<SendAnswer<A>>,
): Promise<A> {
  const first = window.recall(key)
  if (first !== undefined) return (await first).answer
  // `send` runs synchronously up to its first await, so nothing can slip in before `remember`.
  const pending = send()
  window.remember(key, pending)
  try {
    const result = await pending
    if (!result.stored) window.forget(key, pending)
    return result.answer
  } catch (err) {
    window.forget(key, pending)
    throw err
  }
}
