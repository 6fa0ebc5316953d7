/**
 * Running the code blocks of the docs as the docs show them: a block is taken from the Markdown
 * (so the doc cannot drift from what is tested), its ports moved to free ones, and a shell session
 * ("# 1." … "# 3." terminals) run command by command, each output compared with the `# → ` line
 * the doc prints under it (`…` stands for any text).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import net from 'node:net'
import { dirname } from 'node:path'

/** The first ```lang block after the text `anchor` (a heading or a sentence of the doc). */
export function codeBlock(markdown: string, anchor: string, lang: string): string {
  const at = markdown.indexOf(anchor)
  assert.ok(at >= 0, `the doc has "${anchor}"`)
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(markdown.slice(at))
  assert.ok(m, `a \`\`\`${lang} block follows "${anchor}"`)
  return m[1]!
}

/** Replaces each documented port (8080, 9080, …) by the test's free one. */
export function movePorts(text: string, ports: Record<number, number>): string {
  return text.replace(/\b(\d{4,5})\b/g, (s, p: string) => String(ports[Number(p)] ?? s))
}

/** Splits a "# 1. …" / "# 2. …" session into its terminals' texts. */
export function terminals(block: string): string[] {
  return block
    .split(/^# \d\. .*$/m)
    .slice(1)
    .map((t) => t.trim())
}

export interface Step {
  command: string
  expected?: string
}

/** The commands of a shell text (continuation lines joined), each with its `# → ` line. */
export function steps(shell: string): Step[] {
  const out: Step[] = []
  let pending = ''
  for (const line of shell.split('\n')) {
    if (pending) {
      pending += '\n' + line
      if (!line.endsWith('\\')) {
        out.push({ command: pending })
        pending = ''
      }
    } else if (line.startsWith('# → ')) {
      const last = out.at(-1)
      assert.ok(last && last.expected === undefined, `"${line}" follows a command`)
      last.expected = line.slice(4)
    } else if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    else if (line.endsWith('\\')) pending = line
    else out.push({ command: line })
  }
  return out
}

/** `…` matches anything; everything else literally. */
export const pattern = (expected: string) =>
  new RegExp(
    '^' +
      expected
        .split('…')
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[\\s\\S]*') +
      '$',
  )

/**
 * Runs the steps in one bash (variables carry over), `set -e`, and checks every output that the
 * doc shows. `node` is the Node running the tests; `npx timhook` the checkout's own CLI.
 */
export function runSession(shell: string, opts: { cwd: string; cli: string }): Array<Step & { output: string }> {
  const all = steps(shell)
  const MARK = '@@step-end@@'
  const script = [
    'set -euo pipefail',
    ...all.flatMap((s) => [s.command.replaceAll('npx timhook', `node ${opts.cli}`), `printf '\\n${MARK}\\n'`]),
  ].join('\n')
  const r = spawnSync('bash', ['-c', script], {
    cwd: opts.cwd,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
  })
  assert.equal(r.status, 0, `the session failed:\n${r.stdout}\n${r.stderr}`)
  const outputs = r.stdout.split(`\n${MARK}\n`)
  return all.map((s, i) => {
    const output = (outputs[i] ?? '').trim()
    if (s.expected !== undefined) assert.match(output, pattern(s.expected), `${s.command}\nanswered\n${output}`)
    return { ...s, output }
  })
}

/** Resolves once something accepts connections on 127.0.0.1:port; rejects when `alive()` turns false. */
export async function portOpen(port: number, alive: () => boolean): Promise<void> {
  for (;;) {
    const socket = net.connect(port, '127.0.0.1')
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true))
      socket.once('error', () => resolve(false))
    })
    socket.destroy()
    if (ok) return
    if (!alive()) throw new Error(`nothing listens on ${port} and the process has exited`)
    // Refused: the program is still starting (it prints nothing when ready). Poll again shortly.
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
