import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'

/** The admin socket's file name in its directory; a second gate on the same data dir adds its pid. */
export const ADMIN_SOCKET = 'admin.sock'

/**
 * Longest socket path accepted, in bytes: `sun_path` holds 104 bytes on macOS and 108 on Linux,
 * NUL included, and Node 20 silently TRUNCATES a longer path — the socket then appears in another
 * directory (checked: a 110-character path under /tmp bound a socket of 103 characters in /tmp
 * itself), outside the private one. Refused instead.
 */
export const MAX_SOCKET_PATH_BYTES = 103

/** Throws when `path` is too long to bind or connect to as itself. */
export function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path)
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `The admin socket path ${path} is ${bytes} bytes, more than the ${MAX_SOCKET_PATH_BYTES} a Unix socket allows: use a data directory with a shorter path`,
    )
  }
}

/**
 * Makes `dir` a private directory (0700) before any socket is created in it, so there is no
 * moment in which another user could connect: access control is the file system's (same OS user),
 * Node has no SO_PEERCRED. Refuses a symlink or a non-directory planted there.
 */
export function preparePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const stat = lstatSync(dir)
  if (!stat.isDirectory())
    throw new Error(`${dir} is not a directory: the admin socket needs a private directory`)
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) {
    throw new Error(`${dir} belongs to another user: the admin socket needs a directory of its own`)
  }
  chmodSync(dir, 0o700)
}

/** True when something accepts connections on `path`. */
export function socketAnswers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path)
    const done = (answers: boolean) => {
      socket.destroy()
      resolve(answers)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * A socket path in `dir` free for this process: `admin.sock`, after removing it when it is stale
 * (nothing answers: a gate that crashed), or `admin-<pid>.sock` when a live gate holds it.
 */
export async function freeSocketPath(dir: string): Promise<string> {
  // The longer of the two names decides, so a second gate does not fail where the first worked.
  checkSocketPath(join(dir, `admin-${process.pid}.sock`))
  const primary = join(dir, ADMIN_SOCKET)
  if (!exists(primary)) return primary
  if (!(await socketAnswers(primary))) {
    rmSync(primary, { force: true })
    return primary
  }
  const own = join(dir, `admin-${process.pid}.sock`)
  rmSync(own, { force: true })
  return own
}

/** Every admin socket in `dir` (one per running gate of the data dir). */
export function adminSockets(dir: string): string[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names
    .filter((n) => /^admin(-[0-9]+)?\.sock$/.test(n))
    .map((n) => join(dir, n))
    .filter((path) => Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES)
}

function exists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}
