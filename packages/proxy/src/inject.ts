import type { LiveCredential } from './snapshot.js'

/** The header a credential is injected into, lower-cased, or null for query injection. */
export function credentialHeaderName(credential: LiveCredential): string | null {
  switch (credential.authType) {
    case 'bearer':
    case 'basic':
      return 'authorization'
    case 'header':
      return credential.headerName?.toLowerCase() ?? null
    case 'query':
      return null
  }
}

/** The header value to inject, or null for query injection. */
export function credentialHeaderValue(credential: LiveCredential): string | null {
  switch (credential.authType) {
    case 'bearer':
      return `Bearer ${credential.secret}`
    case 'basic':
      return `Basic ${Buffer.from(credential.secret, 'utf8').toString('base64')}`
    case 'header':
      return credential.secret
    case 'query':
      return null
  }
}

function decodedName(part: string): string {
  const eq = part.indexOf('=')
  const raw = (eq === -1 ? part : part.slice(0, eq)).replaceAll('+', ' ')
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/**
 * The query string to forward. For query-injected credentials, any parameter the agent sent under
 * the credential's name (in any encoding) is dropped and the vault's value appended, so the
 * upstream sees exactly one value and it is the vault's.
 */
export function upstreamQuery(query: string, credential: LiveCredential): string {
  if (credential.authType !== 'query') return query
  const param = credential.queryParam ?? 'key'
  const lowered = param.toLowerCase()
  const kept =
    query === ''
      ? []
      : query.split('&').filter((part) => part !== '' && decodedName(part).toLowerCase() !== lowered)
  kept.push(`${encodeURIComponent(param)}=${encodeURIComponent(credential.secret)}`)
  return kept.join('&')
}
