import { describe, expect, it } from 'vitest';
import { DslError, keptItemNote, loadSymbiFile, parseSymbi, toJobSpecs, type SymbiDocument } from '@symbi/dsl';
import { FIXTURES } from './fixture-files.js';

/** The corpus is validated as of this instant, before its one-shot times. */
const NOW = new Date('2026-12-06T00:00:00Z');
const CORPUS = `${FIXTURES}symbiont/`;

function corpus(): SymbiDocument[] {
  return ['compliance.symbi', 'agents.symbi'].map((name) => loadSymbiFile(`${CORPUS}${name}`));
}

function specNamed(name: string) {
  const spec = toJobSpecs(corpus(), { now: NOW }).find((candidate) => candidate.name === name);
  expect(spec).toBeDefined();
  return spec!;
}

/** The DslError `source` throws once every schedule is turned into a job spec. */
function failure(source: string, extra: string[] = []): DslError {
  const documents = [source, ...extra].map((text, index) => parseSymbi(text, { file: `f${index}.symbi` }));
  try {
    toJobSpecs(documents, { now: NOW });
  } catch (error) {
    expect(error).toBeInstanceOf(DslError);
    return error as DslError;
  }
  throw new Error('expected a DslError');
}

/** The DslError parsing `source` throws. */
function parseFailure(source: string): DslError {
  try {
    parseSymbi(source, { file: 'f.symbi' });
  } catch (error) {
    expect(error).toBeInstanceOf(DslError);
    return error as DslError;
  }
  throw new Error('expected a DslError');
}

describe('the Symbiont corpus (test/fixtures/symbiont)', () => {
  it('loads: labelled schedules, metadata, policies, agents with capabilities, kept items, both comment styles', () => {
    const [compliance, agents] = corpus();
    expect(compliance!.metadata).toEqual({ version: '1.2.0', author: 'Compliance Team', tags: ['hipaa', 'sox'] });
    expect(compliance!.schedules.map((block) => block.spec.name)).toEqual([
      'morning_report',
      'quarterly_check',
      'dst_gap_check',
      'evidence_export',
      'access_review',
      'ledger_digest',
      'security_notice',
    ]);
    expect(compliance!.policies.map((policy) => [policy.name, policy.agent])).toEqual([
      ['hipaa_guard', null],
      ['change_control', null],
    ]);
    expect(agents!.agents).toEqual([
      { name: 'compliance_reporter', capabilities: ['phi_access', 'audit_trail', 'report'] },
      { name: 'sox_auditor', capabilities: ['read_ledger'] },
    ]);
    expect(agents!.policies.map((policy) => [policy.name, policy.agent])).toEqual([
      ['reporter_limits', 'compliance_reporter'],
      ['auditor_limits', 'sox_auditor'],
    ]);
  });

  it('keeps functions, types and agent signatures, with one line each saying they are not run', () => {
    const notes = corpus().flatMap((document) => document.kept.map((item) => keptItemNote(document, item)));
    expect(notes).toEqual([
      `${CORPUS}compliance.symbi:20: type \`Finding\` kept, not run: types only describe data here`,
      `${CORPUS}compliance.symbi:25: function \`summarize\` kept, not run: the agent runs through \`command\`, \`url\`, \`model\` or a host function, not DSL code`,
      `${CORPUS}agents.symbi:3: agent \`compliance_reporter\`'s parameters \`(scope: String) -> Report\` kept, not run: a run receives the job's \`input\` text`,
      `${CORPUS}agents.symbi:11: function \`build_report\` of agent \`compliance_reporter\` kept, not run: the agent runs through \`command\`, \`url\`, \`model\` or a host function, not DSL code`,
    ]);
    expect(corpus()[1]!.kept[1]!.text).toMatch(/^function build_report\(scope: String\) -> Report \{[\s\S]*"ok \{braces\} in a string"[\s\S]*\}$/);
  });

  it('a named policy from another file, the agent’s own policy and the schedule’s fields combine', () => {
    expect(specNamed('morning_report')).toEqual({
      name: 'morning_report',
      cronExpr: '0 7 * * 1-5',
      timezone: 'America/New_York',
      agentId: 'compliance_reporter',
      delivery: ['slack'],
      slackChannel: '#compliance-alerts',
      policy: {
        audit: 'all_operations',
        requireCapabilities: ['phi_access', 'audit_trail', 'report'],
        maxRuntimeMs: 600_000,
        allowedEnvironments: ['production', 'development'],
      },
    });
    expect(specNamed('evidence_export').policy).toEqual({
      requireApproval: true,
      approver: 'compliance-lead',
      audit: 'errors_only',
      requireCapabilities: ['read_ledger'],
      maxRuntimeMs: 3_600_000,
    });
  });

  it('an `at` without offset is read in the block’s timezone, a skipped wall time as cron reads it', () => {
    expect(specNamed('quarterly_check').at).toBe('2027-03-31T23:59:00.000Z');
    expect(specNamed('dst_gap_check').at).toBe('2027-03-14T07:00:00.000Z');
    const [document] = [parseSymbi('schedule s { at: "2027-11-07T01:30:00", timezone: "America/New_York", agent: "a" }')];
    expect(toJobSpecs(document!, { now: NOW })[0]!.at).toBe('2027-11-07T05:30:00.000Z');
    expect(toJobSpecs(parseSymbi('schedule s { at: "2027-07-01T09:00:00", timezone: "Europe/Paris", agent: "a" }'), { now: NOW })[0]!.at).toBe(
      '2027-07-01T07:00:00.000Z',
    );
    expect(toJobSpecs(parseSymbi('schedule s { at: "2027-07-01T09:00:00", agent: "a" }'), { now: NOW })[0]!.at).toBe('2027-07-01T09:00:00.000Z');
    expect(toJobSpecs(parseSymbi('schedule s { at: "2027-07-01T09:00:00+02:00", agent: "a" }'), { now: NOW })[0]!.at).toBe('2027-07-01T09:00:00+02:00');
  });

  it('every deliver URI maps onto one of our channels', () => {
    const delivery = (name: string) => {
      const { delivery: channels, webhookUrl, slackChannel, emailRecipients } = specNamed(name);
      return { channels, webhookUrl, slackChannel, emailRecipients };
    };
    expect(delivery('morning_report')).toEqual({ channels: ['slack'], slackChannel: '#compliance-alerts' });
    expect(delivery('quarterly_check')).toEqual({ channels: ['email'], emailRecipients: ['audit@example.com', 'cfo@example.com'] });
    expect(delivery('security_notice')).toEqual({ channels: ['email'], emailRecipients: ['security@example.com'] });
    expect(delivery('evidence_export')).toEqual({ channels: ['webhook'], webhookUrl: 'https://hooks.example.com/evidence' });
    expect(delivery('ledger_digest')).toEqual({ channels: ['webhook'], webhookUrl: 'https://hooks.example.com/digest' });
    expect(delivery('access_review')).toEqual({ channels: ['log_file'] });
    expect(delivery('dst_gap_check')).toEqual({ channels: ['stdout'] });
    const both = toJobSpecs(parseSymbi('schedule s { cron: "@daily", agent: "a", deliver: ["slack://", "stdout://", "slack://"] }'), { now: NOW })[0]!;
    expect(both).toMatchObject({ delivery: ['slack', 'stdout'] });
    expect(both.slackChannel).toBeUndefined();
  });

  it('refuses a schedule with neither cron nor at, and one with both, naming `cron` and `at`', () => {
    for (const [name, message] of [
      ['invalid-neither.symbi', '`cron`: one of cron or at is required'],
      ['invalid-both.symbi', '`cron`: give one of cron or at, not both'],
    ] as const) {
      const document = loadSymbiFile(`${CORPUS}${name}`);
      expect(() => toJobSpecs(document, { now: NOW })).toThrow(DslError);
      try {
        toJobSpecs(document, { now: NOW });
      } catch (error) {
        expect((error as DslError).detail).toBe(message);
        expect((error as DslError).field).toBe('cron');
      }
    }
  });
});

