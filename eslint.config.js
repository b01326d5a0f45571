import neostandard from 'neostandard'

/** I/O a pure rule may not import (docs/architecture.md, "The shape"). */
const IO_MODULES = ['fastify', 'fastify-plugin', '@fastify/*', 'ioredis', 'pino', 'pino-*', 'prom-client',
  'fs', 'node:fs', 'fs/*', 'node:fs/*', 'net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'http2', 'node:http2',
  'child_process', 'node:child_process', 'dgram', 'node:dgram', 'tls', 'node:tls']

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', 'test-output/**', 'clients/typescript/dist/**', 'clients/typescript/src/generated/**']
  }),
  {
    // A TypeBox schema and its Static<> type share one name on purpose.
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  },
  {
    // The layers import one way: routes/plugins -> services -> rules + store ports <- adapters (redis, memory).
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [
          { target: './src/rules', from: './src', except: ['./rules'], message: 'src/rules is the pure core: it imports only other rules.' },
          { target: './src/store', from: './src', except: ['./rules', './store'], message: 'a store port imports only rules.' },
          {
            target: './src/services',
            from: ['./src/plugins', './src/routes', './src/redis', './src/memory'],
            message: 'a service reaches the store through its port (src/store), never an adapter, a plugin or a route.'
          },
          {
            target: ['./src/redis', './src/memory'],
            from: ['./src/services', './src/plugins', './src/routes'],
            message: 'an adapter implements a port (src/store) with the rules: it knows no service, plugin or route.'
          }
        ]
      }]
    }
  },
  {
    files: ['src/rules/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: IO_MODULES, message: 'src/rules is pure: no I/O (HTTP, Redis, files, logs, metrics) in the rules.' }]
      }]
    }
  }
]
