import { execFileSync, spawn, type ExecFileSyncOptions } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A host application outside the workspace, as a user gets it: every package packed with
 * `pnpm pack` (so `workspace:*` becomes a version and only `files` ship), installed from the
 * tarballs with the host's own TypeScript and vitest. The install reuses the workspace's pnpm
 * store (nothing downloaded twice) and links the workspace's built better-sqlite3, the one
 * native module, instead of compiling it again from source (minutes on a small machine).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./host', import.meta.url));
const rootRequire = createRequire(join(ROOT, 'package.json'));
const versionOf = (name: string): string => (rootRequire(`${name}/package.json`) as { version: string }).version;

let work: string;
let host: string;

/** Runs a command in the host; a failure shows what the command printed. */
function run(command: string, args: string[], options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, { cwd: host, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000, ...options }) as string;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The workspace's packages by name, each with the file name `pnpm pack` gives its tarball. */
const PACKAGES = readdirSync(join(ROOT, 'packages')).map((dir) => {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name, tarball: `${name.replace('@', '').replace('/', '-')}-${version}.tgz` };
});

/** The line `RESULT {...}` a host script prints, parsed. */
const resultOf = (stdout: string): Record<string, unknown> => {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in:\n${stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>;
};

/** The code blocks of docs/getting-started.md introduced by "Save as `<file>`", by file name. */
function guideFiles(): Map<string, string> {
  const guide = readFileSync(join(ROOT, 'docs/getting-started.md'), 'utf8');
  return new Map([...guide.matchAll(/Save\s+as\s+`([^`]+)`[\s\S]*?```js\n([\s\S]*?)```/g)].map((m) => [m[1]!, m[2]!]));
}

/** The README's "Embed it" snippet, verbatim. */
function readmeEmbedSnippet(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = /## Embed it\s+```ts\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1]) throw new Error('README.md has no "## Embed it" TypeScript snippet');
  return match[1];
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'symbi-consumer-'));
  host = join(work, 'host');
  const packs = join(work, 'packs');
  execFileSync('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', packs], { cwd: ROOT, stdio: 'ignore' });
  const tarballs = Object.fromEntries(PACKAGES.map(({ name, tarball }) => [name, `file:${join(packs, tarball)}`]));
  const sqliteRequire = createRequire(join(ROOT, 'packages/store-sqlite/package.json'));
  const builtSqlite = realpathSync(dirname(sqliteRequire.resolve('better-sqlite3/package.json')));
  cpSync(FIXTURES, host, { recursive: true });
  writeFileSync(join(host, 'embed.mjs'), readmeEmbedSnippet() + readFileSync(join(FIXTURES, 'embed-run.mjs'), 'utf8'));
  for (const [file, code] of guideFiles()) writeFileSync(join(host, `guide-${file}`), code);
  writeFileSync(
    join(host, 'package.json'),
    JSON.stringify({
      name: 'symbi-host',
      private: true,
      dependencies: tarballs,
      devDependencies: { typescript: versionOf('typescript'), vitest: versionOf('vitest'), '@types/node': versionOf('@types/node') },
      pnpm: { overrides: { ...tarballs, 'better-sqlite3': `link:${builtSqlite}` }, onlyBuiltDependencies: ['esbuild'] },
    }),
  );
  const store = execFileSync('pnpm', ['store', 'path'], { cwd: ROOT, encoding: 'utf8' }).trim();
  run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile', '--store-dir', store]);
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a host application installing the packed tarballs', () => {
  it('installed all nine packages from their tarballs, outside the workspace', () => {
    const installed = JSON.parse(run('pnpm', ['list', '--json', '--depth', '0'])) as { dependencies: Record<string, { version: string }> }[];
    expect(Object.keys(installed[0]!.dependencies).sort()).toEqual(PACKAGES.map((p) => p.name).sort());
    expect(PACKAGES).toHaveLength(9);
    expect(host.startsWith(ROOT)).toBe(false);
  });

  it("runs the README's Embed it snippet as an ES module", () => {
    const stdout = run('node', ['embed.mjs']);
    expect(resultOf(stdout)).toEqual({ status: 'succeeded', output: 'report for Monday' });
    expect(stdout).toContain('report for Monday');
  });

  it('require()s the packages from CommonJS, runs a job and delivers it to a custom DeliveryRouter', () => {
    expect(resultOf(run('node', ['main.cjs']))).toEqual({
      status: 'succeeded',
      output: 'echo from require',
      received: [{ channel: 'memory', job: 'cjs-job', output: 'echo from require' }],
    });
  });

  it('type-checks a strict host under node16 (ESM and CommonJS) and bundler resolution, skipLibCheck off', () => {
    for (const project of ['tsconfig.node16.json', 'tsconfig.bundler.json']) {
      run('node', [join(host, 'node_modules/typescript/bin/tsc'), '-p', project]);
    }
  }, 180_000);

  it('runs the getting-started guide verbatim: its scheduler delivers a run, and its test passes', async () => {
    expect([...guideFiles().keys()].sort()).toEqual(['main.mjs', 'schedule.test.mjs']);
    const guideTest = run('node', ['--test', 'guide-schedule.test.mjs']);
    expect(guideTest).toMatch(/# pass 1\b/);
    // main.mjs runs until interrupted: wait for its run's stdout delivery, then Ctrl-C it.
    const child = spawn('node', ['guide-main.mjs'], { cwd: host, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no delivery within 30 s:\n${output}`)), 30_000);
      child.stdout.on('data', () => {
        if (!output.includes('report for today')) return;
        clearTimeout(timer);
        resolve();
      });
      child.on('exit', () => reject(new Error(`main.mjs exited early:\n${output}`)));
    });
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
  }, 60_000);

  it('unit-tests a schedule under node:test with only @symbi/core/testing', () => {
    const output = run('node', ['--test', 'node-schedule.test.mjs']);
    expect(output).toMatch(/# pass 1\b/);
    expect(output).toMatch(/# fail 0\b/);
  });

  it('unit-tests a schedule under vitest with only @symbi/core/testing', () => {
    const output = run('node', [join(host, 'node_modules/vitest/vitest.mjs'), 'run', 'vitest-schedule'], { env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } });
    expect(output).toMatch(/Tests\s+1 passed/);
  });
});
