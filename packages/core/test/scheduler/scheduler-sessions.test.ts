import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { CronScheduler, InMemoryJobStore } from '@symbi/core';
import { VirtualClock, type FakeExecutorCall } from '@symbi/core/testing';
import { startHarness } from './harness.js';

const contexts = (calls: FakeExecutorCall[]) => calls.map((c) => c.request.context);

describe('CronScheduler: session isolation across runs', () => {
  it('ephemeral_with_summary hands each run the previous run summary', async () => {
    const { clock, scheduler, executor } = await startHarness({
      agents: { etl: (_req, call) => ({ output: `loaded batch ${call}`, summary: `batch ${call} done` }) },
    });
    await scheduler.add({ name: 'data-pipeline', agentId: 'etl', cronExpr: '0 * * * * *', sessionMode: 'ephemeral_with_summary' });
    await clock.advance('3m');
    expect(contexts(executor.calls).map((c) => c.previousSummary)).toEqual([null, 'batch 1 done', 'batch 2 done']);
    expect(contexts(executor.calls).every((c) => c.history.length === 0)).toBe(true);
    await scheduler.stop();
  });

  it('shared_persistent hands every run the accumulated history, bounded by retention', async () => {
    const { clock, scheduler, executor } = await startHarness({
      agents: { dbg: (_req, call) => `answer ${call}` },
      config: { sessionHistoryLimit: 4 },
    });
    await scheduler.add({ name: 'debug', agentId: 'dbg', cronExpr: '0 * * * * *', sessionMode: 'shared_persistent', input: 'q' });
    await clock.advance('4m');
    const history = contexts(executor.calls).map((c) => c.history.map((m) => `${m.role}:${m.content}`));
    expect(history[0]).toEqual([]);
    expect(history[1]).toEqual(['user:q', 'assistant:answer 1']);
    expect(history[3]).toEqual(['user:q', 'assistant:answer 2', 'user:q', 'assistant:answer 3']);
    await scheduler.stop();
  });

  it('fully_ephemeral carries nothing and stores no session', async () => {
    const { clock, scheduler, executor, store } = await startHarness({ agents: { p: () => ({ output: 'ok', summary: 's' }) } });
    const job = await scheduler.add({ name: 'probe', agentId: 'p', cronExpr: '0 * * * * *', sessionMode: 'fully_ephemeral' });
    await clock.advance('2m');
    expect(contexts(executor.calls).map((c) => [c.previousSummary, c.history.length])).toEqual([[null, 0], [null, 0]]);
    expect(await store.loadSession(job.id)).toBeNull();
    await scheduler.stop();
  });

  it('a summary survives a scheduler restart on the same store', async () => {
    const first = await startHarness({ agents: { etl: () => ({ output: 'x', summary: 'remember me' }) } });
    await first.scheduler.add({ name: 'carry', agentId: 'etl', cronExpr: '0 * * * * *' });
    await first.clock.advance('1m');
    await first.scheduler.stop();
    const second = await startHarness({ store: first.store, clock: first.clock });
    await first.clock.advance('1m');
    expect(second.executor.calls[0]?.request.context.previousSummary).toBe('remember me');
    await second.scheduler.stop();
  });
});

