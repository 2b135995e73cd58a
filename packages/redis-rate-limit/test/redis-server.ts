import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'

/** The Redis every suite shares (`.ci/run` starts it and sets AEGIS_REDIS_URL). */
export const REDIS_URL = process.env.AEGIS_REDIS_URL

/** Says, once and visibly, why the Redis suites did not run. */
export function announceSkip(suite: string): void {
  if (REDIS_URL === undefined) {
    process.stderr.write(
      `SKIPPED ${suite}: AEGIS_REDIS_URL is not set (scripts/services.sh start DIR sets it)\n`,
    )
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** A private redis-server this test may kill, pause and restart (Debian's redis-server). */
export class PrivateRedis {
  #process: ChildProcess | null = null
  constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort())
    await redis.start()
    return redis
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.#process = child
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`redis-server exited with ${code}: ${out}`))
      })
    })
  }

  /** SIGKILL: the connection drops at once. */
  async kill(): Promise<void> {
    const child = this.#process
    this.#process = null
    if (!child || child.exitCode !== null) return
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }

  /** SIGSTOP / SIGCONT: the connection stays open but nothing answers. */
  pause(): void {
    this.#process?.kill('SIGSTOP')
  }

  resume(): void {
    this.#process?.kill('SIGCONT')
  }
}
