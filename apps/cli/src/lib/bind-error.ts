/** Where a listener's port is set: the command's flag (if it has one) and the config key. */
export type PortSetting = { readonly flag?: string | undefined; readonly key: string }

/**
 * A listener that could not bind, as a user can act on it: a port in use (EADDRINUSE, from
 * `listenOn` or node itself) names the flag and the config key that move it; anything else is the
 * error's own message.
 */
export function bindFailureMessage(error: unknown, port: number, setting: PortSetting): string {
  const message = error instanceof Error ? error.message : String(error)
  if ((error as { code?: unknown } | null)?.code !== 'EADDRINUSE') return message
  const where =
    setting.flag === undefined
      ? `${setting.key} in the config`
      : `${setting.flag} (${setting.key} in the config)`
  return `Port ${port} is already in use: stop the process that holds it, or choose another port with ${where}`
}
