/**
 * Link detection on folded text (so `ｈｔｔｐｓ：／／` and `ＷＷＷ．` count): URLs with a scheme or
 * `www.`, and bare domains with a common top-level domain (`example.com/path`). Linear: each
 * candidate is found by a regex without nested quantifiers and expanded at most 253 characters.
 */

const SCHEME = /(?:https?:\/\/|www\.)[^\s<>"'`]+/giu
const TLDS = [
  'com',
  'net',
  'org',
  'cn',
  'io',
  'me',
  'co',
  'cc',
  'xyz',
  'top',
  'info',
  'app',
  'dev',
  'ly',
  'gg',
  'tk',
  'ru',
  'vip',
  'link',
  'club',
  'site',
  'online',
  'shop',
  'biz',
  'tv',
  'us',
  'uk',
  'de',
  'jp',
  'kr',
  'hk',
  'tw',
  'in',
  'ai',
  'to',
  'ws',
]
const TLD = new RegExp(`\\.(?:${TLDS.join('|')})(?![a-z0-9-])`, 'gu')
const MAX_DOMAIN = 253
const WHITE = /\s/u

const isHostUnit = (c: number) => (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 // a-z 0-9 - .

/** Called for each link: `[start, end)` in the text and its host name. Return true to stop. */
export type OnLink = (start: number, end: number, host: string) => boolean | void

/**
 * Reports links in `text` (already folded: lower case, half-width) in order of appearance.
 * @example findLinks('see example.com/x', (s, e, host) => console.log(s, e, host)) // 4 17 example.com
 */
export function findLinks(text: string, onLink: OnLink): boolean {
  let covered = 0 // end of the last scheme URL: bare domains inside it are part of it
  SCHEME.lastIndex = 0
  TLD.lastIndex = 0
  let url = SCHEME.exec(text)
  let tld = TLD.exec(text)
  while (url !== null || tld !== null) {
    if (url !== null && (tld === null || url.index <= tld.index)) {
      const start = url.index
      const end = start + url[0].length
      const slash = url[0].indexOf('//')
      const hostStart = slash >= 0 && slash <= 6 ? start + slash + 2 : start
      let hostEnd = hostStart
      while (hostEnd < end && isHostUnit(text.charCodeAt(hostEnd))) hostEnd++
      covered = end
      if (onLink(start, end, text.slice(hostStart, hostEnd).replace(/\.$/, '')) === true) return true
      url = SCHEME.exec(text)
      continue
    }
    const dot = tld!.index
    const tldEnd = dot + tld![0].length
    tld = TLD.exec(text)
    if (dot < covered || dot === 0 || !isHostUnit(text.charCodeAt(dot - 1)) || text.charCodeAt(dot - 1) === 46) continue
    let start = dot
    const floor = Math.max(0, dot - MAX_DOMAIN)
    while (start > floor && isHostUnit(text.charCodeAt(start - 1))) start--
    while (start < dot && (text.charCodeAt(start) === 46 || text.charCodeAt(start) === 45)) start++
    let hostEnd = tldEnd // `a.com.cn`, `example.com.evil.xyz`: the host goes on
    while (hostEnd < text.length && hostEnd - start < MAX_DOMAIN && isHostUnit(text.charCodeAt(hostEnd))) hostEnd++
    while (hostEnd > tldEnd && (text.charCodeAt(hostEnd - 1) === 46 || text.charCodeAt(hostEnd - 1) === 45)) hostEnd--
    let end = hostEnd
    if (text.charCodeAt(end) === 47 /* / */) while (end < text.length && !WHITE.test(text[end]!)) end++
    covered = end
    if (onLink(start, end, text.slice(start, hostEnd)) === true) return true
  }
  return false
}

/** True when `host` is `domain` or a subdomain of it. */
export function hostAllowed(host: string, allow: readonly string[]): boolean {
  for (const d of allow) if (host === d || host.endsWith(`.${d}`)) return true
  return false
}
