import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { expect } from 'vitest'
import { listFiles, runCli } from './run-cli.js'

/** A workspace made by `init --write-secrets` with one credential, its master key read back from the config. */
export async function keyedWorkspace(dir: string, secret = 'xoxb-custody-secret-0042'): Promise<string> {
  expect((await runCli(['init', '--write-secrets'], { cwd: dir })).code).toBe(0)
  const added = await runCli(
    [
      'vault',
      'add',
      '--name',
      'slack-bot',
      '--service',
      'slack',
      '--secret',
      '-',
      '--domains',
      'api.example.test',
    ],
    { cwd: dir, input: `${secret}\n` },
  )
  expect(added.code, added.stderr).toBe(0)
  const key = /master_key: "([^"]+)"/.exec(readFileSync(join(dir, 'aegis.config.yaml'), 'utf8'))?.[1]
  expect(key).toBeTruthy()
  return key as string
}

/** `vault split --json`: the shares. */
export async function split(dir: string, shares: number, threshold: number): Promise<string[]> {
  const r = await runCli(
    ['vault', 'split', '--shares', String(shares), '--threshold', String(threshold), '--json'],
    {
      cwd: dir,
    },
  )
  expect(r.code, r.stderr).toBe(0)
  const out = JSON.parse(r.stdout) as { threshold: number; shares: string[] }
  expect(out.threshold).toBe(threshold)
  return out.shares
}

/** Every file under `dir` with its mode and content hash: equal snapshots mean nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const file of listFiles(dir)) {
    const path = join(dir, file)
    out[file] =
      `${(statSync(path).mode & 0o777).toString(8)}:${createHash('sha256').update(readFileSync(path)).digest('hex')}`
  }
  return out
}

/** The data field of a share: what must never appear anywhere but the one-time print. */
export function shareData(share: string): string {
  return share.split('.')[3] as string
}

/** A share with one character changed (inside its data field). */
export function flipped(share: string): string {
  const i = share.indexOf('.', 32) + 5
  return share.slice(0, i) + (share[i] === 'A' ? 'B' : 'A') + share.slice(i + 1)
}

/** A share re-labelled with another set id and a matching checksum (a forgery only the key check catches). */
export function relabelled(share: string, setId: string): string {
  const [prefix, , t, data] = share.split('.')
  const body = `${prefix}.${setId}.${t}.${data}`
  return `${body}.${crc32(Buffer.from(body)).toString(16).padStart(8, '0')}`
}

/** The set id of a share. */
export function setIdOf(share: string): string {
  return share.split('.')[1] as string
}
