import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionError, ValidationError } from '@symbi/core';
import { VirtualClock } from '@symbi/core/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CommandExecutor, CommandFailedError } from '../src/index.js';
import { agent, noSignal, rejectionOf, testContext, testRequest } from './support/fixtures.js';
import { isRunning, nodeEval, nodeScript, readPids } from './support/processes.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'symbi-command-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function executorFor(command: string, options: Partial<ConstructorParameters<typeof CommandExecutor>[0]> = {}, fields = {}) {
  return new CommandExecutor({ agents: [agent('worker', { command, capabilities: ['shell'], ...fields })], env: { PATH: process.env.PATH }, ...options });
}

describe('CommandExecutor: the protocol with the child', () => {
  it('hands the input on stdin and in SYMBI_INPUT, with the job, run and context in the environment', async () => {
    const executor = executorFor(nodeScript('report-env.mjs'), { cwd: dir });
    const history = [{ role: 'user' as const, content: 'earlier question', at: '2026-02-28T09:00:00.000Z' }];
    const request = testRequest('worker', { input: 'check the disks\nand the logs', context: testContext({ history }) });
    const result = await executor.execute(request, noSignal());
    const seen = JSON.parse(result.output) as { stdin: string; env: Record<string, string>; cwd: string };
    expect(seen.stdin).toBe('check the disks\nand the logs');
    expect(seen.cwd).toBe(dir);
    expect(seen.env).toMatchObject({
      SYMBI_INPUT: 'check the disks\nand the logs',
      SYMBI_JOB_ID: 'job-1',
      SYMBI_JOB_NAME: 'daily-report',
      SYMBI_RUN_ID: 'run-1',
      SYMBI_AGENT_ID: 'worker',
      SYMBI_ITERATION: '2',
      SYMBI_PREVIOUS_SUMMARY: 'disk at 71%',
    });
    expect(JSON.parse(seen.env.SYMBI_CONTEXT!)).toEqual({
      mode: 'ephemeral_with_summary',
      previous_summary: 'disk at 71%',
      history: [{ role: 'user', content: 'earlier question', at: '2026-02-28T09:00:00.000Z' }],
      iteration: 2,
      capabilities: ['reporting'],
      environment: 'staging',
      now: '2026-03-01T09:00:00.000Z',
    });
    expect(executor.describe('worker')).toEqual({ id: 'worker', capabilities: ['shell'] });
    expect(executor.describe('other')).toBeUndefined();
  });

  it('passes the trace context of a traced run in TRACEPARENT, and none for an untraced one', async () => {
    const executor = executorFor(nodeScript('report-env.mjs'));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const traced = JSON.parse((await executor.execute({ ...testRequest('worker'), traceparent }, noSignal())).output) as { env: Record<string, string> };
    expect(traced.env.TRACEPARENT).toBe(traceparent);
    const untraced = JSON.parse((await executor.execute(testRequest('worker'), noSignal())).output) as { env: Record<string, string> };
    expect(untraced.env).not.toHaveProperty('TRACEPARENT');
  });

  it('passes a null input as empty stdin and an empty SYMBI_INPUT', async () => {
    const executor = executorFor(nodeScript('report-env.mjs'));
    const result = await executor.execute(testRequest('worker', { input: null }), noSignal());
    const seen = JSON.parse(result.output) as { stdin: string; env: Record<string, string> };
    expect(seen.stdin).toBe('');
    expect(seen.env.SYMBI_INPUT).toBe('');
  });

  it('resolves ${VAR} in the agent env from the executor env, and refuses an unset one by name', async () => {
    const env = { TEST_REGION: '${REGION}', TEST_LEVEL: '${LEVEL:-info}' };
    const executor = executorFor(nodeScript('report-env.mjs'), { env: { PATH: process.env.PATH, REGION: 'eu-west-1' } }, { env });
    const seen = JSON.parse((await executor.execute(testRequest('worker'), noSignal())).output) as { env: Record<string, string> };
    expect(seen.env).toMatchObject({ TEST_REGION: 'eu-west-1', TEST_LEVEL: 'info' });

    const missing = executorFor('echo never', {}, { env: { TEST_TOKEN: 'Bearer ${API_TOKEN}' } });
    const error = await rejectionOf(missing.execute(testRequest('worker'), noSignal()));
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain('API_TOKEN');
    expect((error as Error).message).toContain('env.TEST_TOKEN');
  });

  it("gives the command a minimal environment: never the scheduler's secrets, only what the declaration names", async () => {
    const scheduler = {
      PATH: process.env.PATH,
      HOME: '/home/symbi',
      LANG: 'C.UTF-8',
      TZ: 'Europe/Berlin',
      SYMBI_API_KEY: 'api-key-never-inherited',
      OPENAI_API_KEY: 'sk-never-inherited-000',
      SYMBI_SLACK_TOKEN: 'xoxb-never-inherited',
      GITHUB_TOKEN: 'ghp_named-in-declaration',
      UNRELATED: 'not inherited either',
    };
    const executor = executorFor(nodeScript('report-env.mjs'), { env: scheduler }, { env: { GITHUB_TOKEN: '${GITHUB_TOKEN}' } });
    const seen = JSON.parse((await executor.execute(testRequest('worker'), noSignal())).output) as { env: Record<string, string> };
    expect(seen.env).toMatchObject({ HOME: '/home/symbi', LANG: 'C.UTF-8', TZ: 'Europe/Berlin', GITHUB_TOKEN: 'ghp_named-in-declaration' });
    expect(seen.env.PATH).toBe(process.env.PATH);
    for (const name of ['SYMBI_API_KEY', 'OPENAI_API_KEY', 'SYMBI_SLACK_TOKEN', 'UNRELATED']) expect(seen.env, name).not.toHaveProperty(name);
    expect(JSON.stringify(seen.env)).not.toMatch(/never-inherited|not inherited either/);
  });

  it('keeps a large input off the environment (Linux caps one variable at 128 KiB) but whole on stdin', async () => {
    const input = 'x'.repeat(300_000);
    const executor = executorFor(nodeScript('report-env.mjs'));
    const seen = JSON.parse((await executor.execute(testRequest('worker', { input }), noSignal())).output) as {
      stdin: string;
      env: Record<string, string>;
    };
    expect(seen.stdin).toBe(input);
    expect(seen.env.SYMBI_INPUT).toBeUndefined();
    expect(seen.env.SYMBI_JOB_ID).toBe('job-1');
  });

  it('drops the oldest shared history from SYMBI_CONTEXT when it would not fit', async () => {
    const history = Array.from({ length: 40 }, (_, i) => ({ role: 'user' as const, content: `${i}:${'h'.repeat(4_000)}`, at: '2026-02-28T09:00:00.000Z' }));
    const executor = executorFor(nodeScript('report-env.mjs'));
    const result = await executor.execute(testRequest('worker', { context: testContext({ history, mode: 'shared_persistent' }) }), noSignal());
    const context = JSON.parse((JSON.parse(result.output) as { env: Record<string, string> }).env.SYMBI_CONTEXT!) as {
      history: { content: string }[];
    };
    expect(context.history.length).toBeGreaterThan(0);
    expect(context.history.length).toBeLessThan(40);
    expect(context.history.at(-1)!.content.startsWith('39:')).toBe(true);
  });

  it('takes a final SUMMARY: line as the summary and leaves it out of the output', async () => {
    const executor = executorFor(`printf 'all disks fine\\nsleep\\nSUMMARY: disks ok\\n\\n'`);
    expect(await executor.execute(testRequest('worker'), noSignal())).toEqual({
      output: 'all disks fine\nsleep',
      summary: 'disks ok',
      stderr: null,
    });
  });

  it('uses the whole output as the summary when there is no SUMMARY: line', async () => {
    const executor = executorFor(`echo 'first'; echo 'SUMMARY: not last'; echo 'last'`);
    const result = await executor.execute(testRequest('worker'), noSignal());
    expect(result.output).toBe('first\nSUMMARY: not last\nlast');
    expect(result.summary).toBe(result.output);
  });

  it('returns stderr of a successful run', async () => {
    const executor = executorFor(`echo out; echo 'warning: cache cold' >&2`);
    expect(await executor.execute(testRequest('worker'), noSignal())).toMatchObject({ output: 'out', stderr: 'warning: cache cold\n' });
  });

  it('rejects a non-zero exit with the code and the tail of stderr', async () => {
    const executor = executorFor(nodeEval(`console.error('step 1 ok'); console.error('fatal: database unreachable'); process.exitCode = 3`));
    const error = await rejectionOf(executor.execute(testRequest('worker'), noSignal()));
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error).toBeInstanceOf(ExecutionError);
    const failed = error as CommandFailedError;
    expect(failed.exitCode).toBe(3);
    expect(failed.exitSignal).toBeNull();
    expect(failed.code).toBe('EXECUTION');
    expect(failed.message).toMatch(/agent "worker" exited with code 3: .*fatal: database unreachable/s);
    expect(failed.stderr).toBe('step 1 ok\nfatal: database unreachable\n');
  });

  it('reports a command the shell cannot find as exit code 127', async () => {
    const executor = executorFor('definitely-not-a-command-symbi');
    const error = (await rejectionOf(executor.execute(testRequest('worker'), noSignal()))) as CommandFailedError;
    expect(error.exitCode).toBe(127);
    expect(error.stderr).toContain('not found');
  });

  it('fails with ExecutionError when the process cannot start', async () => {
    const executor = executorFor('echo hi', { cwd: join(dir, 'missing') });
    const error = await rejectionOf(executor.execute(testRequest('worker'), noSignal()));
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain('could not start');
  });

  it('caps stdout, keeping its beginning, marking the cut, and still finds the SUMMARY line', async () => {
    const code = `process.stdout.write('é'.repeat(100000)); process.stdout.write('\\nSUMMARY: big run\\n')`;
    const executor = executorFor(nodeEval(code), { maxOutputBytes: 1001 });
    const result = await executor.execute(testRequest('worker'), noSignal());
    const [kept, marker] = result.output.split('\n');
    expect(kept).toBe('é'.repeat(500));
    // 1001 bytes would end inside the 501st 'é', so 1000 are kept.
    expect(marker).toBe(`[output truncated: ${200_000 + '\nSUMMARY: big run\n'.length - 1000} more bytes]`);
    expect(result.summary).toBe('big run');
  });

  it('caps stderr, keeping its end', async () => {
    const code = `for (let i = 0; i < 2000; i++) console.error('line ' + i); process.exitCode = 1`;
    const executor = executorFor(nodeEval(code), { maxStderrBytes: 100 });
    const error = (await rejectionOf(executor.execute(testRequest('worker'), noSignal()))) as CommandFailedError;
    expect(error.stderr).toMatch(/^\[\d+ earlier bytes of stderr dropped\]\n/);
    expect(error.stderr.endsWith('line 1998\nline 1999\n')).toBe(true);
    expect(error.stderr.length).toBeLessThan(160);
  });

  it('refuses agents without a command and unknown agents', async () => {
    expect(() => new CommandExecutor({ agents: [agent('worker')] })).toThrow(ValidationError);
    const error = await rejectionOf(executorFor('echo hi').execute(testRequest('stranger'), noSignal()));
    expect(error).toBeInstanceOf(ExecutionError);
    expect((error as Error).message).toContain('"stranger"');
  });
});

