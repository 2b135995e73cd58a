import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { removeAtExit, startNode, stop } from './procs.js'

/** The three things wrk can be pointed at, and the URL paths of the two bodies on each. */
export const BODIES = ['small', '16k']

/** Starts the HTTPS upstream. */
export function startUpstream(pkiDir) {
  return startNode('upstream.js', [pkiDir])
}

/** Starts the minimal undici pass-through proxy. */
export function startBaseline(pkiDir, upstreamPort) {
  return startNode('baseline-proxy.js', [pkiDir, String(upstreamPort)])
}

/**
 * Starts the gate. With `cpuProf`, node writes a .cpuprofile into the returned `profileDir` when
 * the gate stops.
 */
export async function startGate(pkiDir, upstreamPort, { cpuProf = false } = {}) {
  const profileDir = cpuProf ? mkdtempSync(join(tmpdir(), 'aegis-bench-prof-')) : null
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []
  const proc = await startNode('gate-server.js', [pkiDir, String(upstreamPort)], { nodeArgs })
  if (typeof proc.info.dataDir === 'string') removeAtExit(proc.info.dataDir)
  return { ...proc, profileDir }
}

/** Stops the gate and returns the ledger figures it printed on the way out (or null). */
export async function stopGate(gate) {
  await stop(gate)
  const last = gate.messages.find((m) => m.ledger !== undefined)
  return last ?? null
}

/** The URL wrk requests for `target` and `body`. */
export function urlFor(target, port, body) {
  return target === 'direct' ? `https://127.0.0.1:${port}/${body}` : `http://127.0.0.1:${port}/bench/${body}`
}
