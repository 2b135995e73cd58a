import tailwindcss from '@tailwindcss/vite'
import react from '@vitejs/plugin-react'
import { defineConfig, mergeConfig } from 'vitest/config'
import { shared } from '../../vitest.shared.ts'

// The dashboard server checks Origin on every write and on the WebSocket upgrade against its own
// port; in dev the browser talks to Vite's port, so the proxy presents the server's own origin.
const server = 'http://127.0.0.1:3200'

export default mergeConfig(
  shared,
  defineConfig({
    // Absolute asset URLs: index.html is served for every SPA route (/feed, /users ...), so a
    // relative `./assets/...` would resolve under the route and 404.
    base: '/',
    plugins: [react(), tailwindcss()],
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      assetsDir: 'assets',
      sourcemap: false,
      // One CSS and one JS file with content hashes: the same sources give the same dist/.
      cssCodeSplit: false,
    },
    server: {
      host: '127.0.0.1',
      proxy: {
        '/api': {
          target: server,
          configure: (proxy) => proxy.on('proxyReq', (req) => req.setHeader('origin', server)),
        },
        '/ws': {
          target: server,
          ws: true,
          configure: (proxy) => proxy.on('proxyReqWs', (req) => req.setHeader('origin', server)),
        },
      },
    },
    test: {
      include: ['test/**/*.test.{ts,tsx}'],
      environment: 'node',
    },
  }),
)
