/** Splits a comma-separated flag value into trimmed, non-empty items (`"a, b,,c"` → `["a","b","c"]`). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}
