import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchPlan, type BenchMode } from './plan.js';
import { renderReport } from './report.js';
import { runBenchmarks } from './run-bench.js';
import { readingOf } from './reading.js';
import type { BenchResults } from './results.js';

/** Where a run writes: the JSON summary and the Markdown report. */
export interface OutputPaths {
  json: string;
  markdown: string;
}

/** Parses `--quick`, `--smoke` and `--out <dir>` (smoke runs write to `--out`, never over the committed results). */
export function parseArguments(argv: string[], benchDir: string): { mode: BenchMode; output: OutputPaths } {
  const mode: BenchMode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : undefined;
  if (outAt >= 0 && !out) throw new Error('--out needs a folder');
  if (mode === 'smoke' && !out) throw new Error('a smoke run needs --out <folder>: it must not replace the committed results');
  const output = out
    ? { json: join(resolve(out), 'latest.json'), markdown: join(resolve(out), 'BENCHMARKS.md') }
    : { json: join(benchDir, 'results', 'latest.json'), markdown: join(benchDir, '..', 'BENCHMARKS.md') };
  return { mode, output };
}

/**
 * The hand-written reading of the missed targets (`bench/findings.md`), when a target of ours was
 * missed: it explains the profiles in terms of our code.
 */
function findings(benchDir: string, results: BenchResults): string {
  const path = join(benchDir, 'findings.md');
  return results.targets.some((t) => t.met === false) && existsSync(path) ? `${readFileSync(path, 'utf8')}\n` : '';
}

/** Writes the Markdown report of `results`, with the reading of the profiles and the findings. */
function writeReport(results: BenchResults, markdown: string, benchDir: string): void {
  writeFileSync(markdown, renderReport(results, `${readingOf(results)}\n${findings(benchDir, results)}`));
}

/**
 * Runs the benchmarks of the mode `argv` asks for and writes the results and the report.
 * `benchDir` is the `bench/` folder (this module runs from a bundle elsewhere).
 */
export async function main(argv: string[], benchDir: string): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { mode, output } = parseArguments(argv, benchDir);
  if (argv.includes('--render')) {
    // Writes the report again from the saved results (after editing findings.md), measuring nothing.
    const saved = JSON.parse(readFileSync(output.json, 'utf8')) as BenchResults;
    writeReport(saved, output.markdown, benchDir);
    console.log(`[bench] wrote ${output.markdown} from ${output.json}`);
    return;
  }
  const began = Date.now();
  const command = mode === 'full' ? 'pnpm bench' : mode === 'quick' ? 'pnpm bench:quick' : 'node bench/run.mjs --smoke';
  const results = await runBenchmarks({
    plan: benchPlan(mode),
    entry: join(here, 'task-process.js'),
    command,
    log: (line) => console.log(`[bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s, load ${loadavg()[0]!.toFixed(1)}] ${line}`),
  });
  mkdirSync(dirname(output.json), { recursive: true });
  mkdirSync(dirname(output.markdown), { recursive: true });
  writeFileSync(output.json, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results, output.markdown, benchDir);
  console.log(`[bench] wrote ${output.json} and ${output.markdown}`);
  for (const target of results.targets) console.log(`[bench] ${target.met === null ? 'n/a    ' : target.met ? 'met    ' : 'NOT MET'} ${target.target}: ${target.measured}`);
  if (results.errors.length > 0) {
    console.error(`[bench] ${results.errors.length} part(s) failed:\n${results.errors.join('\n')}`);
    process.exitCode = 1;
  }
}
