// Writes oclif.manifest.json so `aegis --version` and `--help` need not import every command.
import { writeFileSync } from 'node:fs'
import { Config } from '@oclif/core'

const config = await Config.load(process.cwd())
const plugin = config.getPluginsList().find((p) => p.root === config.root)
writeFileSync('oclif.manifest.json', JSON.stringify(plugin.manifest))
