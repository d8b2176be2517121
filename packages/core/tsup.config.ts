import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', conformance: 'src/conformance.ts' },
  format: ['esm', 'cjs'],
  // p-limit is ESM-only with a default export, which a CommonJS bundle cannot `require()` as a
  // function: it is bundled (with its yocto-queue) into both formats instead.
  noExternal: ['p-limit', 'yocto-queue'],
  // One copy of each module shared by every entry, in CommonJS too (tsup splits only ESM by default).
  splitting: true,
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
