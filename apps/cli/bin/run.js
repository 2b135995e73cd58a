#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { release } from 'node:os'
import { setFlagsFromString } from 'node:v8'

// SIGUSR1 would open Node's inspector (127.0.0.1:9229, no authentication) in this process, which
// holds the master key and, serving, every decrypted secret: any process of the same user can send
// it, an agent included. A listener keeps the inspector shut (`node --inspect` still opens it).
process.on('SIGUSR1', () => {})

/** The commands that serve until stopped: the gate and the dashboard. */
const SERVERS = new Set(['gate', 'dashboard'])

// `aegis --version` answers without loading oclif (most of that command's start time) and prints
// exactly oclif's line, `Config.userAgent`: name/version platform-arch node-version. oclif names
// the platform `wsl` under WSL (its `wsl-utils` check): on a Microsoft kernel oclif answers itself.
if (process.argv[2] === '--version' && !microsoftKernel()) {
  const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const arch = process.arch === 'ia32' ? 'x86' : process.arch
  process.stdout.write(`${name}/${version} ${process.platform}-${arch} node-${process.version}\n`)
} else {
  // The upstream client's HTTP parser is WebAssembly (undici's llhttp). Optimising it (TurboFan)
  // holds 10-20 MB for a moment when a gate takes its first requests, for no speed we could
  // measure (bench/results/2026-12-06-gate-memory.md): its baseline code (Liftoff) is kept. Set
  // before anything compiles WebAssembly; the flag changes nothing else.
  setFlagsFromString('--liftoff-only')
  // A long-running server keeps V8's young generation small from its first allocation on: loading
  // the commands alone would grow it to its largest. The command lets it grow to a cap once it
  // serves (src/lib/young-generation.ts says why and how).
  if (SERVERS.has(process.argv[2] ?? '')) {
    const { holdYoungGeneration } = await import('../dist/lib/young-generation.js')
    holdYoungGeneration({ execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS })
  }
  // The commands that open the vault start deriving its key now, on another core, while oclif and
  // the command load (src/lib/key-prefetch.ts).
  const { prefetchVaultKey } = await import('../dist/lib/key-prefetch.js')
  await prefetchVaultKey(process.argv.slice(2), process.env, process.cwd())
  // oclif is inlined in the bundle (tsup.config.ts): the commands extend that copy of it.
  const { execute } = await import('../dist/main.js')
  await execute({ dir: import.meta.url })
}

/** Linux on a Microsoft kernel (WSL, or a container inside it): the cases oclif reports as `wsl`. */
function microsoftKernel() {
  if (process.platform !== 'linux') return false
  if (/microsoft/i.test(release())) return true
  try {
    return /microsoft/i.test(readFileSync('/proc/version', 'utf8'))
  } catch {
    return false
  }
}
