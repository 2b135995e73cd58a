import { type FeedFilter, sinceCutoff } from './filter.js'

/** Single-quotes a shell word unless it is plainly safe. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}

/**
 * The `aegis ledger export` command for the feed's current filter (the export itself stays a CLI
 * job: it streams any size to a 0600 file, which a browser tab should not). `ledger export` has no
 * decision or code filter, so those are named in `missing` for the UI to say so.
 */
export function exportCommand(filter: FeedFilter, now: Date): { command: string; missing: string[] } {
  const parts = ['aegis', 'ledger', 'export', '--format', 'csv']
  if (filter.service.trim()) parts.push('--service', shellWord(filter.service.trim()))
  if (filter.agent.trim()) parts.push('--agent', shellWord(filter.agent.trim()))
  const cutoff = sinceCutoff(filter.since, now)
  if (cutoff) parts.push('--since', cutoff.toISOString())
  parts.push('-o', 'ledger.csv')
  const missing: string[] = []
  if (filter.decision) missing.push('decision')
  if (filter.code.trim()) missing.push('code')
  return { command: parts.join(' '), missing }
}
