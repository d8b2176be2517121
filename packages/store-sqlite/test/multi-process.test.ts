import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { build } from 'tsup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/migrations.js';
import { FIXTURE_EPOCH, makeJob } from '@symbi/core/testing';
import { onCleanup, openStore, tempDbPath } from './temp-files.js';

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..');
const repoRoot = join(packageRoot, '..', '..');

/**
 * Bundles the worker from source (this package and `@symbi/core` included, better-sqlite3 and
 * kysely left as imports) into the package's node_modules cache, where those imports resolve, so
 * the child processes always run the code under test without a prior build.
 */
async function bundleWorker(): Promise<{ file: string; dispose: () => void }> {
  const cache = join(packageRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const outDir = mkdtempSync(join(cache, 'claim-worker-'));
  await build({
    entry: { 'claim-worker': join(here, 'fixtures', 'claim-worker.ts') },
    outDir,
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    platform: 'node',
    target: 'node20',
    tsconfig: join(repoRoot, 'tsconfig.json'),
    external: ['better-sqlite3', 'kysely'],
    noExternal: [/^@symbi\//],
    config: false,
    dts: false,
    sourcemap: false,
    splitting: false,
    silent: true,
  });
  return { file: join(outDir, 'claim-worker.mjs'), dispose: () => rmSync(outDir, { recursive: true, force: true }) };
}

/** A running worker: its first output line, then its final JSON line. */
interface Worker {
  child: ChildProcessWithoutNullStreams;
  lines: AsyncIterator<string>;
  exited: Promise<{ code: number | null; stderr: string }>;
}

function startWorker(file: string, args: string[]): Worker {
  const child = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  onCleanup(() => child.kill());
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
  return { child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator](), exited };
}

async function nextLine(worker: Worker): Promise<string> {
  const line = await worker.lines.next();
  if (line.done) {
    const { code, stderr } = await worker.exited;
    throw new Error(`worker exited (${code}) without output: ${stderr}`);
  }
  return line.value;
}

describe('several processes on one file', () => {
  let worker: { file: string; dispose: () => void };
  beforeAll(async () => {
    worker = await bundleWorker();
  });
  afterAll(() => worker?.dispose());

  it('migrate a fresh file exactly once when they open it at the same moment', async () => {
    const path = tempDbPath();
    const workers = ['a', 'b', 'c'].map((owner) => startWorker(worker.file, ['init', path, owner]));
    for (const w of workers) expect(JSON.parse(await nextLine(w))).toMatchObject({ migrated: true });
    for (const w of workers) expect((await w.exited).code).toBe(0);
    const raw = new Database(path, { readonly: true });
    onCleanup(() => raw.close());
    expect(raw.prepare('select version from schema_migrations order by version').all()).toEqual(MIGRATIONS.map((m) => ({ version: m.version })));
  });

  it('never let two processes claim the same run or plan the same fire', async () => {
    const path = tempDbPath();
    const store = await openStore({ path });
    const jobs = 40;
    const firesPerJob = 25;
    const start = FIXTURE_EPOCH.getTime() + 1000;
    const end = start + firesPerJob * 1000;
    for (let i = 0; i < jobs; i += 1) await store.createJob(makeJob({ nextRun: new Date(start), maxConcurrent: 100 }));

    const owners = ['process-a', 'process-b', 'process-c'];
    const workers = owners.map((owner) => startWorker(worker.file, ['claim', path, owner, String(end), String(end)]));
    for (const w of workers) expect(await nextLine(w)).toBe('ready');
    for (const w of workers) w.child.stdin.end('go\n');

    const reports = await Promise.all(workers.map(async (w) => JSON.parse(await nextLine(w)) as { owner: string; claimed: { runId: string; fireKey: string }[] }));
    for (const w of workers) {
      const { code, stderr } = await w.exited;
      expect(code, stderr).toBe(0);
    }

    const claims = reports.flatMap((report) => report.claimed);
    expect(claims).toHaveLength(jobs * firesPerJob);
    expect(new Set(claims.map((c) => c.runId)).size).toBe(claims.length);
    expect(new Set(claims.map((c) => c.fireKey)).size).toBe(claims.length);
    // Several processes got a share, so the claims really raced.
    expect(reports.filter((report) => report.claimed.length > 0).length, JSON.stringify(reports.map((r) => r.claimed.length))).toBeGreaterThan(1);

    const runs = await store.listRuns({ limit: jobs * firesPerJob + 10 });
    expect(runs).toHaveLength(jobs * firesPerJob);
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
    const claimedBy = new Map(reports.flatMap((report) => report.claimed.map((c) => [c.runId, { ...c, owner: report.owner }] as const)));
    for (const run of runs) expect(run.output).toBe(claimedBy.get(run.id)?.owner);
    for (const job of await store.listJobs()) {
      expect(job.runCount).toBe(firesPerJob);
      expect(job.nextRun).toBeNull();
    }
  });
});
