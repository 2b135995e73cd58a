import { describe, expect, expectTypeOf, it } from 'vitest'
import type { GateEngine, HealthReport, Pipeline, Stage, StageContext } from '../src/index.js'
import * as proxy from '../src/index.js'
import * as internal from '../src/internal.js'

// The public surface is a promise to keep stable (issue 13): the live state, snapshot builder,
// stage runner, drain, body collector and HTTP connection helpers are not part of it. A new export
// must be added here on purpose.
describe('@aegis/proxy public API', () => {
  it('exports exactly the documented values', () => {
    expect(Object.keys(proxy).sort()).toEqual(
      [
        'ClientLink',
        'ConfigFileError',
        'DEFAULT_CONNECTION_LIMITS',
        'DEFAULT_LIMITS',
        'SILENT_LOGGER',
        'createGate',
        'createPipeline',
        'pipelineOptionsFromConfig',
        'refuse',
      ].sort(),
    )
  })

  it('GateEngine is a type only: createPipeline builds it from the public options', () => {
    expect('GateEngine' in proxy).toBe(false)
    expectTypeOf<Pipeline['engine']>().toEqualTypeOf<GateEngine>()
  })

  it("the engine's health check (the gate's /_aegis/health and MCP aegis_health) is typed", () => {
    expectTypeOf<ReturnType<GateEngine['health']>>().toEqualTypeOf<HealthReport>()
    expectTypeOf<HealthReport['status']>().toEqualTypeOf<
      'ok' | 'draining' | 'sealed' | 'ledger_unavailable'
    >()
  })

  it("an embedder's stage reads the request, agent, credential and destination, read-only", () => {
    expectTypeOf<keyof StageContext>().toEqualTypeOf<
      'req' | 'now' | 'service' | 'agent' | 'credential' | 'path' | 'query' | 'target'
    >()
    expectTypeOf<Parameters<Stage>[0]>().toEqualTypeOf<StageContext>()
  })
})

// `@aegis/proxy/internal` is for the Aegis packages released together with this one (not
// semver-stable); it is pinned too, so it only grows on purpose.
describe('@aegis/proxy/internal', () => {
  it('exports exactly what @aegis/mcp and the apps share with the gate', () => {
    expect(Object.keys(internal).sort()).toEqual(
      [
        'ADMIN_SOCKET',
        'ByteCollector',
        'Drain',
        'RateLimitedWarning',
        'StopSignals',
        'adminSockets',
        'agentIdentity',
        'callAdmin',
        'createAdminServer',
        'isNotListening',
        'anonymousAccessFromConfig',
        'collectBody',
        'connectionLimits',
        'connectionLimitsFromConfig',
        'connectionServerOptions',
        'deliveryFailureCode',
        'deliveryFailureDetail',
        'guardConnections',
        'isResponseTooLarge',
        'lingerAfterAnswer',
        'listenOn',
        'ProtocolRefusals',
        'readTlsPair',
        'refuseConnect',
        'sendRefusal',
      ].sort(),
    )
  })
})
