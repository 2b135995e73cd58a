// The real gate, from the built packages, with a vault credential and the SQLite ledger on.
// Usage: node bench/gate-server.js <pki-dir> <upstream-port>. Prints {"port": n, "dataDir": …}
// when listening. On SIGTERM it closes the gate, prints {"ledger": <stats>} and removes its data.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { announce, importBuilt, importFrom } from './lib/deps.js'
import { UPSTREAM_HOST } from './lib/pki.js'

const [pkiDir, portText] = process.argv.slice(2)
if (pkiDir === undefined || portText === undefined) {
  process.stderr.write('usage: node bench/gate-server.js <pki-dir> <upstream-port>\n')
  process.exit(2)
}

const { createGate } = await importBuilt('proxy')
const { createVault, generateMasterKey } = await importBuilt('vault')
const { openLedger } = await importBuilt('ledger')
const pino = await importFrom('proxy', 'pino')

const dataDir = mkdtempSync(join(tmpdir(), 'aegis-bench-data-'))
const vault = createVault({ dataDir, name: 'default', masterKey: generateMasterKey() })
vault.add({
  name: 'bench',
  service: 'bench',
  secret: 'bench-secret-value',
  domains: [UPSTREAM_HOST],
})
const ledger = openLedger({ file: join(dataDir, 'ledger.db') })
const gate = createGate({
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
announce({ port, dataDir })

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
