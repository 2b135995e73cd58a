// biome-ignore lint/correctness/useImportExtensions: a JSON module keeps its own extension
import packageJson from '../package.json' with { type: 'json' }

/** This package's version, reported by `aegis_health` and the MCP handshake. */
export const MCP_PACKAGE_VERSION: string = packageJson.version
