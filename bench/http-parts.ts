/**
 * CPU µs per request over HTTP of a few variants of one target, each a part of a request added or
 * taken away, so that the difference between two variants is what that part costs in a server
 * (where caches are cold and the garbage collector runs), not in a hot loop. Each variant is a
 * checkout-like directory (its `bench/targets/library.mjs` or `dist/cli/main.js`, importing this
 * checkout's build) handed to bench/cpu-per-request.ts as a `--root`, so the variants run in
 * alternating rounds under the same load. Used by `bench/receiver.ts --http` and `bench/policy.ts --http`.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export interface Variant {
  name: string
  /** The file's path inside the variant's directory (`bench/targets/library.mjs` or `dist/cli/main.js`) and its text. */
  file: [string, string]
}

/** The absolute URL of a file of this checkout, for a variant's `import`. */
export const here = (path: string) => new URL(`../${path}`, import.meta.url).href

/** Runs bench/cpu-per-request.ts over the variants; returns the median µs per request of each, in order. */
export async function cpuPerRequest(
  target: 'library' | 'sqlite',
  variants: Variant[],
  opts: { rounds: number; seconds: number; env?: Record<string, string> },
): Promise<Map<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'timhook-parts-'))
  const roots = variants.map((v, i) => {
    const root = join(dir, `v${i}`)
    mkdirSync(join(root, v.file[0], '..'), { recursive: true })
    writeFileSync(join(root, v.file[0]), v.file[1])
    return root
  })
  const args = ['tsx', 'bench/cpu-per-request.ts', '--target', target, '--rounds', String(opts.rounds), '--seconds', String(opts.seconds)]
  for (const root of roots) args.push('--root', root)
  const out = await new Promise<string>((res, rej) => {
    const child = spawn('npx', args, { cwd: resolve(new URL('..', import.meta.url).pathname), env: { ...process.env, ...opts.env } })
    let text = ''
    child.stdout.on('data', (d: Buffer) => {
      text += d.toString()
      process.stdout.write(d)
    })
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d))
    child.on('exit', (code) => (code === 0 ? res(text) : rej(new Error(`cpu-per-request exited with ${code}`))))
  })
  rmSync(dir, { recursive: true, force: true })
  const medians = new Map<string, number>()
  for (const [i, v] of variants.entries()) {
    const m = new RegExp(`${roots[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: median ([\\d.]+) µs`).exec(out)
    if (m === null) throw new Error(`no median for ${v.name}`)
    medians.set(v.name, Number(m[1]))
  }
  return medians
}

/** Prints each variant's median and the named differences between variants. */
export function printParts(title: string, medians: Map<string, number>, parts: Array<[string, string, string]>): void {
  console.log(`\n${title}\n`)
  for (const [name, us] of medians) console.log(`  ${name.padEnd(58)} ${us.toFixed(1).padStart(6)} µs CPU per request`)
  console.log('')
  for (const [part, a, b] of parts) {
    console.log(`  ${part.padEnd(58)} ${(medians.get(a)! - medians.get(b)!).toFixed(1).padStart(6)} µs  (${a} − ${b})`)
  }
}
