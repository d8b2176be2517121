// Entry of `pnpm bench` / `pnpm bench:quick`: builds what the benchmarks measure, bundles the
// benchmark sources with it, then runs them. Flags: `--quick`, `--smoke` (tiny, for the test),
// `--out <folder>` (write there instead of bench/results and BENCHMARKS.md), `--render` (write the
// report again from the saved JSON summary, measuring nothing).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const measured = ['core', 'store-sqlite', 'store-postgres'];

// The benchmarks import the built packages, as an application would.
const missing = measured.filter((pkg) => !existsSync(join(root, 'packages', pkg, 'dist', 'index.js')));
if (missing.length > 0) {
  console.log(`[bench] ${missing.join(', ')} not built: running pnpm build`);
  execFileSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
}

const { build } = await import('esbuild');
const { dependencies } = JSON.parse(readFileSync(join(benchDir, 'package.json'), 'utf8'));
// A folder of this run's own, so runs side by side (a benchmark and the smoke test) never share one.
const outdir = join(benchDir, 'dist', `run-${process.pid}`);
try {
  await build({
    entryPoints: [join(benchDir, 'src', 'main.ts'), join(benchDir, 'src', 'task-process.ts')],
    outdir,
    bundle: true,
    // The built @symbi/* packages (their dist, as an application imports them) are copied into the
    // bundle, so a rebuild of the workspace while the benchmarks run cannot pull the code from under
    // them; the peers and drivers load from node_modules. The root tsconfig maps @symbi/* to their
    // sources (for tsc and vitest), so it must not steer this bundle.
    external: Object.keys(dependencies).filter((name) => !name.startsWith('@symbi/')),
    tsconfigRaw: { compilerOptions: { target: 'es2022', verbatimModuleSyntax: true } },
    platform: 'node',
    format: 'esm',
    // Each task loads only its own modules (a memory probe must not hold every peer library).
    splitting: true,
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
  const { main } = await import(pathToFileURL(join(outdir, 'main.js')).href);
  await main(process.argv.slice(2), benchDir);
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
