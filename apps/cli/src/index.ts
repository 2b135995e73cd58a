/**
 * @aegis/cli — the `aegis` command. Commands live in src/commands; this entry exports what other
 * commands (gate, ledger, agent …) build on.
 */
export { type AegisArgs, AegisCommand, type AegisFlags } from './base-command.js'
export { CliError } from './lib/errors.js'
export { readSecret, type SecretSource } from './lib/secret-input.js'
export { renderTable } from './lib/table.js'
