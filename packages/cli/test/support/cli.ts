import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe } from 'vitest';
import { describeNeeding } from '../../../../tests/support/describe-needing.js';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** The built command line. */
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

/** The workspace packages the built CLI loads at run time (from their `dist`). */
const PACKAGES = ['cli', 'core', 'dsl', 'delivery', 'executors', 'store-sqlite', 'store-postgres', 'server', 'client'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function builtAt(pkg: string): number {
  try {
    return statSync(join(ROOT, 'packages', pkg, 'dist', pkg === 'cli' ? 'bin.js' : 'index.js')).mtimeMs;
  } catch {
    return 0;
  }
}

function stalePackages(): string[] {
  return PACKAGES.filter((pkg) => builtAt(pkg) < newestMtime(join(ROOT, 'packages', pkg, 'src')));
}

const LOCK = join(tmpdir(), 'symbi-cli-test-build.lock');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a command to its end without blocking this process (a blocked test worker misses its heartbeats). */
function run(command: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

/**
 * Builds the CLI (and the workspace packages it loads, when theirs are older than their sources)
 * unless its `dist` is up to date. Test files run in parallel, so one builds while the others
 * wait on a lock directory.
 */
export async function ensureBuilt(): Promise<void> {
  if (stalePackages().length === 0) return;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {
        // The lock went away between the two calls: try again.
      }
      await sleep(500);
    }
  }
  try {
    const stale = stalePackages();
    if (stale.length === 0) return;
    const filter = stale.some((pkg) => pkg !== 'cli') ? 'symbi...' : 'symbi';
    const build = await run('pnpm', ['--filter', filter, 'build']);
    if (build.status !== 0) throw new Error(`building the CLI failed:\n${build.output}`);
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Environment for a child: this process's, without any `SYMBI_*`, colour or CI setting, plus `extra`. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('SYMBI_') && key !== 'NO_COLOR' && key !== 'FORCE_COLOR') env[key] = value;
  }
  return { ...env, ...extra };
}

/** The outcome of one CLI invocation. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli}. */
export interface RunOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Written to stdin (which is then closed); stdin is empty otherwise. */
  input?: string;
  timeoutMs?: number;
}

/** Runs `node dist/bin.js …args` to its end. */
export function runCli(args: readonly string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`symbi ${args.join(' ')} did not end within ${options.timeoutMs ?? 30_000} ms\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A `symbi up` running in the background. */
export interface UpProcess {
  child: ChildProcess;
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Base URL of its API. */
  url: string;
  /** Resolves once stdout matches `pattern` (checked on every chunk). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<ChildProcess>();

/** Starts `symbi up …args --port 0` and resolves once its API listens. */
export async function startUp(args: readonly string[], options: RunOptions): Promise<UpProcess> {
  const child = spawn(process.execPath, [BIN, 'up', '--port', '0', ...args], { cwd: options.cwd, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    running.delete(child);
    for (const waiter of waiters) waiter();
    resolve(code);
  }));
  const waitFor = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const match = stdout.match(pattern);
        if (match) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(match);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`symbi up exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}\n${stdout}\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`symbi up did not print ${pattern} within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const [, url] = await waitFor(/API listening on (http:\/\/\S+) /);
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    url: url as string,
    waitFor,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Kills every `symbi up` a test left running. */
export function killLeftovers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** A fresh temporary folder, removed after the calling file's tests. */
export function useTempDir(): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    killLeftovers();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), 'symbi-cli-'));
    dirs.push(dir);
    return dir;
  };
}

/**
 * A new SQLite store `dir/scheduler.db` holding a cron job of `agent` for each name, added with
 * `symbi cron add`; returns its path.
 */
export async function storeWithJobs(dir: string, names: readonly string[], job: { agent_id: string; cron_expr: string }): Promise<string> {
  const db = join(dir, 'scheduler.db');
  for (const name of names) {
    const added = await runCli(['--db', db, 'cron', 'add', '--json', JSON.stringify({ name, ...job })], { cwd: dir });
    if (added.code !== 0) throw new Error(`symbi cron add ${name} failed: ${added.stderr}`);
  }
  return db;
}

/** Writes `text` to `dir/name` and returns the path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The PostgreSQL server of the tests; override with SYMBI_TEST_POSTGRES_URL. */
export const POSTGRES_URL = process.env.SYMBI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function psql(sql: string): { ok: boolean; message: string } {
  const result = spawnSync('psql', [POSTGRES_URL, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGCONNECT_TIMEOUT: '3' },
  });
  if (result.error) return { ok: false, message: result.error.message };
  return { ok: result.status === 0, message: (result.stderr || result.stdout).trim() };
}

const postgresProblem = (() => {
  const probe = psql('SELECT 1');
  return probe.ok ? null : probe.message || 'psql failed';
})();

/** The stores the tests run against: SQLite always, PostgreSQL when reachable (required on CI). */
export type StoreKind = 'sqlite' | 'postgres';

/**
 * `describe` once per store kind. PostgreSQL is skipped with a visible warning when it cannot be
 * reached, except on CI (`CI` set), where its tests fail instead.
 */
export function describeStores(name: string, body: (kind: StoreKind) => void): void {
  describe(`${name} (sqlite)`, () => body('sqlite'));
  const missing = postgresProblem === null ? null : `PostgreSQL at ${POSTGRES_URL} is unreachable (${postgresProblem})`;
  describeNeeding(`${name} (postgres)`, missing, () => body('postgres'), 'symbi cli');
}

/**
 * A `--db` value for a fresh store of `kind`: an SQLite file in `dir`, or a new PostgreSQL
 * schema (dropped after the calling file's tests).
 */
export function useStore(kind: StoreKind): (dir: string) => string {
  const schemas: string[] = [];
  afterAll(() => {
    for (const schema of schemas) psql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
  return (dir) => {
    if (kind === 'sqlite') return join(dir, 'scheduler.db');
    const schema = `symbi_cli_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('schema', schema);
    return url.toString();
  };
}

/** Parses RFC 4180 CSV (quoted cells, doubled quotes, CRLF) into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** CSV rows as objects keyed by the header. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries((header ?? []).map((key, i) => [key, row[i] ?? ''])));
}
