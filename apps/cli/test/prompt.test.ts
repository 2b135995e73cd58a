import { spawn, spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, initProject, type Project, parseJson, removeDir } from './helpers/run-cli.js'

/** util-linux `script` gives the CLI a real terminal on stdin. */
const hasScript = spawnSync('script', ['--version']).status === 0

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** Runs the CLI on a pseudo-terminal; types `answer` once `waitFor` has appeared on the terminal. */
function runOnTerminal(
  p: Project,
  args: string[],
  waitFor: string,
  answer: string,
): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: p.dir,
    env: { PATH: process.env.PATH ?? '', HOME: p.dir, TERM: 'dumb', NO_COLOR: '1', ...p.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  let answered = false
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString('utf8')
      if (!answered && output.includes(waitFor)) {
        answered = true
        child.stdin.write(`${answer}\r`)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, output }))
  })
}

describe.skipIf(!hasScript)('hidden secret prompt on a terminal', () => {
  let p: Project
  beforeAll(async () => {
    p = await initProject()
  })
  afterAll(() => {
    if (p) removeDir(p.dir)
  })

  it('vault add without --secret prompts, does not echo, and stores the typed secret', async () => {
    const typed = 'typed-secret-9f8e7d6c5b4a'
    const r = await runOnTerminal(
      p,
      ['vault', 'add', '--name', 'tty', '--service', 'tty', '--domains', 'api.tty.example'],
      'Secret for tty',
      typed,
    )
    expect(r.code, r.output).toBe(0)
    expect(r.output).toContain('Added credential tty')
    expect(r.output).not.toContain(typed)
    const list = parseJson<{ name: string }[]>(await p.run(['vault', 'list', '--json']))
    expect(list.map((c) => c.name)).toContain('tty')

    const rotated = await runOnTerminal(
      p,
      ['vault', 'rotate', '--name', 'tty'],
      'New secret for tty',
      'rotated-secret-1a2b3c',
    )
    expect(rotated.code, rotated.output).toBe(0)
    expect(rotated.output).not.toContain('rotated-secret-1a2b3c')
  })
})
