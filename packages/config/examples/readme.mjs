// Load a config file layered with environment and flag values; see how a bad value is reported.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig, renderConfig } from '@aegis/config'

const cwd = mkdtempSync(join(tmpdir(), 'aegis-config-'))
try {
  const file = join(cwd, 'aegis.config.yaml')
  writeFileSync(file, 'gate:\n  port: 3100\n  max_body_size: 2097152\nvault:\n  data_dir: ./data\n')

  const config = loadConfig({
    cwd,
    env: { AEGIS_GATE_PORT: '4100' }, // apps pass process.env; the library never reads it
    overrides: { gate: { require_agent_auth: true } }, // from CLI flags; undefined = not given
  })
  assert.equal(config.gate.port, 4100) // env beats the file
  assert.equal(config.gate.max_body_size, 2_097_152) // from the file
  assert.equal(config.gate.require_agent_auth, true) // flags beat everything
  assert.equal(config.vault.data_dir, join(cwd, 'data')) // relative to the file's folder
  assert.equal(config.source.file, file)
  assert.match(renderConfig(config, { maskSecrets: true }), /port: 4100/) // `aegis config show`

  // One-line errors naming the file, the line and the key.
  writeFileSync(file, 'gate:\n  port: 3100\n  prot: 3101\n')
  assert.throws(
    () => loadConfig({ cwd, env: {} }),
    (error) => error instanceof ConfigError && error.message.startsWith('aegis.config.yaml:3:'),
  )
} finally {
  rmSync(cwd, { recursive: true, force: true })
}
