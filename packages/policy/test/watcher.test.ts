import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { decideForAgent, type PolicySet, PolicyWatcher } from '../src/index.js'
import { req } from './helpers.js'

const GET_ONLY = 'agent: research-bot\nrules:\n  - service: slack\n    methods: [GET]\n'
const GET_POST = 'agent: research-bot\nrules:\n  - service: slack\n    methods: [GET, POST]\n'

let dir: string
let watcher: PolicyWatcher | undefined
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aegis-policy-watch-'))
})
afterEach(() => {
  watcher?.stop()
  watcher = undefined
  rmSync(dir, { recursive: true, force: true })
})

const post = req('POST', 'slack', '/api/chat.postMessage')
const allow = { defaultPolicy: 'allow' as const }
const postAllowed = (set: PolicySet) => decideForAgent(set, 'research-bot', post, allow).allowed

/** Writes through a temp file + rename, as editors and config tools do. */
function replace(name: string, text: string): void {
  writeFileSync(join(dir, `.${name}.tmp`), text)
  renameSync(join(dir, `.${name}.tmp`), join(dir, name))
}

describe('PolicyWatcher', () => {
  it('loads at construction and reports the initial set at start', () => {
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY)
    const onReload = vi.fn()
    watcher = new PolicyWatcher(dir, { onReload })
    expect(watcher.current.policies.has('research-bot')).toBe(true)
    expect(onReload).not.toHaveBeenCalled()
    watcher.start()
    expect(onReload).toHaveBeenCalledTimes(1)
    expect(onReload).toHaveBeenCalledWith(watcher.current)
  })

  it('picks up a change within 2 s; a broken edit denies the agent; a fix restores it', async () => {
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY)
    const reloads: PolicySet[] = []
    watcher = new PolicyWatcher(dir, { intervalMs: 100, onReload: (set) => reloads.push(set) })
    watcher.start()
    expect(postAllowed(watcher.current)).toBe(false)

    writeFileSync(join(dir, 'bot.yaml'), GET_POST)
    await vi.waitFor(() => expect(postAllowed(watcher?.current as PolicySet)).toBe(true), {
      timeout: 2000,
      interval: 20,
    })

    writeFileSync(join(dir, 'bot.yaml'), `${GET_POST}    paths: ["/(a+)+"]\n`)
    await vi.waitFor(() => expect(watcher?.current.broken.has('research-bot')).toBe(true), {
      timeout: 2000,
      interval: 20,
    })
    const get = req('GET', 'slack', '/api/x')
    expect(decideForAgent(watcher.current, 'research-bot', get, allow).allowed).toBe(false)

    replace('bot.yaml', GET_ONLY)
    await vi.waitFor(() => expect(watcher?.current.policies.has('research-bot')).toBe(true), {
      timeout: 2000,
      interval: 20,
    })
    expect(decideForAgent(watcher.current, 'research-bot', get, allow).allowed).toBe(true)
    expect(postAllowed(watcher.current)).toBe(false)
    expect(reloads.length).toBeGreaterThanOrEqual(4)
  })

  it('notices an edit that keeps the file size', async () => {
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY)
    watcher = new PolicyWatcher(dir, { intervalMs: 100 })
    watcher.start()
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY.replace('GET', 'PUT'))
    await vi.waitFor(
      () =>
        expect(
          decideForAgent(watcher?.current as PolicySet, 'research-bot', req('PUT', 'slack', '/x'), allow)
            .allowed,
        ).toBe(true),
      { timeout: 2000, interval: 20 },
    )
  })

  it('a new file and a removed file are noticed', async () => {
    watcher = new PolicyWatcher(dir, { intervalMs: 100 })
    watcher.start()
    expect(watcher.current.policies.size).toBe(0)
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY)
    await vi.waitFor(() => expect(watcher?.current.policies.size).toBe(1), { timeout: 2000, interval: 20 })
    rmSync(join(dir, 'bot.yaml'))
    await vi.waitFor(() => expect(watcher?.current.policies.size).toBe(0), { timeout: 2000, interval: 20 })
  })

  it('a directory that disappears denies every agent, and recovers when it is back', async () => {
    writeFileSync(join(dir, 'bot.yaml'), GET_POST)
    const errors: Error[] = []
    watcher = new PolicyWatcher(dir, { intervalMs: 100, onError: (e) => errors.push(e) })
    watcher.start()
    expect(postAllowed(watcher.current)).toBe(true)
    const moved = `${dir}-moved`
    renameSync(dir, moved)
    try {
      await vi.waitFor(() => expect(postAllowed(watcher?.current as PolicySet)).toBe(false), {
        timeout: 2000,
        interval: 20,
      })
      expect(decideForAgent(watcher.current, 'stranger', post, allow).allowed).toBe(false)
      expect(errors[0]?.message).toBe(`${dir}: policies directory not found`)
    } finally {
      renameSync(moved, dir)
    }
    await vi.waitFor(() => expect(postAllowed(watcher?.current as PolicySet)).toBe(true), {
      timeout: 2000,
      interval: 20,
    })
  })

  it('a missing directory at construction gives a deny-all set, not an exception', () => {
    const errors: Error[] = []
    watcher = new PolicyWatcher(join(dir, 'missing'), { onError: (e) => errors.push(e) })
    expect(decideForAgent(watcher.current, 'anyone', post, allow).allowed).toBe(false)
    watcher.start()
    expect(errors).toHaveLength(1)
  })

  it('reload() loads synchronously; stop() ends watching', async () => {
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY)
    watcher = new PolicyWatcher(dir, { intervalMs: 50 })
    watcher.start()
    watcher.stop()
    writeFileSync(join(dir, 'bot.yaml'), GET_POST)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(postAllowed(watcher.current)).toBe(false)
    expect(postAllowed(watcher.reload())).toBe(true)
  })

  it('a throwing onReload callback is routed to onError and does not stop the watcher', async () => {
    writeFileSync(join(dir, 'bot.yaml'), GET_ONLY)
    const errors: Error[] = []
    watcher = new PolicyWatcher(dir, {
      intervalMs: 100,
      onReload: () => {
        throw new Error('logger down')
      },
      onError: (e) => errors.push(e),
    })
    watcher.start()
    writeFileSync(join(dir, 'bot.yaml'), GET_POST)
    await vi.waitFor(() => expect(postAllowed(watcher?.current as PolicySet)).toBe(true), {
      timeout: 2000,
      interval: 20,
    })
    expect(errors.map((e) => e.message)).toContain('logger down')
  })
})
