import { describe, expect, it } from 'vitest';
import { parseSymbi, toJobSpecs } from '@symbi/dsl';

const NOW = new Date('2026-01-01T00:00:00Z');

/** A schedule around `body`, as a user would write it in `jobs.symbi`. */
const schedule = (body: string) => `schedule {\n  name: "nightly"\n  agent: "reporter"\n${body}\n}\n`;

const parse = (source: string) => () => parseSymbi(source, { file: 'jobs.symbi' });
const convert = (source: string) => () => toJobSpecs(parseSymbi(source, { file: 'jobs.symbi' }), { now: NOW });

describe('parse errors', () => {
  it('unknown field, with a suggestion', () => {
    expect(parse(schedule('  crn: "0 0 9 * * *"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:3: unknown field \`crn\` in schedule; did you mean \`cron\`?
       4 |   crn: "0 0 9 * * *"
         |   ^]
    `);
  });

  it('unknown field in a nested block, with the list of fields', () => {
    expect(parse(schedule('  policy {\n    approvers: ["ops"]\n    colour: "red"\n  }'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:5:5: unknown field \`approvers\` in policy; did you mean \`approver\`?
       5 |     approvers: ["ops"]
         |     ^]
    `);
  });

  it('duplicate field', () => {
    expect(parse(schedule('  cron: "0 0 9 * * *"\n  cron: "0 0 10 * * *"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:5:3: duplicate field \`cron\` in schedule (first set at line 4)
       5 |   cron: "0 0 10 * * *"
         |   ^]
    `);
  });

  it('unterminated string', () => {
    expect(parse(schedule('  cron: "0 0 9 * * *\n  at: "x"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:9: unterminated string; a "…" string ends on its line (use """…""" for multi-line text)
       4 |   cron: "0 0 9 * * *
         |         ^]
    `);
  });

  it('unterminated """ string', () => {
    expect(parse('agent writer {\n  system_prompt: """\n  Write.\n}\n')).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:2:18: unterminated """ string; close it with """
       2 |   system_prompt: """
         |                  ^]
    `);
  });

  it('unclosed block', () => {
    expect(parse('schedule {\n  name: "nightly"\n  policy {\n    require_approval: true\n}\n')).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:6:1: expected \`}\` to close the block opened at line 1, found the end of the file
       6 | 
         | ^]
    `);
  });

  it('unquoted text value', () => {
    expect(parse(schedule('  session_mode: ephemeral_with_summary'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:17: expected a value, found \`ephemeral_with_summary\`; text values are quoted: "ephemeral_with_summary"
       4 |   session_mode: ephemeral_with_summary
         |                 ^]
    `);
  });

  it('unquoted duration', () => {
    expect(parse(schedule('  policy { max_runtime: 5m }'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:26: unexpected "m" after the number 5; write durations and other text as strings, e.g. "5m"
       4 |   policy { max_runtime: 5m }
         |                          ^]
    `);
  });

  it('value outside an enumeration, with a suggestion', () => {
    expect(parse(schedule('  session_mode: "shared_persistant"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:17: \`session_mode\` must be one of "ephemeral_with_summary", "shared_persistent", "fully_ephemeral", found "shared_persistant"; did you mean \`shared_persistent\`?
       4 |   session_mode: "shared_persistant"
         |                 ^]
    `);
  });

  it('wrong type', () => {
    expect(parse(schedule('  max_concurrent: "2"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:19: \`max_concurrent\` must be a whole number, found a string
       4 |   max_concurrent: "2"
         |                   ^]
    `);
  });

  it('fraction where a whole number is needed', () => {
    expect(parse(schedule('  heartbeat { max_iterations: 2.5 }'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:31: \`heartbeat.max_iterations\` must be a whole number of at least 1, found 2.5
       4 |   heartbeat { max_iterations: 2.5 }
         |                               ^]
    `);
  });

  it('missing comma in a list', () => {
    expect(parse(schedule('  delivery: ["stdout" "slack"]'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:23: expected \`,\` or \`]\` in the list, found \`"slack"\`
       4 |   delivery: ["stdout" "slack"]
         |                       ^]
    `);
  });

  it('unknown escape', () => {
    expect(parse(schedule('  input: "C:\\data"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:13: unknown escape \`\\d\`; write \`\\\\\` for a backslash
       4 |   input: "C:\\data"
         |             ^]
    `);
  });

  it('bad duration text', () => {
    expect(parse(schedule('  policy { max_runtime: "five minutes" }'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:25: \`policy.max_runtime\`: "five minutes" is not a duration such as 250ms, 30s, 5m, 1h30m, 2d or PT5M, or a number of seconds
       4 |   policy { max_runtime: "five minutes" }
         |                         ^]
    `);
  });

  it('allowed_hours without end', () => {
    expect(parse(schedule('  policy {\n    allowed_hours: { start: "00:00" }\n  }'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:5:20: \`policy.allowed_hours\` needs both \`start\` and \`end\`, e.g. { start: "00:00", end: "04:00" }
       5 |     allowed_hours: { start: "00:00" }
         |                    ^]
    `);
  });

  it('schedule without agent', () => {
    expect(parse('\nschedule {\n  name: "nightly"\n  cron: "0 0 9 * * *"\n}\n')).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:2:1: schedule is missing the required field \`agent\`
       2 | schedule {
         | ^]
    `);
  });

  it('agent without a name', () => {
    expect(parse('agent {\n  model: "claude-sonnet-4.5"\n}\n')).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:1:7: expected the agent name before the block: \`agent NAME { … }\`
       1 | agent {
         |       ^]
    `);
  });

  it('misspelt top-level block', () => {
    expect(parse('schedul {\n  name: "nightly"\n}\n')).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:1:1: unknown block \`schedul\`; did you mean \`schedule\`?
       1 | schedul {
         | ^]
    `);
  });

  it('duplicate schedule name', () => {
    expect(parse(`${schedule('  cron: "0 0 9 * * *"')}${schedule('  cron: "0 0 10 * * *"')}`)).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:7:9: duplicate schedule name "nightly" (first defined at line 2)
       7 |   name: "nightly"
         |         ^]
    `);
  });

  it('single-quoted string', () => {
    expect(parse(schedule("  timezone: 'UTC'"))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:13: strings use double quotes (\`"…"\`), not single quotes
       4 |   timezone: 'UTC'
         |             ^]
    `);
  });

  it('nesting too deep', () => {
    expect(parse(schedule(`  delivery: ${'['.repeat(100)}`))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:76: nesting deeper than 64 levels
       4 |   delivery: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
         |                                                                            ^]
    `);
  });
});

describe('validation errors from toJobSpecs, at the line and column of the value', () => {
  it('bad cron expression', () => {
    expect(convert(schedule('  cron: "0 0 25 * * *"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:9: \`cron\`: hour field: 25 is out of range 0-23
       4 |   cron: "0 0 25 * * *"
         |         ^]
    `);
  });

  it('bad time zone', () => {
    expect(convert(schedule('  cron: "0 0 9 * * *"\n  timezone: "Mars/Olympus_Mons"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:5:13: \`timezone\`: unknown time zone "Mars/Olympus_Mons"; use an IANA name such as Europe/Paris or UTC
       5 |   timezone: "Mars/Olympus_Mons"
         |             ^]
    `);
  });

  it('neither cron nor at', () => {
    expect(convert(schedule('  input: "go"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:1:1: \`cron\`: one of cron or at is required
       1 | schedule {
         | ^]
    `);
  });

  it('bad `at` time', () => {
    expect(convert(schedule('  at: "tomorrow"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:4:7: \`at\`: "tomorrow" is not an ISO 8601 instant such as 2026-02-15T14:30:00Z
       4 |   at: "tomorrow"
         |       ^]
    `);
  });

  it('bad allowed_hours time', () => {
    expect(convert(schedule('  cron: "0 0 9 * * *"\n  policy { allowed_hours { start: "25:00", end: "04:00" } }'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:5:35: \`policy.allowed_hours.start\`: "25:00": hour 25 is out of range 00-23 (24:00 alone marks the end of the day)
       5 |   policy { allowed_hours { start: "25:00", end: "04:00" } }
         |                                   ^]
    `);
  });

  it('bad list item', () => {
    expect(convert(schedule('  cron: "0 0 9 * * *"\n  delivery: ["email"]\n  email_recipients: ["ops@example.com", "nobody"]'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:6:41: \`email_recipients[1]\`: is not an email address
       6 |   email_recipients: ["ops@example.com", "nobody"]
         |                                         ^]
    `);
  });

  it('webhook without url', () => {
    expect(convert(schedule('  cron: "0 0 9 * * *"\n  delivery: ["webhook"]'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:1:1: \`webhook_url\`: is required when delivery includes "webhook"
       1 | schedule {
         | ^]
    `);
  });

  it('fractional jitter', () => {
    expect(convert(schedule('  cron: "0 0 9 * * *"\n  jitter: "1500ms"'))).toThrowErrorMatchingInlineSnapshot(`
      [DslError: jobs.symbi:5:11: \`jitter\`: must be a whole number
       5 |   jitter: "1500ms"
         |           ^]
    `);
  });
});
