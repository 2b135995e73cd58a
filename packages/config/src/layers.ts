import { resolve } from 'node:path'
import type { KeyPath } from './errors.js'
import type { ConfigValues } from './schema.js'

type Plain = Record<string, unknown>

/** Sections merged key by key; every other value (lists, the resolve map) is replaced whole. */
const MERGED_SECTIONS = new Set([
  '',
  'gate',
  'gate.tls',
  'gate.upstream',
  'vault',
  'observability',
  'rate_limit',
  'rate_limit.redis',
  'storage',
  'storage.postgres',
  'dashboard',
  'mcp',
])

export function isPlainObject(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Deep-merges validated layers: `upper` wins. Inputs are validated first, so keys are known ones. */
export function mergeLayers(lower: Plain, upper: Plain, at = ''): Plain {
  const out: Plain = { ...lower }
  for (const [key, value] of Object.entries(upper)) {
    const path = at === '' ? key : `${at}.${key}`
    const below = out[key]
    out[key] =
      MERGED_SECTIONS.has(path) && isPlainObject(below) && isPlainObject(value)
        ? mergeLayers(below, value, path)
        : value
  }
  return out
}

/** Removes `undefined` values (unset CLI flags) recursively, keeping arrays as they are. */
export function withoutUndefined(value: unknown): unknown {
  if (!isPlainObject(value)) return value
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, withoutUndefined(v)]),
  )
}

/** True when `value` has a value at `path`. */
export function hasPath(value: unknown, path: KeyPath): boolean {
  let node: unknown = value
  for (const part of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return false
    node = (node as Record<PropertyKey, unknown>)[part]
  }
  return node !== undefined
}

function resolveIfString(base: string, value: unknown): unknown {
  return typeof value === 'string' ? resolve(base, value) : value
}

/**
 * Resolves the path-valued keys of one (validated) raw layer against `base`: used for the file
 * layer, whose relative paths are relative to the file's folder.
 */
export function resolveLayerPaths(layer: Plain, base: string): Plain {
  const gate = isPlainObject(layer.gate) ? { ...layer.gate } : undefined
  const vault = isPlainObject(layer.vault) ? { ...layer.vault } : undefined
  if (vault && 'data_dir' in vault) vault.data_dir = resolveIfString(base, vault.data_dir)
  if (gate) {
    if ('policies_dir' in gate) gate.policies_dir = resolveIfString(base, gate.policies_dir)
    if (isPlainObject(gate.tls)) {
      const tls = { ...gate.tls }
      if ('cert' in tls) tls.cert = resolveIfString(base, tls.cert)
      if ('key' in tls) tls.key = resolveIfString(base, tls.key)
      gate.tls = tls
    }
    if (isPlainObject(gate.upstream) && gate.upstream.ca_file !== undefined) {
      const ca = gate.upstream.ca_file
      const list = Array.isArray(ca) ? ca : [ca]
      gate.upstream = { ...gate.upstream, ca_file: list.map((entry) => resolveIfString(base, entry)) }
    }
  }
  return { ...layer, ...(gate && { gate }), ...(vault && { vault }) }
}

/** Resolves every path left relative (from env, flags or defaults) against `cwd`. */
export function resolveOutputPaths(config: ConfigValues, cwd: string): ConfigValues {
  const { gate, vault } = config
  const tls = gate.tls
  return {
    ...config,
    gate: {
      ...gate,
      ...(gate.policies_dir !== undefined && { policies_dir: resolve(cwd, gate.policies_dir) }),
      tls: {
        ...tls,
        ...(tls.cert !== undefined && { cert: resolve(cwd, tls.cert) }),
        ...(tls.key !== undefined && { key: resolve(cwd, tls.key) }),
      },
      upstream: { ...gate.upstream, ca_file: gate.upstream.ca_file.map((file) => resolve(cwd, file)) },
    },
    vault: { ...vault, data_dir: resolve(cwd, vault.data_dir) },
  }
}
