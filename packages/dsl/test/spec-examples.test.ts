import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DslError, parseSymbi, parseSymbiSyntax, toJobSpecs, type SymbiDocument } from '@symbi/dsl';
import { fixture, fixtureNames } from './fixture-files.js';

/** Every example is validated as of this instant, before the spec's one-shot `at` time. */
const NOW = new Date('2026-01-01T00:00:00Z');

function parseFixture(name: string): SymbiDocument {
  const document = parseSymbi(fixture(name), { file: name });
  expect(toJobSpecs(document, { now: NOW })).toEqual(document.schedules.map((block) => block.spec));
  return document;
}

function specs(document: SymbiDocument) {
  return document.schedules.map((block) => block.spec);
}

const at = (line: number, column: number) => expect.objectContaining({ line, column });

describe('the scheduling guide examples', () => {
  it('Schedule Block Structure: daily-report', () => {
    const document = parseFixture('daily-report.symbi');
    expect(document.agents).toEqual([]);
    expect(specs(document)).toEqual([
      {
        name: 'daily-report',
        agentId: 'reporter-agent',
        cronExpr: '0 0 9 * * *',
        sessionMode: 'ephemeral_with_summary',
        delivery: ['stdout', 'log_file'],
        policy: { requireApproval: false, maxRuntimeMs: 300_000 },
      },
    ]);
    const { positions } = document.schedules[0]!;
    expect(positions.schedule).toEqual(at(1, 1));
    expect(positions.cron).toEqual(at(4, 9));
    expect(positions['delivery[1]']).toEqual(at(6, 24));
    expect(positions['policy.max_runtime']).toEqual(at(9, 18));
  });

  it('Cron Syntax: each example line is a valid `cron` field', () => {
    const source = fixture('cron-examples.symbi');
    const syntax = parseSymbiSyntax(source);
    expect(syntax.entries.map((entry) => [entry.key, entry.value.kind === 'string' && entry.value.value, entry.keyPosition.line])).toEqual([
      ['cron', '0 0 9 * * *', 2],
      ['cron', '0 0 18 * * 1', 4],
      ['cron', '0 */15 * * * *', 6],
      ['cron', '0 0 0 1 * *', 8],
    ]);
    // The block is a list of fragments, not a file: each line belongs inside a schedule.
    expect(() => parseSymbi(source)).toThrow(/fields such as `cron` go inside `schedule \{ … \}`/);
    const lines = source.split('\n');
    const crons = syntax.entries.map((entry) => {
      const wrapped = `schedule {\n  name: "example"\n  agent: "a"\n  ${lines[entry.keyPosition.line - 1]}\n}\n`;
      return toJobSpecs(parseSymbi(wrapped), { now: NOW })[0]!.cronExpr;
    });
    expect(crons).toEqual(['0 0 9 * * *', '0 0 18 * * 1', '0 */15 * * * *', '0 0 0 1 * *']);
  });

  it('One-Shot Jobs: deployment-check', () => {
    expect(specs(parseFixture('one-shot-deployment-check.symbi'))).toEqual([
      {
        name: 'deployment-check',
        agentId: 'health-checker',
        at: '2026-02-15T14:30:00Z',
        delivery: ['webhook'],
        webhookUrl: 'https://ops.example.com/hooks/deployment',
      },
    ]);
  });

  it('Heartbeat Pattern: system-monitor', () => {
    const document = parseFixture('heartbeat-system-monitor.symbi');
    expect(specs(document)).toEqual([
      {
        name: 'system-monitor',
        agentId: 'heartbeat-agent',
        cronExpr: '0 */5 * * * *',
        heartbeat: { enabled: true, contextMode: 'ephemeral_with_summary', maxIterations: 100 },
      },
    ]);
    expect(document.schedules[0]!.positions['heartbeat.max_iterations']).toEqual(at(8, 21));
  });

  it('Heartbeat Agent Example: the agent with its """ prompt and its schedule', () => {
    const document = parseFixture('heartbeat-agent.symbi');
    expect(document.agents).toEqual([
      {
        name: 'heartbeat_monitor',
        capabilities: [],
        model: 'claude-sonnet-4.5',
        systemPrompt: [
          'You are a system monitoring agent. On each heartbeat:',
          '1. Check system metrics (CPU, memory, disk)',
          '2. Review recent error logs',
          '3. If issues detected, take action:',
          '   - Restart services if safe',
          '   - Alert ops team via Slack',
          '   - Log incident details',
          '4. Summarize findings',
          "5. Return 'sleep' when done",
        ].join('\n'),
      },
    ]);
    expect(specs(document)).toEqual([
      {
        name: 'heartbeat-monitor',
        agentId: 'heartbeat_monitor',
        cronExpr: '0 */10 * * * *',
        heartbeat: { enabled: true, contextMode: 'ephemeral_with_summary', maxIterations: 50 },
        delivery: ['log_file', 'slack'],
        slackChannel: '#ops-alerts',
      },
    ]);
    expect(document.schedules[0]!.positions.schedule).toEqual(at(15, 1));
  });

  it('Session Isolation: data-pipeline', () => {
    expect(specs(parseFixture('session-data-pipeline.symbi'))).toEqual([
      { name: 'data-pipeline', agentId: 'etl-agent', cronExpr: '0 0 2 * * *', sessionMode: 'ephemeral_with_summary' },
    ]);
  });

  it('Delivery: single channel', () => {
    expect(specs(parseFixture('delivery-single-channel.symbi'))).toEqual([
      { name: 'backup', agentId: 'backup-agent', cronExpr: '0 0 3 * * *', delivery: ['log_file'] },
    ]);
  });

  it('Delivery: multiple channels', () => {
    expect(specs(parseFixture('delivery-multiple-channels.symbi'))).toEqual([
      {
        name: 'security-scan',
        agentId: 'scanner',
        cronExpr: '0 0 1 * * *',
        delivery: ['log_file', 'slack', 'email'],
        slackChannel: '#security',
        emailRecipients: ['ops@example.com', 'security@example.com'],
      },
    ]);
  });

  it('Delivery: webhook with headers, `${ENV}` kept verbatim', () => {
    const document = parseFixture('delivery-webhook.symbi');
    expect(specs(document)).toEqual([
      {
        name: 'metrics-report',
        agentId: 'metrics-agent',
        cronExpr: '0 */30 * * * *',
        delivery: ['webhook'],
        webhookUrl: 'https://metrics.example.com/ingest',
        webhookHeaders: { Authorization: 'Bearer ${METRICS_API_KEY}', 'Content-Type': 'application/json' },
      },
    ]);
    expect(document.schedules[0]!.positions['webhook_headers.Content-Type']).toEqual(at(9, 21));
  });

  it('Policy Conditions: production-deploy', () => {
    const document = parseFixture('policy-production-deploy.symbi');
    expect(specs(document)).toEqual([
      {
        name: 'production-deploy',
        agentId: 'deploy-agent',
        cronExpr: '0 0 0 * * 0',
        policy: {
          requireApproval: true,
          maxRuntimeMs: 1_800_000,
          requireCapabilities: ['deployment', 'production_write'],
          allowedHours: { start: '00:00', end: '04:00' },
          allowedEnvironments: ['staging', 'production'],
          requireAgentPin: true,
        },
      },
    ]);
    expect(document.schedules[0]!.positions['policy.allowed_hours.end']).toEqual(at(15, 12));
  });

  it('Per-Job Concurrency: data-sync', () => {
    expect(specs(parseFixture('concurrency-data-sync.symbi'))).toEqual([
      { name: 'data-sync', agentId: 'sync-agent', cronExpr: '0 */5 * * * *', maxConcurrent: 2 },
    ]);
  });

  it('Dead-Letter Queue: flaky-job', () => {
    expect(specs(parseFixture('dead-letter-flaky-job.symbi'))).toEqual([
      { name: 'flaky-job', agentId: 'unreliable-agent', cronExpr: '0 0 * * * *', maxRetries: 3 },
    ]);
  });

  it('AgentPin Verification: secure-task', () => {
    expect(specs(parseFixture('agentpin-secure-task.symbi'))).toEqual([
      {
        name: 'secure-task',
        agentId: 'trusted-agent',
        cronExpr: '0 0 * * * *',
        agentPinJwt: '${AGENT_PIN_JWT}',
        policy: { requireAgentPin: true },
      },
    ]);
  });

  it('Migration from v0.9.0: the updated job, diff markers removed', () => {
    expect(specs(parseFixture('migration-v1.symbi'))).toEqual([
      {
        name: 'my-job',
        agentId: 'my-agent',
        cronExpr: '0 0 * * * *',
        maxConcurrent: 2,
        agentPinJwt: '${AGENT_PIN_JWT}',
        policy: { requireAgentPin: true },
      },
    ]);
  });
});

