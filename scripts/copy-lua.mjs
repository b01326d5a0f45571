// tsc copies only what it compiles: the Lua scripts and the pages' files go beside the compiled code that reads them.
import { cpSync, statSync } from 'node:fs'
const ASSET = /\.(lua|html|css)$|\/(report|preferences)-page\/[^/]+\.js$|\/preferences-page\/strings\/[^/]+\.json$/
cpSync('src', 'dist/src', { recursive: true, filter: (path) => statSync(path).isDirectory() || ASSET.test(path) })
