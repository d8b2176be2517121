import { SchedulerError, ValidationError } from '@symbi/core';
import { describe, expect, it } from 'vitest';
import { DslError, parseSymbi, parseSymbiSyntax } from '@symbi/dsl';

function onlySchedule(body: string) {
  const document = parseSymbi(`schedule {\n  name: "n"\n  agent: "a"\n${body}\n}\n`);
  return document.schedules[0]!.spec;
}

function thrown(source: string, file?: string): DslError {
  try {
    parseSymbi(source, file === undefined ? {} : { file });
  } catch (error) {
    if (error instanceof DslError) return error;
    throw error;
  }
  throw new Error('expected a DslError');
}

describe('strings', () => {
  it('decodes escapes', () => {
    const spec = onlySchedule(String.raw`  input: "say \"hi\"\n\ttab \\ slash\/ \u00e9 \u{1F600} \0end"`);
    expect(spec.input).toBe('say "hi"\n\ttab \\ slash/ é 😀 \0end');
  });

  it('keeps ${ENV} references, # and // inside strings verbatim', () => {
    const spec = onlySchedule('  input: "${HOME} # not a comment // nor this"');
    expect(spec.input).toBe('${HOME} # not a comment // nor this');
  });

  it('reads """ strings raw and dedented, dropping the first and last blank lines', () => {
    const document = parseSymbi('agent a {\n  system_prompt: """\n      first\n        indented \\n kept raw\n\n      last\n      """\n}\n');
    expect(document.agents[0]!.systemPrompt).toBe('first\n  indented \\n kept raw\n\nlast');
  });

  it('reads a one-line """ string and normalises CRLF inside """', () => {
    expect(parseSymbi('agent a { system_prompt: """one "quoted" line""" }').agents[0]!.systemPrompt).toBe('one "quoted" line');
    expect(parseSymbi('agent a {\r\n  system_prompt: """\r\n  x\r\n  y\r\n  """\r\n}\r\n').agents[0]!.systemPrompt).toBe('x\ny');
  });

  it('accepts quoted keys', () => {
    expect(onlySchedule('  "cron": "0 0 * * * *"').cronExpr).toBe('0 0 * * * *');
  });
});

