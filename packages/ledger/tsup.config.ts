import { defineConfig } from 'tsup'
import { library } from '../../tsup.shared.ts'

// The writer thread's program is a module of its own (writer-thread.ts imports it by file name).
export default defineConfig({ ...library, entry: ['src/index.ts', 'src/writer-worker.ts'] })
