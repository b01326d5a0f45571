// tsc copies no .lua or page files; the code reads them from beside its compiled self.
import { cpSync } from 'node:fs'
cpSync('src/store/lua', 'dist/src/store/lua', { recursive: true })
cpSync('src/reports/page', 'dist/src/reports/page', { recursive: true })
