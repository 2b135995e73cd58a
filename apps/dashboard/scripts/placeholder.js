// Placeholder build of the dashboard SPA (replaced by the real Vite app): one index.html and one
// hashed asset, so the CLI's copy step and static server have something to serve.
import { mkdirSync, writeFileSync } from 'node:fs'

const dist = new URL('../dist/', import.meta.url)
mkdirSync(new URL('assets/', dist), { recursive: true })
writeFileSync(
  new URL('assets/app-placeholder.js', dist),
  'document.getElementById("root").textContent = "Aegis dashboard"\n',
)
writeFileSync(
  new URL('index.html', dist),
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Aegis</title>' +
    '<script type="module" src="/assets/app-placeholder.js"></script></head>' +
    '<body><div id="root"></div></body></html>\n',
)
