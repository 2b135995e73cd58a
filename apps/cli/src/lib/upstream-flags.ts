import type { ConfigOverrides } from '@aegis/config'
import { Flags } from '@oclif/core'

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

/** The `gate.upstream` config overrides for those flags (undefined values are ignored). */
export function upstreamOverrides(flags: {
  'upstream-ca'?: string[] | undefined
  resolve?: string[] | undefined
}): NonNullable<NonNullable<ConfigOverrides['gate']>['upstream']> {
  return { ca_file: flags['upstream-ca'], resolve: flags.resolve }
}
