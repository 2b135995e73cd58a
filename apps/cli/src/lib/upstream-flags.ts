import { type ConfigOverrides, parseResolveEntry } from '@aegis/config'
import { Flags } from '@oclif/core'
import { CliError } from './errors.js'

/**
 * `--upstream-ca F`... and `--resolve H:P:A:AP`...: how the gate (and the MCP server, which runs
 * the same pipeline) reach upstreams. Parsed and validated by @aegis/config as `gate.upstream.*`.
 */
export const upstreamFlags = {
  'upstream-ca': Flags.string({
    description: 'Extra CA certificate (PEM file) trusted for upstream TLS; repeatable',
    multiple: true,
  }),
  resolve: Flags.string({
    description: 'Dial HOST:PORT at ADDR:APORT instead of resolving it (as curl --resolve); repeatable',
    helpValue: 'HOST:PORT:ADDR:APORT',
    multiple: true,
  }),
}

/**
 * The `gate.upstream` config overrides for those flags (undefined values are ignored). A bad
 * `--resolve` is refused here, echoing the value (a host mapping, not a secret) and the expected
 * form: the config layer's message names only `gate.upstream.resolve[0]`.
 */
export function upstreamOverrides(flags: {
  'upstream-ca'?: string[] | undefined
  resolve?: string[] | undefined
}): NonNullable<NonNullable<ConfigOverrides['gate']>['upstream']> {
  for (const value of flags.resolve ?? []) {
    const parsed = parseResolveEntry(value)
    if (typeof parsed === 'string') {
      throw new CliError(
        `Invalid --resolve "${value}": ${parsed}. Expected HOST:PORT:ADDR:APORT, e.g. api.example.com:443:127.0.0.1:8443`,
      )
    }
  }
  return { ca_file: flags['upstream-ca'], resolve: flags.resolve }
}
