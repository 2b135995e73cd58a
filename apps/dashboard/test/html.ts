/** Tiny helpers to read renderToString output (no DOM library needed for these assertions). */

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** How many elements carry this data-testid. */
export function count(html: string, testId: string): number {
  return html.match(new RegExp(`data-testid="${esc(testId)}"`, 'g'))?.length ?? 0
}

/** The text of the first element with this testid (tags and React's text separators removed). */
export function text(html: string, testId: string): string | null {
  const start = html.search(new RegExp(`<(\\w+)[^>]*data-testid="${esc(testId)}"`))
  if (start === -1) return null
  const tag = /^<(\w+)/.exec(html.slice(start))?.[1] ?? 'div'
  // Walk to the matching close tag of the same name.
  const open = new RegExp(`<${tag}[\\s>]|</${tag}>`, 'g')
  open.lastIndex = start + 1
  let depth = 1
  let end = html.length
  for (let m = open.exec(html); m; m = open.exec(html)) {
    depth += m[0].startsWith('</') ? -1 : 1
    if (depth === 0) {
      end = m.index
      break
    }
  }
  const inner = html.slice(html.indexOf('>', start) + 1, end)
  return inner
    .replace(/<!-- -->/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .trim()
}

/** The opening tag of the first element with this testid. */
export function tagOf(html: string, testId: string): string | null {
  return new RegExp(`<[^>]*data-testid="${esc(testId)}"[^>]*>`).exec(html)?.[0] ?? null
}