describe('the older 5-field cron forms of the earlier translations', () => {
  it('a schedule with `cron: "0 9 * * *"`', () => {
    expect(specs(parseFixture('legacy-daily-report.symbi'))).toEqual([
      {
        name: 'daily-report',
        agentId: 'reporter-agent',
        cronExpr: '0 9 * * *',
        sessionMode: 'ephemeral_with_summary',
        delivery: ['stdout', 'log_file'],
        policy: { requireApproval: false, maxRuntimeMs: 300_000 },
      },
    ]);
  });

  it('each 5-field example line is a valid `cron` field', () => {
    const source = fixture('legacy-cron-examples.symbi');
    const values = parseSymbiSyntax(source).entries.map((entry) => {
      const wrapped = `schedule {\n  name: "example"\n  agent: "a"\n  cron: ${JSON.stringify(entry.value.kind === 'string' ? entry.value.value : '')}\n}\n`;
      return toJobSpecs(parseSymbi(wrapped), { now: NOW })[0]!.cronExpr;
    });
    expect(values).toEqual(['0 9 * * *', '0 18 * * 1', '*/15 * * * *', '0 0 1 * *']);
  });
});

describe('every .symbi fixture', () => {
  it.each(fixtureNames('.symbi'))('%s parses (as a file or as fragments) without error', (name) => {
    const source = fixture(name);
    if (name.includes('cron-examples')) {
      expect(() => parseSymbi(source)).toThrow(DslError);
      expect(parseSymbiSyntax(source).entries.length).toBe(4);
    } else {
      expect(parseFixture(name).schedules.length).toBeGreaterThan(0);
    }
  });
});

describe('the package README', () => {
  it('its `.symbi` example parses and validates', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```symbiont\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const document = parseSymbi(example, { file: 'README.md' });
    expect(document.agents[0]).toMatchObject({ name: 'reporter', capabilities: ['reporting'] });
    expect(toJobSpecs(document, { now: NOW })).toEqual([
      {
        name: 'daily-report',
        agentId: 'reporter',
        cronExpr: '0 0 9 * * *',
        policy: { maxRuntimeMs: 300_000 },
        webhookHeaders: { Authorization: 'Bearer ${TOKEN}' },
      },
    ]);
  });
});
