import { describe, expect, it } from 'vitest';
import { JobLedger } from '../soak/job-ledger.mjs';
import { verdict } from '../soak/verify.mjs';

// The soak's verdict on fires with no run: lost, or dropped by a scheduler that said so.

const T0 = Date.parse('2026-12-07T04:00:00Z');
const at = (s: number): number => T0 + s * 1000;

/** A ledger with one every-second job active from 0 s, and its runs: one for every fire up to 20 s but those in `missing`. */
function soakOf(missing: number[]) {
  const ledger = new JobLedger();
  ledger.created({ id: 'j1', name: 'traffic-1', status: 'active' }, { t1: at(0), kind: 'traffic', step: 1 });
  const runs = [];
  for (let s = 1; s <= 20; s++) {
    if (missing.includes(s)) continue;
    runs.push({ id: `r${s}`, jobId: 'j1', scheduledFor: at(s), dueAt: at(s), attempt: 1, trigger: 'schedule', status: 'succeeded', leaseExpiresAt: null });
  }
  return { ledger, runs, jobIds: new Set(['j1']), executions: [], killed: new Set<string>(), manualRuns: [], windowEnd: at(20), marginMs: 1000 };
}

describe('the soak verdict', () => {
  it('counts a fire with no run as lost, naming its job and what the ledger knows of it', () => {
    const result = verdict({ ...soakOf([7]), dropped: [] });
    expect(result.lost).toEqual(['traffic-1 fire 2026-12-07T04:00:07.000Z (every 1 s since 2026-12-07T04:00:00.000Z)']);
    expect(result.droppedLate).toEqual([]);
  });

  it('lists apart a fire with no run that a scheduler reported dropping for that job, and only inside the reported range', () => {
    const dropped = [{ instance: 'w1', jobName: 'traffic-1', reason: 'once', oldest: at(6), newest: at(7) }];
    const result = verdict({ ...soakOf([7, 9]), dropped });
    expect(result.droppedLate).toEqual(['traffic-1 fire 2026-12-07T04:00:07.000Z (w1 reported it dropped: once)']);
    expect(result.lost).toEqual(['traffic-1 fire 2026-12-07T04:00:09.000Z (every 1 s since 2026-12-07T04:00:00.000Z)']);
  });

  it('does not excuse a fire by a report about another job', () => {
    const dropped = [{ instance: 'w1', jobName: 'traffic-2', reason: 'skip', oldest: at(0), newest: at(20) }];
    expect(verdict({ ...soakOf([7]), dropped }).lost).toHaveLength(1);
  });
});
