// Writes oclif.manifest.json so `aegis --version` and `--help` need not import every command.
import { rmSync, writeFileSync } from 'node:fs'
import { Config } from '@oclif/core'

// oclif reads an existing manifest instead of the commands: remove it first, or a new command stays hidden.
rmSync('oclif.manifest.json', { force: true })
const config = await Config.load(process.cwd())
const plugin = config.getPluginsList().find((p) => p.root === config.root)
writeFileSync('oclif.manifest.json', JSON.stringify(plugin.manifest))
