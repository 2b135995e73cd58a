import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { BIN } from '../helpers/run-cli.js'

export interface RunningDashboard {
  child: ChildProcess
  port: number
  /** Null with --no-gate. */
  gatePort: number | null
  /** The one-time token of the login line. */
  token: string
  /** The origin the login line names (`http://127.0.0.1:<port>`, or the address bound). */
  url: string
  output: () => string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
}

/** Starts `aegis dashboard` and waits for its login line (and the gate line unless --no-gate). */
export function startDashboard(
  cwd: string,
  args: string[],
  env: Record<string, string>,
): Promise<RunningDashboard> {
  return startServing(cwd, 'dashboard', args, env)
}

/** Starts `aegis <command>` (dashboard, or gate with dashboard.enabled) and waits for its login line. */
export async function startServing(
  cwd: string,
  command: 'dashboard' | 'gate',
  args: string[],
  env: Record<string, string>,
): Promise<RunningDashboard> {
  const child = spawn(process.execPath, [BIN, command, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let all = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    all += d
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    all += d
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const line = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dashboard did not start:\n${all}`)), 20_000)
    child.stdout?.on('data', () => {
      const match =
        /^dashboard: (http:\/\/(?:127\.0\.0\.1|\[::1\]):(\d+))\/login#t=([A-Za-z0-9_-]{43})$/m.exec(stdout)
      if (match) {
        clearTimeout(timer)
        resolve(match)
      }
    })
    void exited.then((code) => reject(new Error(`dashboard exited ${code}:\n${all}`)))
  })
  const gate = /^Aegis gate listening on http:\/\/127\.0\.0\.1:(\d+) \(vault "[^"]+"\)$/m.exec(stdout)
  return {
    child,
    port: Number(line[2]),
    gatePort: gate ? Number(gate[1]) : null,
    token: line[3] as string,
    url: line[1] as string,
    output: () => all,
    exited,
  }
}

export interface Reply {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
  json: () => unknown
}

/** A raw HTTP request (node:http, so Host and Origin can be anything, or absent). */
export function http(
  port: number,
  path: string,
  options: {
    method?: string
    headers?: Record<string, string | undefined>
    body?: string
    /** The address to connect to (127.0.0.1 by default). */
    address?: string
  } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k] = v
  return new Promise((resolve, reject) => {
    const req = request(
      // A `host` key (even undefined: no Host header at all) replaces the one node:http would set.
      {
        host: options.address ?? '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers,
        agent: false,
        setHost: !('host' in (options.headers ?? {})),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) }),
        )
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The subprotocols the SPA offers on `/ws`: the feed's, and the one carrying the session key. */
export function feedProtocols(key: string): string[] {
  return ['aegis.v1', `aegis-key.${key}`]
}

/**
 * A logged-in browser as the SPA is one: its cookie and its session key (the login's answer, sent as
 * `X-Aegis-Session` on every call), and Origin + X-Aegis-CSRF on writes.
 */
export class Browser {
  cookie = ''
  key = ''
  constructor(readonly port: number) {}

  get origin(): string {
    return `http://127.0.0.1:${this.port}`
  }

  async login(token: string): Promise<Reply> {
    const reply = await this.write('POST', '/api/session', { token })
    const set = reply.headers['set-cookie']?.[0]
    if (set) this.cookie = set.split(';')[0] ?? ''
    if (reply.status === 200) this.key = (reply.json() as { sessionKey: string }).sessionKey
    return reply
  }

  /** What every call carries: the cookie and the key (each only once there is one). */
  get session(): Record<string, string | undefined> {
    return { cookie: this.cookie || undefined, 'x-aegis-session': this.key || undefined }
  }

  get(path: string): Promise<Reply> {
    return http(this.port, path, { headers: this.session })
  }

  write(method: string, path: string, body?: unknown): Promise<Reply> {
    return http(this.port, path, {
      method,
      headers: {
        ...this.session,
        origin: this.origin,
        'x-aegis-csrf': '1',
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  }
}