describe('structure', () => {
  it('accepts `key: { … }` and `key { … }` alike', () => {
    const colon = onlySchedule('  cron: "0 0 * * * *"\n  policy: { require_approval: true }');
    const bare = onlySchedule('  cron: "0 0 * * * *"\n  policy { require_approval: true }');
    expect(colon).toEqual(bare);
    expect(colon.policy).toEqual({ requireApproval: true });
  });

  it('accepts lists with and without trailing commas, across lines, and commas between fields', () => {
    const spec = onlySchedule('  delivery: [\n    "stdout",\n    "log_file",\n  ]\n  email_recipients: ["a@x.org"], slack_channel: "#c",\n  policy { allowed_hours { start: "01:00", end: "02:00", }, }');
    expect(spec).toMatchObject({
      delivery: ['stdout', 'log_file'],
      emailRecipients: ['a@x.org'],
      slackChannel: '#c',
      policy: { allowedHours: { start: '01:00', end: '02:00' } },
    });
    expect(onlySchedule('  delivery: []').delivery).toEqual([]);
  });

  it('skips # and // comments, a byte-order mark and CRLF line ends', () => {
    const document = parseSymbi('\ufeff// leading\r\nschedule { # trailing\r\n  name: "n" // after\r\n  agent: "a"\r\n}\r\n');
    expect(document.schedules[0]!.spec).toEqual({ name: 'n', agentId: 'a' });
    expect(document.schedules[0]!.positions.agent).toMatchObject({ line: 4, column: 10 });
  });

  it('reads numbers, booleans and durations', () => {
    const spec = onlySchedule('  max_retries: 0\n  jitter: "30s"\n  heartbeat { enabled: false max_iterations: 7 }\n  policy { max_runtime: 90 approval_timeout: "2h" }');
    expect(spec).toMatchObject({
      maxRetries: 0,
      jitterSeconds: 30,
      heartbeat: { enabled: false, maxIterations: 7 },
      policy: { maxRuntimeMs: 90_000, approvalTimeoutMs: 7_200_000 },
    });
    expect(onlySchedule('  jitter: 15').jitterSeconds).toBe(15);
  });

  it('reads a schedule\'s history retention, refusing zero at its line', () => {
    expect(onlySchedule('  history_retention_days: 14\n  history_retention_runs: 200')).toMatchObject({ historyRetentionDays: 14, historyRetentionRuns: 200 });
    const error = thrown('schedule {\n  name: "n"\n  agent: "a"\n  history_retention_runs: 0\n}\n');
    expect(error.message).toMatch(/4:\d+: `history_retention_runs` must be a whole number of at least 1, found 0/);
  });

  it('reads every agent field', () => {
    const document = parseSymbi(`
      agent "shell-agent" {
        command: "./run.sh --fast"
        capabilities: ["deployment", "production_write"]
        env { TOKEN: "\${DEPLOY_TOKEN}", "MODE": "prod" }
        timeout: "2m"
      }
      agent llm {
        model: "gpt-4o-mini"
        provider: "openai"
        base_url: "http://127.0.0.1:11434/v1"
        url: "http://agents.internal/run"
        timeout: 1.5
      }
    `);
    expect(document.agents).toEqual([
      {
        name: 'shell-agent',
        command: './run.sh --fast',
        capabilities: ['deployment', 'production_write'],
        env: { TOKEN: '${DEPLOY_TOKEN}', MODE: 'prod' },
        timeoutMs: 120_000,
      },
      { name: 'llm', capabilities: [], model: 'gpt-4o-mini', provider: 'openai', baseUrl: 'http://127.0.0.1:11434/v1', url: 'http://agents.internal/run', timeoutMs: 1500 },
    ]);
  });

  it('keeps a `__proto__` header as an ordinary key', () => {
    const headers = onlySchedule('  webhook_headers { "__proto__": "x" }').webhookHeaders!;
    expect(Object.keys(headers)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });

  it('parses an empty file and a file of comments', () => {
    expect(parseSymbi('')).toMatchObject({ agents: [], schedules: [] });
    expect(parseSymbi('# nothing\n// here\n')).toMatchObject({ agents: [], schedules: [] });
  });

  it('exposes the syntax tree with positions', () => {
    const syntax = parseSymbiSyntax('agent a {\n  model: "m"\n}\n', { file: 'a.symbi' });
    expect(syntax.file).toBe('a.symbi');
    expect(syntax.entries[0]).toMatchObject({
      key: 'agent',
      label: { name: 'a', position: { line: 1, column: 7 } },
      value: { kind: 'block', entries: [{ key: 'model', value: { kind: 'string', value: 'm', position: { line: 2, column: 10 } } }] },
    });
  });
});

describe('DslError', () => {
  it('is a ValidationError with file, line, column, field and a caret excerpt', () => {
    const error = thrown('schedule {\n  name: "n"\n  agent: "a"\n  policy {\n    max_runtime: true\n  }\n}\n', 'jobs.symbi');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(SchedulerError);
    expect(error.code).toBe('VALIDATION');
    expect(error).toMatchObject({ file: 'jobs.symbi', line: 5, column: 18, field: 'policy.max_runtime' });
    expect(error.message.split('\n')).toEqual([
      'jobs.symbi:5:18: `policy.max_runtime` must be a duration such as "30s" or a number of seconds, found a boolean',
      ' 5 |     max_runtime: true',
      '   |                  ^',
    ]);
  });

  it('lines the caret up under tabs', () => {
    const error = thrown('schedule {\n\tname: "n"\n\tagent: "a"\n\tcrn: "x"\n}');
    expect(error.message.split('\n').slice(1)).toEqual([' 4 | \tcrn: "x"', '   | \t^']);
    expect(error.field).toBe('crn');
  });

  it('names the field of a syntax error inside a value', () => {
    expect(thrown('schedule {\n  input: "open\n}').field).toBe('input');
    expect(thrown('schedule {\n  policy {\n    approver: [1 2]\n  }\n}').field).toBe('policy.approver');
    expect(thrown('} stray').field).toBe('');
  });
});
