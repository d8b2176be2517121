import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The checkpoint worker resolves better-sqlite3 from `import.meta.url`, which CommonJS lacks.
  shims: true,
});
