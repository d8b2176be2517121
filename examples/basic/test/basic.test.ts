import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Real time, real process: the example as a user runs it (after `pnpm build`).
describe('examples/basic', () => {
  it('prints a fire every second and stops on its own', () => {
    const main = fileURLToPath(new URL('../main.mjs', import.meta.url));
    const result = spawnSync(process.execPath, [main], { env: { ...process.env, RUN_SECONDS: '3.5' }, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(0);
    const fires = result.stdout.split('\n').filter((line) => line.startsWith('[every-second] hello from greeter'));
    expect(fires.length).toBeGreaterThanOrEqual(3);
    const seconds = fires.map((line) => /at \d{4}-\d\d-\d\dT\d\d:\d\d:(\d\d)/.exec(line)![1]);
    expect(new Set(seconds).size).toBe(fires.length);
  });
});
