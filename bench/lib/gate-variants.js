import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { UPSTREAM_HOST } from './pki.js'

/**
 * The gate configurations the bench can start, each in its own process:
 * - `gate`: one credential, outbound inspection off (response redaction is always on);
 * - `gate+auth+policy`: the same, plus `requireAgentAuth`, an agent granted the credential, and a
 *   20-rule policy file for that agent in enforce mode (the 20th rule allows the bench path);
 * - `gate+inspect`: the bench credential with inspection on (`block`) and 1,000 more credentials,
 *   so the matcher scans for 1,001 secrets in every request and response;
 * - `gate+metrics`: the plain gate with @aegis/telemetry counting every request and serving
 *   `/_aegis/metrics`, scraped once a second (the plain gate has metrics off).
 */
export const GATE_VARIANTS = ['gate', 'gate+auth+policy', 'gate+inspect', 'gate+metrics']

export const AGENT_NAME = 'bench-agent'
const EXTRA_CREDENTIALS = 1000

/**
 * The 19 rules that never match the bench requests, then the one that allows them (by default
 * `GET /small, /16k`, the requests of bench/run.js).
 */
export function policyYaml({ methods = '[GET]', paths = '[/small, /16k]' } = {}) {
  const others = [
    ['github', '[GET]', '/repos/bench-org/.*', '5000/hour'],
    ['github', '[POST, PATCH]', '/repos/bench-org/[^/]+/issues(/[0-9]+)?', '100/hour'],
    ['slack', '[GET]', '/api/conversations\\..*', '100/min'],
    ['slack', '[POST]', '/api/chat\\.postMessage', '20/min'],
    ['stripe', '[GET]', '/v1/(customers|charges)/[a-zA-Z0-9_]+', '50/min'],
    ['openai', '[POST]', '/v1/chat/completions', '60/min'],
    ['openai', '[GET]', '/v1/models(/[a-z0-9.-]+)?', '60/min'],
    ['linear', '[POST]', '/graphql', '30/min'],
    ['notion', '[GET, POST]', '/v1/(pages|databases)/[0-9a-f-]{32,36}', '30/min'],
    ['jira', '[GET]', '/rest/api/3/issue/[A-Z]+-[0-9]+', '100/hour'],
    ['s3', '[GET, PUT]', '/bench-bucket/[^/]+', '1000/hour'],
    ['sendgrid', '[POST]', '/v3/mail/send', '10/min'],
    // The bench service, but other paths or methods.
    ['bench', '[GET]', '/admin/.*', '10/min'],
    ['bench', '[GET]', '/v1/users/[0-9]+', '100/min'],
    ['bench', '[POST, PUT, DELETE]', '/small', '10/min'],
    ['bench', '[GET]', '/small/[a-z]+', '100/min'],
    ['bench', '[GET]', '/reports/[0-9]{4}-[0-9]{2}', '100/hour'],
    ['bench', '[DELETE]', '/.*', '1/min'],
    ['bench', '[GET, HEAD]', '/export(\\.csv|\\.json)?', '5/min'],
  ]
  const lines = [`agent: ${AGENT_NAME}`, 'rules:']
  for (const [service, methods, path, rate] of others) {
    lines.push(
      `  - service: ${service}`,
      `    methods: ${methods}`,
      `    paths: ['${path}']`,
      `    rate_limit: ${rate}`,
    )
  }
  lines.push(
    '  - service: bench',
    `    methods: ${methods}`,
    `    paths: ${paths}`,
    '    rate_limit: 1000000/sec',
  )
  return `${lines.join('\n')}\n`
}

/**
 * Fills the vault for `variant` and returns the gate options that differ from the plain gate,
 * plus the agent token (for the load generator only; never printed in a report).
 */
export function configureVariant(variant, { vault, dataDir }) {
  if (!GATE_VARIANTS.includes(variant)) {
    throw new Error(`unknown gate variant "${variant}" (one of ${GATE_VARIANTS.join(', ')})`)
  }
  vault.add({
    name: 'bench',
    service: 'bench',
    secret: 'bench-secret-value',
    domains: [UPSTREAM_HOST],
    bodyInspection: variant === 'gate+inspect' ? 'block' : 'off',
  })
  if (variant === 'gate+inspect') {
    for (let i = 0; i < EXTRA_CREDENTIALS; i++) {
      vault.add({
        name: `s${i}`,
        service: `s${i}`,
        secret: randomBytes(24).toString('base64url'),
        domains: [UPSTREAM_HOST],
      })
    }
    return { options: {}, agentToken: null, policyDir: null }
  }
  if (variant === 'gate+auth+policy') {
    const { token } = vault.addAgent({ name: AGENT_NAME })
    vault.grant(AGENT_NAME, 'bench')
    const dir = join(dataDir, 'policies')
    mkdirSync(dir)
    const yaml = policyYaml()
    writeFileSync(join(dir, `${AGENT_NAME}.yaml`), yaml)
    return {
      options: { requireAgentAuth: true, policies: { dir, mode: 'enforce' } },
      agentToken: token,
      policyDir: dir,
    }
  }
  return { options: {}, agentToken: null, policyDir: null }
}
