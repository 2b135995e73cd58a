import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GATE_VARIANTS } from './gate-variants.js'
import { removeAtExit, startNode, stop } from './procs.js'

/** The GET bodies every target is measured with. */
export const BODIES = ['small', '16k']

/** A JSON document of exactly `size` bytes, shaped like an agent's API call (no secret in it). */
function postBody(size) {
  const doc = {
    model: 'bench-model-1',
    temperature: 0.2,
    metadata: { run: 'bench', step: 42, tags: ['alpha', 'beta', 'gamma'] },
    messages: [
      { role: 'system', content: 'You summarise support tickets in two sentences for the on-call team.' },
      { role: 'user', content: '' },
    ],
  }
  const filler =
    'Customer reports that exports time out after the last release; logs show retries on the ' +
    'report worker and a queue backlog of about 900 jobs at 09:40. '
  const shell = Buffer.byteLength(JSON.stringify(doc))
  let text = ''
  while (text.length < size - shell) text += filler
  doc.messages[1].content = text.slice(0, size - shell)
  return JSON.stringify(doc)
}

/**
 * What wrk requests for each body name: the upstream path, and the request shape (method, body,
 * headers). `post1k` is a POST of a 1 KiB JSON body to `/small` (the upstream answers any method),
 * so outbound inspection has a body to scan.
 */
export const REQUESTS = {
  small: { path: '/small', request: {} },
  '16k': { path: '/16k', request: {} },
  post1k: {
    path: '/small',
    request: { method: 'POST', body: postBody(1024), headers: { 'Content-Type': 'application/json' } },
  },
}

/** Starts the HTTPS upstream. */
export function startUpstream(pkiDir) {
  return startNode('upstream.js', [pkiDir])
}

/** Starts the minimal undici pass-through proxy. */
export function startBaseline(pkiDir, upstreamPort) {
  return startNode('baseline-proxy.js', [pkiDir, String(upstreamPort)])
}

/** Whether `target` is one of the gate configurations (`gate`, `gate+…`). */
export const isGate = (target) => GATE_VARIANTS.includes(target)

/**
 * Starts the gate in configuration `variant` (see lib/gate-variants.js), with `nodeArgs` (node flags)
 * if given. With `cpuProf`, node writes a .cpuprofile into the returned `profileDir` when the gate
 * stops.
 */
export async function startGate(
  pkiDir,
  upstreamPort,
  { cpuProf = false, variant = 'gate', nodeArgs: extra = [] } = {},
) {
  const profileDir = cpuProf ? mkdtempSync(join(tmpdir(), 'aegis-bench-prof-')) : null
  const nodeArgs = [...extra, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])]
  const proc = await startNode('gate-server.js', [pkiDir, String(upstreamPort), variant], { nodeArgs })
  if (typeof proc.info.dataDir === 'string') removeAtExit(proc.info.dataDir)
  const agentToken = typeof proc.info.agentToken === 'string' ? proc.info.agentToken : null
  // Keep the token out of `info`, which the runner may print.
  delete proc.info.agentToken
  return { ...proc, profileDir, agentToken }
}

/** Stops the gate and returns the ledger figures it printed on the way out (or null). */
export async function stopGate(gate) {
  await stop(gate)
  const last = gate.messages.find((m) => m.ledger !== undefined)
  return last ?? null
}

/** The URL wrk requests for `target` and `body`. */
export function urlFor(target, port, body) {
  const { path } = REQUESTS[body]
  return target === 'direct' ? `https://127.0.0.1:${port}${path}` : `http://127.0.0.1:${port}/bench${path}`
}
