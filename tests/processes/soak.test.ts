import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { CONNECTION_STRING, describePostgres } from '../../packages/store-postgres/test/support/postgres.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const SUMMARY = /^soak: (\d+) fires, (\d+) duplicates, (\d+) lost, (\d+) stuck, (\d+) interrupted\+retried, (\d+) kills in (\d+) s \((\d+) unretried, (\d+) inconsistent, (\d+) unexpected exits; (\d+) expected fires checked,/;

/** Runs `node bench/soak.mjs` with `args` to its end. */
function soak(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bench/soak.mjs', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describePostgres('the soak (pnpm soak --ci)', () => {
  it('runs three instances for 3 minutes of kills and API traffic with no duplicate, lost or stuck fire', async () => {
    const { code, stdout, stderr } = await soak(['--ci', '--url', CONNECTION_STRING]);
    const lines = stdout.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    const match = SUMMARY.exec(lines[0]!);
    expect(match, `${lines[0]}\n${stderr}`).not.toBeNull();
    const [fires, duplicates, lost, stuck, retried, kills, seconds, unretried, inconsistent, unexpectedExits, expected] = match!.slice(1).map(Number);
    console.info(`[processes] ${lines[0]}`);
    expect({ duplicates, lost, stuck, unretried, inconsistent, unexpectedExits }, stderr).toEqual({
      duplicates: 0,
      lost: 0,
      stuck: 0,
      unretried: 0,
      inconsistent: 0,
      unexpectedExits: 0,
    });
    expect(code, stderr).toBe(0);
    // The load and the chaos really happened.
    expect(seconds).toBeGreaterThanOrEqual(180);
    expect(fires).toBeGreaterThan(10_000);
    expect(expected).toBeGreaterThan(fires! / 2);
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(retried).toBeGreaterThan(0);
  }, 480_000);
});