describe('CronScheduler: heartbeat', () => {
  it('iterates assess → act until the agent says sleep (iteration 3), recording every iteration', async () => {
    const { clock, scheduler, executor } = await startHarness({
      agents: { hb: (_req, call) => (call === 3 ? 'all clear\nsleep' : { output: `checked ${call}`, summary: `state ${call}` }) },
      durationMs: 100,
    });
    await scheduler.add({
      name: 'system-monitor',
      agentId: 'hb',
      cronExpr: '0 */5 * * * *',
      heartbeat: { enabled: true, contextMode: 'ephemeral_with_summary', maxIterations: 100 },
    });
    await clock.advance('5m1s');
    const [run] = await scheduler.history('system-monitor');
    expect(run!.status).toBe('succeeded');
    expect(run!.iterations.map((i) => [i.index, i.action, i.durationMs])).toEqual([
      [1, 'continue', 100],
      [2, 'continue', 100],
      [3, 'sleep', 100],
    ]);
    expect(run!.output).toBe('all clear\nsleep');
    expect(run!.error).toBeNull();
    expect(contexts(executor.calls).map((c) => [c.iteration, c.previousSummary])).toEqual([
      [1, null],
      [2, 'state 1'],
      [3, 'state 2'],
    ]);
    await scheduler.stop();
  });

  it('stops at max_iterations when the agent never sleeps, and says so on the run', async () => {
    const { clock, scheduler, executor } = await startHarness({ agents: { hb: () => '{"action":"continue"}' } });
    await scheduler.add({ name: 'busy', agentId: 'hb', cronExpr: '0 */5 * * * *', heartbeat: { enabled: true, maxIterations: 7 } });
    await clock.advance('5m');
    const [run] = await scheduler.history('busy');
    expect(run!.iterations).toHaveLength(7);
    expect(executor.calls).toHaveLength(7);
    expect(run!.error).toContain('max_iterations (7)');
    await scheduler.stop();
  });

  it('reads JSON {"action":"sleep"} and keeps shared_persistent context across iterations', async () => {
    const { clock, scheduler, executor } = await startHarness({
      agents: { hb: (_req, call) => (call === 2 ? '{"action":"sleep"}' : 'restarted nginx') },
    });
    await scheduler.add({ name: 'shared', agentId: 'hb', cronExpr: '0 */5 * * * *', heartbeat: { enabled: true, contextMode: 'shared_persistent' } });
    await clock.advance('5m');
    expect(executor.calls).toHaveLength(2);
    expect(executor.calls[1]!.request.context.history.map((m) => m.content)).toEqual(['restarted nginx']);
    await scheduler.stop();
  });

  it('fully_ephemeral iterations see nothing of each other', async () => {
    const { clock, scheduler, executor } = await startHarness({
      agents: { hb: (_req, call) => ({ output: call === 2 ? 'sleep' : 'x', summary: 'y' }) },
    });
    await scheduler.add({ name: 'fe', agentId: 'hb', cronExpr: '0 */5 * * * *', heartbeat: { enabled: true, contextMode: 'fully_ephemeral' } });
    await clock.advance('5m');
    expect(contexts(executor.calls).map((c) => c.previousSummary)).toEqual([null, null]);
    await scheduler.stop();
  });
});

describe('CronScheduler: agent output', () => {
  it('stores output holding NUL characters with each NUL replaced, as every store can hold it', async () => {
    const { clock, scheduler } = await startHarness({ agents: { bin: () => ({ output: 'a\u0000b', summary: '\u0000' }) } });
    await scheduler.add({ name: 'nul', agentId: 'bin', at: '2026-03-02T09:00:01Z' });
    await clock.advance('2s');
    const [run] = await scheduler.history('nul');
    expect(run).toMatchObject({ status: 'succeeded', output: 'a\uFFFDb', summary: '\uFFFD' });
    await scheduler.stop();
  });
});

describe('CronScheduler: long heartbeats', () => {
  it('does not pile up abort listeners on the run signal across iterations', async () => {
    const clock = new VirtualClock('2026-03-02T09:00:00Z');
    const listeners: number[] = [];
    const executor = {
      async execute(_request: unknown, { signal }: { signal: AbortSignal }) {
        listeners.push(EventEmitter.getEventListeners(signal, 'abort').length);
        return { output: 'continue' };
      },
    };
    const scheduler = new CronScheduler({ store: new InMemoryJobStore(), executor, clock });
    await scheduler.start();
    await scheduler.add({ name: 'long', agentId: 'hb', at: '2026-03-02T09:00:01Z', heartbeat: { enabled: true, maxIterations: 200 } });
    await clock.advance('2s');
    expect(listeners).toHaveLength(200);
    expect(Math.max(...listeners)).toBe(listeners[0]);
    await scheduler.stop();
  });
});
