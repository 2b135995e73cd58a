import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { VaultError } from './errors.js'
import { vaultFileName } from './files.js'

/** One vault as recorded in `<dataDir>/vaults.json`. */
export interface RegistryEntry {
  name: string
  /** Relative to the data directory: `vaults/<name>.db`. */
  file: string
  /** Hex-encoded KDF salt. */
  salt: string
  createdAt: string
}

export interface Registry {
  version: 1
  vaults: RegistryEntry[]
}

const VAULT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/
const HEX_SALT = /^(?:[0-9a-f]{2}){16,64}$/

export function registryPath(dataDir: string): string {
  return join(dataDir, 'vaults.json')
}

function corrupt(file: string, reason: string): VaultError {
  return new VaultError('corrupt', `${file} is corrupt: ${reason}`)
}

function parseEntry(value: unknown, index: number, file: string): RegistryEntry {
  if (typeof value !== 'object' || value === null) throw corrupt(file, `vaults[${index}] is not an object`)
  const { name, file: dbFile, salt, createdAt } = value as Record<string, unknown>
  if (typeof name !== 'string' || !VAULT_NAME.test(name))
    throw corrupt(file, `vaults[${index}].name is invalid`)
  if (dbFile !== vaultFileName(name))
    throw corrupt(file, `vaults[${index}].file must be "${vaultFileName(name)}"`)
  if (typeof salt !== 'string' || !HEX_SALT.test(salt))
    throw corrupt(file, `vaults[${index}].salt is not hex`)
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) {
    throw corrupt(file, `vaults[${index}].createdAt is not a date`)
  }
  return { name, file: dbFile, salt, createdAt }
}

/** Reads the registry; a missing file is an empty registry, anything malformed is `corrupt`. */
export function readRegistry(dataDir: string): Registry {
  const file = registryPath(dataDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return { version: 1, vaults: [] }
    throw new VaultError('io', `Cannot read ${file}: ${code ?? 'unknown error'}`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw corrupt(file, 'not valid JSON')
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw corrupt(file, 'expected a JSON object')
  const { version, vaults } = doc as Record<string, unknown>
  if (version !== 1) throw corrupt(file, `unsupported version ${JSON.stringify(version)}`)
  if (!Array.isArray(vaults)) throw corrupt(file, '"vaults" is not an array')
  const entries = vaults.map((v, i) => parseEntry(v, i, file))
  const names = new Set<string>()
  for (const entry of entries) {
    if (names.has(entry.name)) throw corrupt(file, `vault "${entry.name}" is listed twice`)
    names.add(entry.name)
  }
  return { version: 1, vaults: entries }
}
