import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ROOT, ensureBuilt, runCli, storeWithJobs, useTempDir, writeFile } from './support/cli.js';
import { describeInTerminal, useTerminal } from './support/terminal.js';

beforeAll(() => ensureBuilt(), 300_000);

describeInTerminal('symbi on a terminal', () => {
  const tempDir = useTempDir();
  const terminal = useTerminal();
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = tempDir();
    db = await storeWithJobs(dir, ['watched', 'doomed'], { agent_id: 'agent', cron_expr: '0 */5 * * * *' });
  });

  it('redraws `cron status --watch` in place until Ctrl-C', async () => {
    const window = terminal.run(['--db', db, 'cron', 'status', 'watched', '--watch', '--interval', '1'], { cwd: dir });
    const first = await window.waitFor((screen) => /every 1s · updated \d\d:\d\d:\d\d · Ctrl-C to stop/.test(screen));
    expect(first).toMatch(/^watched\nid\s+[0-9a-f-]{36}\nagent\s+agent\n/);
    expect(first).toMatch(/status\s+active/);
    const firstUpdate = first.match(/updated (\S+)/)![1];

    expect((await runCli(['--db', db, 'cron', 'pause', 'watched'], { cwd: dir })).code).toBe(0);
    const redrawn = await window.waitFor((screen) => /status\s+paused/.test(screen));
    expect(redrawn.match(/updated (\S+)/)![1]).not.toBe(firstUpdate);
    // One frame on the screen, drawn from its top: nothing of the earlier frame is left.
    expect(redrawn.match(/^watched$/gm)).toHaveLength(1);
    expect(redrawn.match(/Ctrl-C to stop/g)).toHaveLength(1);
    expect(redrawn.startsWith('watched\n')).toBe(true);
    expect(redrawn).not.toMatch(/status\s+active/);

    window.keys('C-c');
    expect(await window.exited()).toBe(0);
  });

  it('asks before removing a job and keeps it unless the answer is yes', async () => {
    const declined = terminal.run(['--db', db, 'cron', 'remove', 'doomed'], { cwd: dir });
    await declined.waitFor((screen) => /Remove job doomed \([0-9a-f-]{36}\) and its run history\? \[y\/N\]/.test(screen));
    declined.keys('n', 'Enter');
    expect(await declined.exited()).toBe(1);
    expect(declined.screen()).toContain('not removed');
    expect((await runCli(['--db', db, 'cron', 'status', 'doomed'], { cwd: dir })).code).toBe(0);

    const accepted = terminal.run(['--db', db, 'cron', 'remove', '--name', 'doomed'], { cwd: dir });
    await accepted.waitFor((screen) => screen.includes('[y/N]'));
    accepted.keys('y', 'Enter');
    expect(await accepted.exited()).toBe(0);
    expect(accepted.screen()).toMatch(/removed doomed [0-9a-f-]{36}/);
    expect((await runCli(['--db', db, 'cron', 'status', 'doomed'], { cwd: dir })).code).toBe(1);
  });

  it('colours output on a terminal, never with NO_COLOR or --no-color', async () => {
    const coloured = terminal.run(['--db', db, 'cron', 'list'], { cwd: dir });
    expect(await coloured.exited()).toBe(0);
    expect(coloured.screen(true)).toMatch(/\u001b\[3[23]m(active|paused)\u001b\[39m/);
    const noColour = terminal.run(['--db', db, 'cron', 'list'], { cwd: dir, env: { NO_COLOR: '1' } });
    expect(await noColour.exited()).toBe(0);
    expect(noColour.screen(true)).toContain('watched');
    expect(noColour.screen(true)).not.toContain('\u001b[');
    const flag = terminal.run(['--db', db, '--no-color', 'cron', 'list'], { cwd: dir });
    expect(await flag.exited()).toBe(0);
    expect(flag.screen(true)).not.toContain('\u001b[');
  });

  it('pretty-prints the JSON log on a terminal', async () => {
    const lines = [
      { level: 30, time: '2026-02-15T14:30:00.000Z', pid: 1, component: 'scheduler', msg: 'scheduler started', instance: 'abc' },
      { level: 20, time: '2026-02-15T14:30:01.000Z', pid: 1, component: 'delivery', msg: 'delivered', channel: 'stdout' },
      { level: 40, time: '2026-02-15T14:30:02.000Z', pid: 1, component: 'run', msg: 'run failed', job: 'flaky', error: 'exit 3' },
    ];
    writeFile(dir, 'app.log', lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    const all = terminal.run(['logs', '--file', 'app.log'], { cwd: dir });
    expect(await all.exited()).toBe(0);
    const screen = all.screen();
    expect(screen).toMatch(/^2026-02-15 \d\d:30:00 INFO  scheduler scheduler started instance=abc\n/);
    expect(screen).toMatch(/\n2026-02-15 \d\d:30:02 WARN  run       run failed job=flaky error="exit 3"\n/);
    expect(screen).not.toContain('{"level"');
    const filtered = terminal.run(['logs', '--file', 'app.log', '--filter', 'delivery,run', '--level', 'debug'], { cwd: dir });
    expect(await filtered.exited()).toBe(0);
    expect(filtered.screen().match(/^2026-02-15 /gm)).toHaveLength(2);
  });
});

describeInTerminal("the README's quick start on a terminal", () => {
  const tempDir = useTempDir();
  const terminal = useTerminal();

  it('stops cleanly on Ctrl-C: exit status 0 and no package-manager error', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const command = /pnpm build && ([^\n]*?symbi up [^\n]+)/.exec(readme)?.[1];
    expect(command).toBeDefined();
    // The command as written, in a directory of its own that sees the repository's package, bins and examples.
    const dir = tempDir();
    for (const entry of ['package.json', 'node_modules', 'examples']) symlinkSync(join(ROOT, entry), join(dir, entry));
    const window = terminal.runLine(`${command} --port 0`, { cwd: dir });
    await window.waitFor((screen) => /✓ greeting succeeded/.test(screen), 20_000);
    window.keys('C-c');
    expect(await window.exited()).toBe(0);
    const screen = window.screen();
    expect(screen).toMatch(/● stopped\n/);
    expect(screen).not.toMatch(/ELIFECYCLE|Command failed/);
  }, 60_000);
});
