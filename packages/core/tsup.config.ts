import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', conformance: 'src/conformance.ts' },
  format: ['esm', 'cjs'],
  // One copy of each module shared by every entry, in CommonJS too (tsup splits only ESM by default).
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
