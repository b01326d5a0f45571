// tsc copies no .lua files; the Redis store reads its scripts from beside its compiled code.
import { cpSync } from 'node:fs'
cpSync('src/store/lua', 'dist/src/store/lua', { recursive: true })