describe('Symbiont schedule fields', () => {
  it('the label is the job name, and a `name` field must agree with it', () => {
    expect(parseSymbi('schedule a { name: "a", cron: "@daily", agent: "x" }').schedules[0]!.spec.name).toBe('a');
    const error = parseFailure('schedule a {\n  name: "b"\n  cron: "@daily"\n  agent: "x"\n}');
    expect(error.detail).toBe('`name` "b" disagrees with the schedule\'s label `a`; keep one of them');
    expect([error.field, error.line, error.column]).toEqual(['name', 2, 9]);
    expect(parseFailure('schedule a { cron: "@daily", agent: "x" }\nschedule a { cron: "@daily", agent: "y" }').detail).toBe(
      'duplicate schedule name "a" (first defined at line 1)',
    );
  });

  it('`=` separates a field from its value as `:` does', () => {
    expect(parseSymbi('schedule s { cron = "@daily", agent = "x" }').schedules[0]!.spec).toEqual({ name: 's', cronExpr: '@daily', agentId: 'x' });
  });

  it('one_shot: true needs at; one_shot: false contradicts it', () => {
    expect(parseFailure('schedule s { cron: "@daily", agent: "x", one_shot: true }').detail).toMatch(/^`one_shot: true` needs `at`, not `cron`/);
    expect(parseFailure('schedule s { at: "2027-01-01T00:00:00", agent: "x", one_shot: false }').detail).toMatch(/^`one_shot: false` contradicts `at`/);
    expect(parseSymbi('schedule s { cron: "@daily", agent: "x", one_shot: false }').schedules[0]!.spec.cronExpr).toBe('@daily');
  });

  it('refuses bad deliver URIs, naming the field and value', () => {
    const cases: [string, RegExp][] = [
      ['"ftp://x"', /unknown delivery scheme "ftp:"/],
      ['"compliance-alerts"', /"compliance-alerts" is not a delivery URI/],
      ['"log_file://reports/x.log"', /has a path; the log file is always <log_dir>\/<job name>\.log/],
      ['"mailto:"', /names no recipient/],
      ['["https://a.example/x", "https://b.example/y"]', /a second webhook target/],
    ];
    for (const [value, message] of cases) {
      const error = parseFailure(`schedule s { cron: "@daily", agent: "x", deliver: ${value} }`);
      expect(error.detail).toMatch(message);
      expect(error.field).toMatch(/^deliver/);
    }
    expect(parseFailure('schedule s { cron: "@daily", agent: "x", deliver: "stdout://", delivery: ["stdout"] }').detail).toBe(
      'give `deliver` (URIs) or `delivery` (channel names), not both',
    );
  });

  it('a missing named policy is an error naming it, with the names that exist', () => {
    const error = failure('schedule s {\n  cron: "@daily"\n  agent: "x"\n  policy: "hipaa_gaurd"\n}', ['policy hipaa_guard { audit: none }']);
    expect(error.detail).toBe('`policy`: policy "hipaa_gaurd" is not defined in the loaded files; did you mean `hipaa_guard`?');
    expect([error.file, error.line, error.column]).toEqual(['f0.symbi', 4, 11]);
    expect(failure('schedule s { cron: "@daily", agent: "x", policy: "p" }').detail).toMatch(/no loaded file defines a `policy NAME \{ … \}` block$/);
  });

  it('policies that disagree, or a policy defined twice across files, are errors', () => {
    expect(failure('schedule s { cron: "@daily", agent: "x", policy: "p", audit: "none" }', ['policy p { audit: all_operations }']).detail).toBe(
      'policy `p` does not fit this schedule: conflicting `audit`: "none" and "all_operations"',
    );
    expect(failure('policy p { audit: none }', ['policy p { audit: none }']).detail).toBe('duplicate policy `p` (first defined at f0.symbi:1)');
  });

  it('the audit level may be set once per schedule', () => {
    const error = parseFailure('schedule s { cron: "@daily", agent: "x", policy { audit: "none" }, audit: "errors_only" }');
    expect([error.field, error.detail]).toEqual(['audit', 'the audit level is set twice, by `audit` and by `policy { audit }`; keep one']);
  });

  it('an unknown audit level is refused with a suggestion', () => {
    expect(parseFailure('schedule s { cron: "@daily", agent: "x", audit: "all_operation" }').detail).toMatch(
      /`audit` must be one of "all_operations", "errors_only", "none", found "all_operation"; did you mean `all_operations`\?/,
    );
  });
});

