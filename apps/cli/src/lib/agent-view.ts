import type { AgentInfo } from '@aegis/vault'
import { CliError } from './errors.js'
import { writeFailure, writeStdoutOnce } from './stdout-once.js'

/** What the `agent` commands share: JSON views, token display and flag parsing. */

/** The `agent list --json` item (interface.md §6): metadata only, built field by field. */
export interface AgentJson {
  name: string
  prefix: string
  rateLimit: string | null
  maxInFlight: number | null
  grants: string[]
  createdAt: string
  updatedAt: string
  tokenRotatedAt: string | null
}

/** Copies the public fields of an agent; nothing else can slip through. */
export function agentJson(info: AgentInfo): AgentJson {
  return {
    name: info.name,
    prefix: info.prefix,
    rateLimit: info.rateLimit,
    maxInFlight: info.maxInFlight,
    grants: [...info.grants],
    createdAt: info.createdAt,
    updatedAt: info.updatedAt,
    tokenRotatedAt: info.tokenRotatedAt,
  }
}

/** `agent add|regenerate --json` (interface.md §6): the one document that carries the token. */
export interface AgentTokenJson {
  name: string
  token: string
  prefix: string
  rateLimit: string | null
  maxInFlight: number | null
}

export function agentTokenJson(info: AgentInfo, token: string): AgentTokenJson {
  return {
    name: info.name,
    token,
    prefix: info.prefix,
    rateLimit: info.rateLimit,
    maxInFlight: info.maxInFlight,
  }
}

/** The lines shown once after a token is made. */
export function tokenLines(token: string): string[] {
  return [
    'Save this token now: it is shown only once and cannot be recovered (only regenerated).',
    '',
    `  ${token}`,
    '',
    'The agent sends it in every request as the header  X-Aegis-Agent: <token>',
  ]
}

/** `--max-in-flight` text → number; `none` → null; anything else NaN (the vault names the flag). */
export function parseMaxInFlight(text: string): number | null {
  const value = text.trim()
  if (value.toLowerCase() === 'none') return null
  return /^\d+$/.test(value) ? Number(value) : Number.NaN
}

/** `none` (any case) → null; anything else is passed on for the vault to check. */
export function parseRateFlag(text: string): string | null {
  return text.trim().toLowerCase() === 'none' ? null : text
}

/**
 * Rewords a vault validation error in terms of this command's flags (`rateLimit` → `--limit`,
 * `maxInFlight` → `--max-in-flight`, a credential `name` → `--credential`); other errors pass through.
 */
export function inFlagTerms(err: unknown, flags: { rateLimit?: string; credentialName?: string }): unknown {
  if (!(err instanceof Error) || err.name !== 'VaultError') return err
  if ((err as { code?: unknown }).code !== 'invalid_input') return err
  let message = err.message
    .replace(/^rateLimit\b/, flags.rateLimit ?? '--rate-limit')
    .replace(/^maxInFlight\b/, '--max-in-flight')
  if (flags.credentialName) message = message.replace(/^name must\b/, `${flags.credentialName} must`)
  return message === err.message ? err : new CliError(message)
}

/**
 * The one print of an agent's new token (`heading` and `tokenLines`, or with --json the one
 * document): a CliError when stdout cannot take it (a full disk, a closed pipe), so the caller can
 * take back what the token was made for.
 */
export async function printAgentToken(
  json: boolean,
  heading: string,
  output: AgentTokenJson,
  failure: string,
): Promise<void> {
  const text = json
    ? `${JSON.stringify(output, null, 2)}\n`
    : `${[heading, ...tokenLines(output.token)].join('\n')}\n`
  try {
    await writeStdoutOnce(text)
  } catch (error) {
    throw new CliError(`Could not print the token (${writeFailure(error)}): ${failure}`, { cause: error })
  }
}
