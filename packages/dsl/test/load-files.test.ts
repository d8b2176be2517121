import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSchedulerConfig } from '@symbi/core';
import { afterAll, describe, expect, it } from 'vitest';
import { DslError, loadSymbiFile, parseConfig, toJobSpecs, toSchedulerConfig } from '@symbi/dsl';
import { fixture } from './fixture-files.js';

const dir = mkdtempSync(join(tmpdir(), 'symbi-dsl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadSymbiFile', () => {
  it('reads a file and names it in later validation errors', () => {
    const path = join(dir, 'agents.symbi');
    writeFileSync(path, `${fixture('heartbeat-agent.symbi')}\nschedule {\n  name: "late"\n  agent: "a"\n  cron: "0 0 9 * * *"\n  timezone: "Nowhere/Land"\n}\n`);
    const document = loadSymbiFile(path);
    expect(document.file).toBe(path);
    expect(document.agents.map((agent) => agent.name)).toEqual(['heartbeat_monitor']);
    expect(document.schedules.map((block) => block.spec.name)).toEqual(['heartbeat-monitor', 'late']);
    let error: unknown;
    try {
      toJobSpecs(document);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DslError);
    expect(error).toMatchObject({ file: path, line: 32, column: 13, field: 'timezone' });
    expect((error as DslError).message.startsWith(`${path}:32:13: \`timezone\`: unknown time zone "Nowhere/Land"`)).toBe(true);
  });

  it('reports an unreadable file as a DslError with the system error as cause', () => {
    const path = join(dir, 'missing.symbi');
    let error: unknown;
    try {
      loadSymbiFile(path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DslError);
    expect((error as DslError).message).toBe(`${path}:1:1: cannot read the file (ENOENT)`);
    expect((error as DslError).cause).toMatchObject({ code: 'ENOENT' });
  });
});

describe('toSchedulerConfig', () => {
  it('turns the file settings into CronScheduler settings the core accepts', () => {
    const config = parseConfig(fixture('configuration.toml'), { env: { SLACK_API_TOKEN: 't', SMTP_USER: 'u', SMTP_PASS: 'p', SYMBI_ENV: 'staging' } });
    const settings = toSchedulerConfig(config);
    expect(settings).toEqual({
      tickIntervalMs: 1000,
      maxJitterSeconds: 30,
      maxConcurrentJobs: 20,
      maxConcurrentDeliveries: 10,
      claimBatchSize: 256,
      claimAheadMs: 250,
      prefetch: 0,
      defaultMaxRetries: 3,
      shutdownTimeoutMs: 60_000,
      enableMissedRunCatchup: true,
      catchupWindowMs: 86_400_000,
      misfireThresholdMs: 5_000,
      approvalTimeoutMs: 86_400_000,
      environment: 'staging',
      enableMetrics: true,
      historyRetentionDays: null,
      historyRetentionRuns: null,
      historyPruneIntervalMs: 600_000,
    });
    expect(resolveSchedulerConfig(settings)).toMatchObject(settings);
  });

  it('passes the claim tuning keys through, and the core names a claim-ahead longer than the lease', () => {
    const tuned = toSchedulerConfig(parseConfig('[scheduler]\nclaim_batch_size = 500\nclaim_ahead_seconds = 0.5\nprefetch = 500\nmisfire_grace_seconds = 0.5\n'));
    expect(tuned).toMatchObject({ claimBatchSize: 500, claimAheadMs: 500, prefetch: 500, misfireThresholdMs: 500 });
    expect(resolveSchedulerConfig(tuned)).toMatchObject({ claimBatchSize: 500, claimAheadMs: 500, prefetch: 500 });
    const tooEarly = toSchedulerConfig(parseConfig('[scheduler]\nclaim_ahead_seconds = 60\n'));
    expect(() => resolveSchedulerConfig(tooEarly)).toThrow(/claimAheadMs: must be shorter than leaseMs \(30000\)/);
  });
});
