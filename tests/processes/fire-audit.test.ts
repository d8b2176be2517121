import { describe, expect, it } from 'vitest';
import { JobLedger } from '../../bench/soak/job-ledger.mjs';
import { auditRuns, firesEvery, missingFires, stuckRuns, type AuditRun } from './fire-audit.mjs';
import type { Execution } from './worker-control.mjs';

// The process tests and the soak are only as good as their checker: these cases show it catches
// what it must and accepts what the lease rules allow.

const T = Date.parse('2026-03-01T12:00:00.000Z');

function run(id: string, fields: Partial<AuditRun> = {}): AuditRun {
  return { id, jobId: 'job', scheduledFor: T, dueAt: T, attempt: 1, trigger: 'schedule', status: 'succeeded', leaseExpiresAt: null, ...fields };
}

function execution(event: Execution['event'], of: AuditRun, instance = 'a'): Execution {
  return { event, instance, runId: of.id, jobId: of.jobId, scheduledFor: of.scheduledFor, attempt: of.attempt, trigger: of.trigger, at: T + 10 };
}

const ran = (r: AuditRun, instance = 'a') => [execution('start', r, instance), execution('end', r, instance)];

describe('auditRuns', () => {
  it('accepts one run per fire, each executed once', () => {
    const runs = [run('r1'), run('r2', { scheduledFor: T + 1000 })];
    const audit = auditRuns({ runs, executions: runs.flatMap((r) => ran(r)), killed: new Set() });
    expect(audit).toMatchObject({ fires: 2, executions: 2, duplicates: [], inconsistent: [], interrupted: 0, unrecorded: 0 });
  });

  it('reports a fire attempt with two runs, a fire that succeeded twice and a run started twice', () => {
    const twins = [run('r1'), run('r2')];
    expect(auditRuns({ runs: twins, executions: twins.flatMap((r) => ran(r)), killed: new Set() }).duplicates).toEqual(
      expect.arrayContaining([expect.stringContaining('has 2 runs'), expect.stringContaining('succeeded 2 times')]),
    );
    const retried = [run('r1'), run('r2', { attempt: 2, trigger: 'retry' })];
    expect(auditRuns({ runs: retried, executions: retried.flatMap((r) => ran(r)), killed: new Set() }).duplicates).toEqual([
      expect.stringContaining('succeeded 2 times'),
      expect.stringContaining('completed and recorded 2 times'),
    ]);
    const once = run('r1');
    expect(auditRuns({ runs: [once], executions: [...ran(once, 'a'), ...ran(once, 'b')], killed: new Set() }).duplicates).toContain(
      'run r1 started 2 times (a, b)',
    );
  });

  it('counts a completion cut off by a kill as unrecorded, but the same on a live instance as a duplicate', () => {
    const cut = run('r1', { status: 'interrupted' });
    const retry = run('r2', { attempt: 2, trigger: 'retry' });
    const executions = [...ran(cut, 'a'), ...ran(retry, 'b')];
    const afterKill = auditRuns({ runs: [cut, retry], executions, killed: new Set(['a']) });
    expect(afterKill).toMatchObject({ duplicates: [], unrecorded: 1, interrupted: 1, retried: 1, unretried: [] });
    expect(auditRuns({ runs: [cut, retry], executions, killed: new Set() }).duplicates).toEqual([
      expect.stringContaining('completed on a but is interrupted'),
    ]);
  });

  it('reports records that disagree and interrupted fires never retried', () => {
    const ghost = run('r1');
    const lonely = run('r2', { scheduledFor: T + 1000, status: 'interrupted' });
    const audit = auditRuns({ runs: [ghost, lonely], executions: [execution('start', run('r9', { scheduledFor: T + 2000 }))], killed: new Set() });
    expect(audit.inconsistent).toEqual([expect.stringContaining('r9'), expect.stringContaining('run r1')]);
    expect(audit.unretried).toEqual([lonely]);
  });

  it('audits only fires due by `until` when asked, and leaves executions of removed jobs to each other', () => {
    const late = run('r1', { scheduledFor: T + 5000 });
    expect(auditRuns({ runs: [late, late], executions: [], killed: new Set(), until: T + 1000 }).duplicates).toEqual([]);
    const removed = run('r2', { jobId: 'gone' });
    const audit = auditRuns({ runs: [], executions: [...ran(removed), ...ran(removed, 'b')], killed: new Set(), jobIds: new Set() });
    expect(audit.inconsistent).toEqual([]);
    expect(audit.duplicates).toEqual([expect.stringContaining('started 2 times'), expect.stringContaining('(job since removed)')]);
    // Of a removed job, a completion on a killed instance followed by a retry is cut off, not doubled.
    const cut = ran(removed, 'killed');
    const retried = ran(run('r3', { jobId: 'gone', attempt: 2, trigger: 'retry' }), 'b');
    expect(auditRuns({ runs: [], executions: [...cut, ...retried], killed: new Set(['killed']), jobIds: new Set() })).toMatchObject({
      duplicates: [],
      unrecorded: 1,
    });
    expect(auditRuns({ runs: [], executions: [...cut, ...retried], killed: new Set(), jobIds: new Set() }).duplicates).toEqual([
      expect.stringContaining('completed 2 times (job since removed)'),
    ]);
  });
});

