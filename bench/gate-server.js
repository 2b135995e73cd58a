// The real gate, from the built packages, with a vault credential and the SQLite ledger on.
// Usage: node bench/gate-server.js <pki-dir> <upstream-port> [variant], the variant one of
// gate (default), gate+auth+policy, gate+inspect, gate+metrics — see lib/gate-variants.js. Prints
// {"port": n, "dataDir": …, "variant": …} when listening (plus the agent token for the load
// generator, when the variant has an agent). On SIGTERM it closes the gate, prints
// {"ledger": <stats>} and removes its data.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { announce, importBuilt, importFrom } from './lib/deps.js'
import { configureVariant, GATE_VARIANTS } from './lib/gate-variants.js'
import { UPSTREAM_HOST } from './lib/pki.js'

const [pkiDir, portText, variantArg] = process.argv.slice(2)
const variant = variantArg ?? 'gate'
if (pkiDir === undefined || portText === undefined || !GATE_VARIANTS.includes(variant)) {
  process.stderr.write(
    `usage: node bench/gate-server.js <pki-dir> <upstream-port> [${GATE_VARIANTS.join('|')}]\n`,
  )
  process.exit(2)
}

const { createGate } = await importBuilt('proxy')
const { createVault, generateMasterKey } = await importBuilt('vault')
const { openLedger } = await importBuilt('ledger')
const pino = await importFrom('proxy', 'pino')

const dataDir = mkdtempSync(join(tmpdir(), 'aegis-bench-data-'))
const vault = createVault({ dataDir, name: 'default', masterKey: generateMasterKey() })
const setupStarted = Date.now()
const { options, agentToken, policyDir } = configureVariant(variant, { vault, dataDir })
const setupMs = Date.now() - setupStarted
let rules = 0
if (policyDir !== null) {
  // Fails early on a policy file the gate would refuse (its agent would be denied everything).
  const { loadPolicyDir } = await importBuilt('policy')
  const set = loadPolicyDir(policyDir)
  if (set.errors.length > 0) throw new Error(set.errors.map((e) => e.message).join('\n'))
  rules = [...set.policies.values()].reduce((n, p) => n + p.rules.length, 0)
}
// As `aegis gate` opens it: transactions and checkpoints in the writer thread, off the event loop.
const ledger = openLedger({ file: join(dataDir, 'ledger.db'), writer: 'worker', checkpoint: 'background' })
// Metrics on: the same telemetry `aegis gate` wires (observer + /_aegis/metrics).
const telemetry =
  variant === 'gate+metrics'
    ? (await importBuilt('telemetry')).createTelemetry({ version: 'bench' })
    : undefined
const gate = createGate({
  ...options,
  observer: telemetry,
  metrics: telemetry,
  credentials: vault,
  audit: ledger,
  logger: pino({ level: 'warn' }),
  port: 0,
  upstream: {
    ca: [readFileSync(join(pkiDir, 'ca.crt'), 'utf8')],
    resolve: [{ host: UPSTREAM_HOST, port: 443, address: '127.0.0.1', addressPort: Number(portText) }],
  },
})
const { port } = await gate.listen()
if (telemetry !== undefined) {
  // A scrape every second (Prometheus' default is every 15 s), so its cost is in the figures.
  const { get } = await import('node:http')
  setInterval(() => {
    get({ host: '127.0.0.1', port, path: '/_aegis/metrics', agent: false }, (res) => res.resume()).on(
      'error',
      () => undefined,
    )
  }, 1000).unref()
}
// The runner reads the token from this line and hands it to wrk through its environment; it is
// never written to a report.
announce({
  port,
  dataDir,
  variant,
  credentials: vault.list().length,
  policyRules: rules,
  setupMs,
  ...(agentToken === null ? {} : { agentToken }),
})

// The runner asks for the memory breakdown (JS heap vs the rest) while the load runs.
process.on('SIGUSR2', () => announce({ memory: process.memoryUsage() }))

let stopping = false
process.on('SIGTERM', async () => {
  if (stopping) return
  stopping = true
  try {
    await gate.close()
    await ledger.flush()
    announce({ ledger: ledger.stats(), groupCommit: ledger.metrics })
    await ledger.close()
    vault.close()
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
    process.exit(0)
  }
})
