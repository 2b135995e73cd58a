/** The one-line refusal of an `AEGIS_*` variable still holding a `<paste …>` placeholder (@aegis/config `placeholderVariable`). */
export function placeholderMessage(variable: string): string {
  return `${variable} still holds a placeholder ("<paste …>" from aegis mcp config): set the real value in the MCP host config or the environment`
}