describe('Symbiont policies and agents that cannot be enforced are refused at load', () => {
  const refusals: [string, string, RegExp][] = [
    ['allow', 'policy p { allow: [read] }', /policy `p`: `allow` rules cannot be enforced here/],
    ['deny', 'agent a { policy p { deny: ["network_access"] } }', /policy `p`: `deny` rules cannot be enforced here/],
    ['a call', 'policy p { require: validate(input) }', /`require` holds a call expression/],
    ['a condition', 'policy p { require: [read] if context.ok }', /`require` has a condition \(`if …`\)/],
    ['an audit block', 'policy p { audit: { log_level: "info" } }', /`audit` takes a level here/],
    ['an unknown require key', 'policy p { require: { input_sanitization: true } }', /unknown field `input_sanitization` in policy/],
    ['an unknown rule', 'policy p { requre: [x] }', /unknown rule `requre`; did you mean `require`\?/],
    ['a with block', 'agent a { with sandbox = "Tier1" { return 1; } }', /`with` blocks \(sandbox, memory, security, timeout\) are not supported/],
    ['a channel', 'channel slack_bot { platform: "slack" }', /`channel` blocks are not supported by symbi-scheduler/],
    ['a memory', 'memory notes { store "markdown" }', /`memory` blocks are not supported/],
  ];
  it.each(refusals)('%s', (_what, source, message) => {
    expect(parseFailure(source).detail).toMatch(message);
  });

  it('an unterminated block comment is an error at its start', () => {
    const error = parseFailure('schedule s { cron: "@daily", agent: "x" }\n/* never closed');
    expect([error.detail, error.line, error.column]).toEqual(['unterminated `/*` comment; close it with `*/`', 2, 1]);
    expect(parseSymbi('/* a */ schedule s { /* b */ cron: "@daily", agent: "x" } // c\n# d').schedules).toHaveLength(1);
  });

  it('a policy needs a name at the top level', () => {
    expect(parseFailure('policy { audit: none }').detail).toMatch(/expected the policy name before the block: `policy NAME \{ … \}`/);
  });
});
