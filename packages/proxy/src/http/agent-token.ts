import { isAgentTokenShape } from '@aegis/guard'

/** What identifies the agent, and the headers left to forward once the token was taken out. */
export interface AgentIdentity {
  /** The agent token, or null. Differing tokens are joined with ", " so the identity stage refuses them. */
  token: string | null
  rawHeaders: readonly string[]
}

/**
 * `Authorization: Bearer <token>` or `token <token>` (GitHub's scheme: @octokit/auth-token sends a
 * non-JWT key as `token …`), any scheme case (RFC 9110 §11.1), one token, optional spaces.
 */
const BEARER = /^(?:bearer|token) +([^ ]+) *$/i

/**
 * Headers that carry a bare API key: `x-api-key` (Anthropic), `x-goog-api-key` (Gemini SDKs and
 * Gemini CLI, from `GEMINI_API_KEY`).
 */
const KEY_HEADERS: ReadonlySet<string> = new Set(['x-api-key', 'x-goog-api-key'])

/** The agent token a key-slot header carries, or null when its value is not agent-token shaped. */
function keySlotToken(lowerName: string, value: string): string | null {
  let candidate: string | null = null
  if (lowerName === 'authorization') candidate = BEARER.exec(value)?.[1] ?? null
  else if (KEY_HEADERS.has(lowerName)) candidate = value.trim()
  return candidate !== null && isAgentTokenShape(candidate) ? candidate : null
}

/**
 * The agent's identity from `X-Aegis-Agent` or from the SDK's own key slot — `Authorization: Bearer`
 * (or `token`), `x-api-key` or `x-goog-api-key` — because SDKs refuse to start without an API key
 * and cannot add a custom header from the environment (phase2-notes §7.5). A key-slot value counts only when it has the agent-token
 * shape (`aegis_` + 43 base64url characters: no provider key looks like that), and that header is
 * removed so the token never travels upstream. Any other value stays where it was; `Authorization`
 * is then dropped by the forwarding rules as before.
 *
 * Several tokens that differ (X-Aegis-Agent and a key slot, or two slots) are not resolved by
 * precedence: they are joined, which is not token-shaped, so the identity stage refuses the request
 * with `agent_auth_invalid` — an agent that names two identities gets neither.
 */
export function agentIdentity(rawHeaders: readonly string[], aegisAgent: string | null): AgentIdentity {
  let found: number[] | null = null
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    // Cheap length gate first (authorization 13, x-api-key 9, x-goog-api-key 14): this runs on every request.
    if (name.length !== 13 && name.length !== 9 && name.length !== 14) continue
    const lower = name.toLowerCase()
    if (keySlotToken(lower, rawHeaders[i + 1] as string) === null) continue
    found ??= []
    found.push(i)
  }
  if (found === null) return { token: aegisAgent, rawHeaders }

  const tokens = new Set<string>()
  if (aegisAgent !== null && aegisAgent !== '') tokens.add(aegisAgent)
  const kept: string[] = []
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string
    const value = rawHeaders[i + 1] as string
    if (found.includes(i)) tokens.add(keySlotToken(name.toLowerCase(), value) as string)
    else kept.push(name, value)
  }
  return { token: [...tokens].join(', '), rawHeaders: kept }
}
