import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/errors.js';
import { processIo } from '../src/io.js';
import { createProgram } from '../src/program.js';
import { completeLine, readShellLine, splitWords } from '../src/shell/slash-commands.js';

describe('the lines of symbi shell', () => {
  it('stands each slash command for the symbi command line it runs', () => {
    expect(readShellLine('/audit CronJobFailed --since 1d')).toEqual({ kind: 'run', argv: ['audit', 'query', '--type', 'CronJobFailed', '--since', '1d'] });
    expect(readShellLine('/audit --limit 5')).toEqual({ kind: 'run', argv: ['audit', 'query', '--limit', '5'] });
    expect(readShellLine('  /cron run daily-report --input "Check production \\"db\\""')).toEqual({
      kind: 'run',
      argv: ['cron', 'run', 'daily-report', '--input', 'Check production "db"'],
    });
    expect(readShellLine("/cron approve 0193 --note 'change window'")).toEqual({ kind: 'run', argv: ['cron', 'approve', '0193', '--note', 'change window'] });
    expect(readShellLine('/cron prune --dry-run')).toEqual({ kind: 'run', argv: ['cron', 'prune', '--dry-run'] });
    expect(readShellLine('/health --format json')).toEqual({ kind: 'run', argv: ['health', '--format', 'json'] });
    expect(readShellLine('/help cron')).toEqual({ kind: 'run', argv: ['cron', '--help'] });
    expect(readShellLine('/help audit')).toEqual({ kind: 'run', argv: ['audit', 'query', '--help'] });
    expect(readShellLine('/help')).toEqual({ kind: 'help' });
    expect(readShellLine('/exit')).toEqual({ kind: 'quit' });
    expect(readShellLine('   # a comment')).toEqual({ kind: 'blank' });
  });

  it('keeps add and remove on the command line, where they can read files and ask for confirmation', () => {
    for (const line of ['/cron remove daily-report --force', '/cron add --json {}']) expect(() => readShellLine(line)).toThrow(UsageError);
  });

  it('splits words as a POSIX shell does for quotes and backslashes', () => {
    expect(splitWords(`a 'b c' "d\\"e" f\\ g ''`)).toEqual(['a', 'b c', 'd"e', 'f g', '']);
  });

  it('completes commands, cron subcommands, job names, event types, options and option values', () => {
    const program = createProgram(processIo(), () => {});
    const source = { jobNames: () => ['nightly-report', 'night-watch', 'disk-check'] };
    const complete = (line: string) => completeLine(program, line, source);
    expect(complete('/he')).toEqual([['/health', '/help'], '/he']);
    expect(complete('/cr')).toEqual([['/cron '], '/cr']);
    expect(complete('/cron re')).toEqual([['resume', 'reset'], 're']);
    expect(complete('/cron history nig')).toEqual([['nightly-report', 'night-watch'], 'nig']);
    expect(complete('/cron approve nig')).toEqual([[], 'nig']);
    expect(complete('/audit CronJobDe')).toEqual([['CronJobDeleted', 'CronJobDeadLettered'], 'CronJobDe']);
    expect(complete('/audit CronJobFailed --s')).toEqual([['--since '], '--s']);
    expect(complete('/cron list --status dead')).toEqual([['dead_letter '], 'dead']);
    expect(complete('/help cron h')).toEqual([['history '], 'h']);
    expect(complete('/bogus ')).toEqual([[], '']);
  });
});
