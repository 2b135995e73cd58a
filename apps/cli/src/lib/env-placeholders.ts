/**
 * `aegis mcp config` prints `<paste …>` where a secret goes (the master key, the agent and user
 * tokens, a database or Redis URL). A value still shaped like that was never filled in: it is
 * refused by name, before it is taken as a key, a token or a URL (and misread as a wrong one).
 */
const PLACEHOLDER = /^<.*>$/

/** The first AEGIS_* variable (by name) that still holds a placeholder, or null. */
export function leftPlaceholder(env: Readonly<Record<string, string | undefined>>): string | null {
  const names = Object.keys(env)
    .filter((name) => name.startsWith('AEGIS_') && PLACEHOLDER.test(env[name]?.trim() ?? ''))
    .sort()
  return names[0] ?? null
}

/** The one-line refusal for `variable`. */
export function placeholderMessage(variable: string): string {
  return `${variable} still holds a placeholder ("<paste …>" from aegis mcp config): set the real value in the MCP host config or the environment`
}
