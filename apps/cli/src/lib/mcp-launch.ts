/**
 * How an MCP host should start the server. `npx -y @aegis/mcp-server` only works when the package is
 * on a registry the user's npm can reach; a CLI installed from a packed tarball, a link or a clone
 * has no such package, so the snippet then starts this very CLI (`aegis mcp serve`) by absolute
 * path with the Node that runs it now.
 */
import { readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'

export const SERVER_PACKAGE = '@aegis/mcp-server'

export interface McpLaunch {
  command: string
  args: string[]
}

/** The nearest `node_modules` folder holding `root`, or null (a workspace checkout, a link). */
function enclosingNodeModules(root: string): string | null {
  const parts = root.split(sep)
  const at = parts.lastIndexOf('node_modules')
  return at <= 0 ? null : parts.slice(0, at + 1).join(sep)
}

/**
 * True when npm recorded an http(s) `resolved` URL for this package in the hidden lockfile
 * (`node_modules/.package-lock.json`, written for local and global installs): that is a registry
 * install. A tarball or folder install records `file:…`; pnpm workspaces and links have no entry.
 */
export function installedFromRegistry(root: string): boolean {
  const modules = enclosingNodeModules(root)
  if (modules === null) return false
  let lock: { packages?: Record<string, { resolved?: unknown }> }
  try {
    lock = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8'))
  } catch {
    return false
  }
  const key = `node_modules/${relative(modules, root).split(sep).join('/')}`
  const resolved = lock.packages?.[key]?.resolved
  return typeof resolved === 'string' && /^https?:\/\//.test(resolved)
}

/** The launch command for the CLI package at `root` (oclif's `config.root`). */
export function mcpLaunch(root: string, bin = 'bin/run.js'): McpLaunch {
  if (installedFromRegistry(root)) return { command: 'npx', args: ['-y', SERVER_PACKAGE] }
  return { command: process.execPath, args: [join(root, bin), 'mcp', 'serve'] }
}
