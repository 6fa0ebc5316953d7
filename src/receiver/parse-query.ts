/**
 * Parses a query string into a null-prototype record. Faster than URLSearchParams for the handful
 * of parameters a callback carries, and decodes only values that need it. The first occurrence of
 * a name wins, as `URLSearchParams.get` does.
 */
export function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  let start = qs.charCodeAt(0) === 63 /* ? */ ? 1 : 0
  while (start < qs.length) {
    let end = qs.indexOf('&', start)
    if (end === -1) end = qs.length
    const eq = qs.indexOf('=', start)
    const split = eq === -1 || eq > end ? end : eq
    const name = decode(qs.slice(start, split))
    if (name !== '' && !(name in out)) out[name] = split === end ? '' : decode(qs.slice(split + 1, end))
    start = end + 1
  }
  return out
}

function decode(s: string): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s
  const spaced = s.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(spaced)
  } catch {
    return spaced // a malformed escape is kept as sent; it then fails the check that reads it
  }
}