describe('CommandExecutor: stopping runs', () => {
  it('on abort, rejects at once with the reason and kills the process group, grandchildren included', async () => {
    const pidFile = join(dir, 'pids');
    const executor = executorFor(nodeScript('spawn-grandchild.mjs', pidFile));
    const controller = new AbortController();
    const running = executor.execute(testRequest('worker'), { signal: controller.signal });
    const [child, grandchild] = await vi.waitFor(() => readPids(pidFile), { timeout: 10_000, interval: 20 });
    expect(isRunning(child!)).toBe(true);
    expect(isRunning(grandchild!)).toBe(true);

    const reason = new Error('max_runtime exceeded');
    const abortedAt = Date.now();
    controller.abort(reason);
    expect(await rejectionOf(running)).toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(200);
    await vi.waitFor(() => expect(isRunning(child!) || isRunning(grandchild!)).toBe(false), { timeout: 5_000, interval: 20 });
  });

  it('sends SIGKILL after the grace period to a group that ignores SIGTERM', async () => {
    const clock = new VirtualClock();
    const pidFile = join(dir, 'pids');
    const command = `trap '' TERM; sleep 60 & echo "$$ $!" > '${pidFile}'; wait`;
    const executor = executorFor(command, { clock, killGraceMs: 2_000 });
    const controller = new AbortController();
    const running = executor.execute(testRequest('worker'), { signal: controller.signal });
    const [shell, sleeper] = await vi.waitFor(() => readPids(pidFile), { timeout: 10_000, interval: 20 });

    controller.abort(new Error('shutdown'));
    expect(((await rejectionOf(running)) as Error).message).toBe('shutdown');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(shell!)).toBe(true);
    expect(isRunning(sleeper!)).toBe(true);

    await clock.advance(2_000);
    await vi.waitFor(() => expect(isRunning(shell!) || isRunning(sleeper!)).toBe(false), { timeout: 5_000, interval: 20 });
  });

  it("ends the run at the agent's timeoutMs with a retryable ExecutionError and kills it", async () => {
    const clock = new VirtualClock();
    const pidFile = join(dir, 'pids');
    const executor = executorFor(`echo "$$" > '${pidFile}'; exec sleep 60`, { clock }, { timeoutMs: 30_000 });
    const outcome = rejectionOf(executor.execute(testRequest('worker'), noSignal()));
    const [pid] = await vi.waitFor(() => readPids(pidFile), { timeout: 10_000, interval: 20 });
    await clock.advance(29_999);
    expect(isRunning(pid!)).toBe(true);
    await clock.advance(1);
    const error = (await outcome) as ExecutionError;
    expect(error).toBeInstanceOf(ExecutionError);
    expect(error.message).toBe('agent "worker" timed out after 30000 ms');
    expect(error.retryable).toBe(true);
    await vi.waitFor(() => expect(isRunning(pid!)).toBe(false), { timeout: 5_000, interval: 20 });
  });

  it('does not start a command when the signal is already aborted', async () => {
    const marker = join(dir, 'started');
    const executor = executorFor(`touch '${marker}'`);
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    expect(((await rejectionOf(executor.execute(testRequest('worker'), controller))) as Error).message).toBe('too late');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(() => readPids(marker)).toThrow();
  });

  it('stops background processes the command leaves behind when it exits', async () => {
    const pidFile = join(dir, 'pids');
    const executor = executorFor(`sleep 60 & echo "$!" > '${pidFile}'; echo done`);
    const result = await executor.execute(testRequest('worker'), noSignal());
    expect(result.output).toBe('done');
    const [sleeper] = readPids(pidFile);
    await vi.waitFor(() => expect(isRunning(sleeper!)).toBe(false), { timeout: 5_000, interval: 20 });
  });
});
