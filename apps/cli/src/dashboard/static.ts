/**
 * The built SPA, from `dist/dashboard/`: a file when the path names one, else index.html (the SPA
 * routes). Paths are decoded once and refused when a segment is `..`, `.`, a dotfile, or holds a
 * backslash or NUL, and the resolved file must still lie under the root: nothing outside it is ever
 * opened.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, sep } from 'node:path'
import { sendText } from './respond.js'

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}

export const NOT_BUILT =
  'The dashboard UI is not built into this aegis (dist/dashboard is missing): run pnpm build. The API still works.'

/** The safe relative path of a request, or null when it tries to leave the root or is malformed. */
export function safeRelativePath(url: string): string | null {
  const pathname = url.split('?')[0]?.split('#')[0] ?? ''
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return null
  }
  if (!decoded.startsWith('/') || decoded.includes('\\') || decoded.includes('\0')) return null
  const segments = decoded.split('/').filter((s) => s !== '')
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null
  return segments.join('/')
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch {
    return false
  }
}

/** Serves a GET/HEAD of a non-API path. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse, root: string): Promise<void> {
  const relative = safeRelativePath(req.url ?? '/')
  if (relative === null) {
    sendText(res, 404, 'Not found')
    return
  }
  const index = join(root, 'index.html')
  let file = relative === '' ? index : join(root, relative)
  if (file !== index && !file.startsWith(root + sep)) {
    sendText(res, 404, 'Not found')
    return
  }
  if (!(await isFile(file))) {
    // A missing hashed asset is a 404, not the SPA: a stale page must not execute HTML as script.
    if (relative.startsWith('assets/')) {
      sendText(res, 404, 'Not found')
      return
    }
    file = index
    if (!(await isFile(index))) {
      sendText(res, 503, NOT_BUILT)
      return
    }
  }
  const headers: Record<string, string> = {
    'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    // Hashed names never change content; index.html must be re-read to pick up a new build.
    'cache-control': relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  }
  res.writeHead(200, headers)
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  const stream = createReadStream(file)
  stream.on('error', () => res.destroy())
  stream.pipe(res)
}
