import { Command, Option } from 'commander';
import { SECURITY_EVENT_TYPES, parseDuration, parseInstant } from '@symbi/core';
import { integerOption, print, withBackend } from '../command-support.js';
import { UsageError } from '../errors.js';
import { auditTable, FORMATS, renderRecords, type Format } from '../output/views.js';
import { examples, type Registrar } from '../program.js';

/** An audit event type, matched without regard to case (`cronjobfailed` is `CronJobFailed`). */
function eventType(value: string): string {
  const match = SECURITY_EVENT_TYPES.find((type) => type.toLowerCase() === value.toLowerCase());
  if (!match) throw new UsageError(`--type ${JSON.stringify(value)} is not an audit event type`, `one of: ${SECURITY_EVENT_TYPES.join(', ')}`);
  return match;
}

/** `--since`: an ISO 8601 date (midnight UTC) or instant, or a duration back from now (`90m`, `1d`). */
export function sinceDate(value: string, now: Date): Date {
  const instant = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  try {
    return parseInstant(instant, 'since');
  } catch {
    try {
      return new Date(now.getTime() - parseDuration(value, 'since'));
    } catch {
      throw new UsageError(`--since ${JSON.stringify(value)} is neither a date nor a duration`, 'e.g. 2026-02-15, 2026-02-15T14:30:00Z, 90m or 1d');
    }
  }
}

/** Registers `symbi audit query`. */
export function registerAudit(program: Command, registrar: Registrar): void {
  const audit = program.command('audit').description('read the audit log of the scheduler');
  examples(audit, ['symbi audit query --type CronJobFailed --since 1d']);
  examples(
    audit
      .command('query')
      .description('list audit events, newest first')
      .option('--type <type>', `only events of this type (${SECURITY_EVENT_TYPES.join(', ')})`)
      .option('--since <date>', 'only events at or after this date (midnight UTC), time, or duration ago: 2026-02-15, 2026-02-15T14:30:00Z, 90m, 1d')
      .option('--limit <n>', 'most events to show', integerOption(1), 100)
      .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('table')),
    ['symbi audit query', 'symbi audit query --type CronJobFailed --since 1d', 'symbi audit query --since 2026-02-15 --format csv > audit.csv'],
  ).action(
    registrar.action(async (ctx, options: { type?: string; since?: string; limit: number; format: Format }) => {
      const query = {
        ...(options.type === undefined ? {} : { type: eventType(options.type) }),
        ...(options.since === undefined ? {} : { since: sinceDate(options.since, ctx.io.now()) }),
        limit: options.limit,
      };
      const events = await withBackend(ctx, (backend) => backend.audit(query));
      print(ctx, renderRecords(options.format, 'audit', events, (list) => auditTable(list, ctx.io.now(), ctx.out)));
    }),
  );
}
