/**
 * The one place a request target (`/path?query#fragment`, as node:http's `req.url`, or an absolute
 * URL, as a Fetch `Request.url`) is split. Every adapter and the server read the query and the path
 * here, so they cannot disagree on where one ends.
 */

/**
 * The query: from the first '?' up to a fragment, if any (a Fetch `Request` keeps one; `URL.search`
 * would drop it). A '?' after '#' belongs to the fragment. No '?' → ''.
 */
export function queryOf(target: string): string {
  const q = target.indexOf('?')
  if (q === -1) return ''
  const hash = target.indexOf('#')
  if (hash !== -1 && hash < q) return ''
  return hash === -1 ? target.slice(q + 1) : target.slice(q + 1, hash)
}

/** The path of an origin-form target (`/a/b?x` → `/a/b`): up to the first '?' or '#'. */
export function pathOf(target: string): string {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i)
    if (c === 63 /* ? */ || c === 35 /* # */) return target.slice(0, i)
  }
  return target
}
