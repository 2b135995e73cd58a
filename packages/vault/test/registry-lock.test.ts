import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { destroyVault, listVaults } from '../src/index.js'
import { tempDataDir } from './helpers.js'

/** The children run the TypeScript sources through tsx's ESM loader (a dev dependency). */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href
const child = fileURLToPath(new URL('./fixtures/processes/create-vaults.ts', import.meta.url))

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', tsx, child, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))))
  })
}

describe('the vault registry under concurrent changes', () => {
  it('keeps every vault that six processes create at the same moment', async () => {
    const dataDir = tempDataDir()
    const processes = 6
    const each = 6
    const startAt = Date.now() + 2500 // after every child has started and derived its key
    await Promise.all(
      Array.from({ length: processes }, (_, p) => run([dataDir, `p${p}`, String(each), String(startAt)])),
    )
    const names = listVaults(dataDir).map((v) => v.name)
    expect(names).toHaveLength(processes * (each + 1))
    const registry = JSON.parse(readFileSync(join(dataDir, 'vaults.json'), 'utf8'))
    expect(registry.vaults).toHaveLength(processes * (each + 1))
    expect(existsSync(join(dataDir, 'vaults.json.lock'))).toBe(false)
    // and removal takes the lock too
    for (let p = 0; p < processes; p++) destroyVault(dataDir, `p${p}-warm`)
    expect(listVaults(dataDir)).toHaveLength(processes * each)
  }, 30_000)
})
