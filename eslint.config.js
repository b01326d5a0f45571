import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'node_modules/**', 'test-output/**', 'clients/typescript/dist/**', 'clients/typescript/src/generated/**']
  }),
  {
    // A TypeBox schema and its Static<> type share one name on purpose.
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  }
]
