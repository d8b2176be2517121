import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

/** Tests import every workspace package from its source, so no build is needed to run them. */
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@symbi\/core\/testing$/, replacement: src('core', 'testing/index.ts') },
      { find: /^@symbi\/core\/conformance$/, replacement: src('core', 'conformance.ts') },
      { find: /^@symbi\/(core|store-sqlite|store-postgres|delivery|executors|dsl|server|client)$/, replacement: src('$1') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
