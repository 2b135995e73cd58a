import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// Two entries: the public API and `@aegis/proxy/internal` (shared code lands in one chunk, so a
// class such as `Drain` is the same class through both).
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/internal.ts'] })
