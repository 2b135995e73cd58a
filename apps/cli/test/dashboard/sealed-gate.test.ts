// `aegis dashboard` with a split key and no key at hand: its gate starts sealed, and an unseal over
// the admin socket (the key in the gate's memory only, no unsealed.key) opens the dashboard's
// Credentials and Agents views too; a seal closes them again.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateProcess } from '../helpers/gate-process.js'
import { removeDir, runCli, tempDir } from '../helpers/run-cli.js'
import { keyedWorkspace, split } from '../helpers/shamir.js'
import { Browser, type RunningDashboard, startDashboard } from './helpers.js'

let dir: string
let dashboard: RunningDashboard | undefined
let shares: string[]

beforeAll(async () => {
  dir = tempDir()
  await keyedWorkspace(dir)
  const added = await runCli(['agent', 'add', '--name', 'research-bot'], { cwd: dir })
  expect(added.code, added.stderr).toBe(0)
  shares = await split(dir, 3, 2)
}, 60_000)

afterAll(() => {
  dashboard?.child.kill('SIGKILL')
  if (dir) removeDir(dir)
})

describe('aegis dashboard --no-gate beside a gate unsealed in memory only', () => {
  it('says how to get the key to the dashboard too (unsealed.key), and reads the vault once it is there', async () => {
    const gate = await startGateProcess(dir, [], {})
    try {
      const unsealed = await runCli(['vault', 'unseal', '--key-share', '-'], {
        cwd: dir,
        input: `${shares[0]}\n${shares[1]}\n`,
      })
      expect(unsealed.code, unsealed.stderr).toBe(0)
      const alone = await startDashboard(
        dir,
        ['--no-gate', '--port', '0', '--gate-port', String(gate.port)],
        {},
      )
      try {
        const browser = new Browser(alone.port)
        expect((await browser.login(alone.token)).status).toBe(200)
        const refused = await browser.get('/api/credentials')
        expect(refused.status).toBe(503)
        const { error } = refused.json() as { error: { code: string; message: string } }
        expect(error.code).toBe('sealed')
        expect(error.message).toMatch(/^Vault is sealed: unseal it with 2 of its 3 key shares/)
        expect(error.message).toContain('--key-file')
        const withFile = await runCli(['vault', 'unseal', '--key-share', '-', '--key-file'], {
          cwd: dir,
          input: `${shares[0]}\n${shares[1]}\n`,
        })
        expect(withFile.code, withFile.stderr).toBe(0)
        const credentials = await browser.get('/api/credentials')
        expect(credentials.status, credentials.body).toBe(200)
        expect(JSON.stringify(credentials.json())).toContain('"slack-bot"')
      } finally {
        alone.child.kill('SIGKILL')
      }
    } finally {
      gate.child.kill('SIGKILL')
      expect((await runCli(['vault', 'seal'], { cwd: dir })).code).toBe(0)
    }
  }, 60_000)
})

describe('aegis dashboard on a sealed gate', () => {
  it('shows credentials and agents once the gate is unsealed over its socket, and not after a seal', async () => {
    dashboard = await startDashboard(dir, ['--port', '0', '--gate-port', '0'], {})
    const browser = new Browser(dashboard.port)
    expect((await browser.login(dashboard.token)).status).toBe(200)
    const sealed = await browser.get('/api/credentials')
    expect(sealed.status).toBe(503)
    expect(sealed.json()).toMatchObject({ error: { code: 'sealed' } })

    const unsealed = await runCli(['vault', 'unseal', '--key-share', '-'], {
      cwd: dir,
      input: `${shares[0]}\n${shares[2]}\n`,
    })
    expect(unsealed.code, unsealed.stderr).toBe(0)
    expect(unsealed.stdout).toContain('Unsealed 1 running gate')
    // The key stayed in the gate's memory: CLI commands still have none.
    expect(existsSync(join(dir, '.aegis', 'unsealed.key'))).toBe(false)

    const credentials = await browser.get('/api/credentials')
    expect(credentials.status, credentials.body).toBe(200)
    expect(JSON.stringify(credentials.json())).toContain('"slack-bot"')
    expect(credentials.body).not.toContain('xoxb-custody-secret-0042')
    const agents = await browser.get('/api/agents')
    expect(agents.status, agents.body).toBe(200)
    expect(JSON.stringify(agents.json())).toContain('"research-bot"')

    const sealedAgain = await runCli(['vault', 'seal'], { cwd: dir })
    expect(sealedAgain.code, sealedAgain.stderr).toBe(0)
    const closed = await browser.get('/api/credentials')
    expect(closed.status).toBe(503)
    expect(closed.json()).toMatchObject({ error: { code: 'sealed' } })
  }, 60_000)
})
