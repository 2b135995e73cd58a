// `dashboard.enabled: true` (the brief's config example): `aegis gate` serves the dashboard too.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, initProject, type Project, removeDir } from '../helpers/run-cli.js'
import { Browser, type RunningDashboard, startServing } from './helpers.js'

let project: Project
const running: RunningDashboard[] = []

beforeAll(async () => {
  project = await initProject()
}, 60_000)

afterAll(() => {
  for (const d of running) d.child.kill('SIGKILL')
  if (project) removeDir(project.dir)
})

function setDashboard(enabled: boolean): void {
  const file = join(project.dir, 'aegis.config.yaml')
  const text = readFileSync(file, 'utf8')
    .replace(/^ {2}enabled: (true|false)/m, `  enabled: ${enabled}`)
    .replace(/^ {2}port: 3200/m, '  port: 0')
  writeFileSync(file, text)
}

describe('aegis gate with dashboard.enabled', () => {
  it('serves the dashboard beside the gate, with a login link, and stops both on SIGTERM', async () => {
    setDashboard(true)
    const served = await startServing(project.dir, 'gate', ['--port', '0'], project.env)
    running.push(served)
    expect(served.gatePort).not.toBeNull()
    const browser = new Browser(served.port)
    expect((await browser.login(served.token)).status).toBe(200)
    const overview = await browser.get('/api/overview')
    expect(overview.status).toBe(200)
    expect(JSON.stringify(overview.json())).toContain(`:${served.gatePort}`)
    served.child.kill('SIGTERM')
    expect(await served.exited).toBe(0)
    expect(served.output()).toContain('Aegis gate stopped')
  }, 60_000)

  it('serves no dashboard when it is false (the default)', async () => {
    setDashboard(false)
    const child = spawn(process.execPath, [BIN, 'gate', '--port', '0'], {
      cwd: project.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: project.dir, NO_COLOR: '1', ...project.env },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (out.includes('listening on')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`gate exited ${code}: ${out}`)))
    })
    await new Promise((r) => setTimeout(r, 500))
    child.kill('SIGTERM')
    await once(child, 'exit')
    expect(out).not.toContain('dashboard:')
  }, 60_000)
})