describe('stuckRuns', () => {
  it('finds running runs whose lease lapsed and queued runs long overdue', () => {
    const runs = [
      run('live', { status: 'running', leaseExpiresAt: T + 1000 }),
      run('dead', { status: 'running', leaseExpiresAt: T - 5000 }),
      run('queued', { status: 'scheduled', dueAt: T - 500 }),
      run('overdue', { status: 'scheduled', dueAt: T - 5000 }),
      run('done', { status: 'succeeded' }),
    ];
    expect(stuckRuns(runs, { now: T, graceMs: 2000, allStopped: false }).map((r) => r.id)).toEqual(['dead', 'overdue']);
    expect(stuckRuns(runs, { now: T, graceMs: 2000, allStopped: true }).map((r) => r.id)).toEqual(['live', 'dead', 'overdue']);
  });
});

describe('firesEvery and missingFires', () => {
  it('lists the fires of a seconds step and those without a run', () => {
    expect(firesEvery(5, T - 1, T + 10_000)).toEqual([T, T + 5000, T + 10_000]);
    expect(firesEvery(2, T + 1, T + 3999)).toEqual([T + 2000]);
    expect(missingFires([run('r1'), run('m', { scheduledFor: T + 1000, trigger: 'manual' })], 'job', [T, T + 1000])).toEqual([T + 1000]);
  });
});

describe('JobLedger', () => {
  it('expects the fires of each stretch of activity, minus a margin around every change', () => {
    const ledger = new JobLedger();
    ledger.created({ id: 'j', name: 'j', status: 'active' }, { t1: T, kind: 'traffic', step: 1 });
    ledger.changed('j', { t0: T + 5_000, t1: T + 5_100, active: false });
    ledger.changed('j', { t0: T + 10_000, t1: T + 10_100, active: true, step: 2 });
    ledger.created({ id: 'once', name: 'once', status: 'active' }, { t1: T, kind: 'one-shot', oneShotAt: T + 3_000 });
    ledger.created({ id: 'gone', name: 'gone', status: 'active' }, { t1: T, kind: 'traffic', step: 1 });
    ledger.removed('gone', T + 2_000);
    ledger.created({ id: 'unknown', name: 'unknown', status: 'active' }, { t1: T, kind: 'traffic', step: 1 });
    ledger.uncertain('unknown');
    expect(ledger.expectations(T + 20_000, 1_000)).toEqual([
      { id: 'j', name: 'j', fires: [T + 1_000, T + 2_000, T + 3_000, T + 4_000, T + 12_000, T + 14_000, T + 16_000, T + 18_000] },
      { id: 'once', name: 'once', fires: [T + 3_000] },
    ]);
  });
});
