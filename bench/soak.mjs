#!/usr/bin/env node
/**
 * `pnpm soak`: three scheduler instances on one PostgreSQL schema under load (a few hundred jobs:
 * every-second and every-few-seconds schedules, one-shots, agents that fail and are retried), with
 * random `kill -9` and restarts of the instances and random API traffic (add, update, pause,
 * resume, run now, remove) from a separate process. At the end every fire is checked: none ran
 * twice, none due while its job was active was lost, no run is stuck.
 *
 * Usage: node bench/soak.mjs [--minutes N (default 30)] [--ci (3 minutes)] [--url postgres://…]
 *                            [--seed N] [--keep (keep the schema and logs; kept anyway on a violation)]
 *
 * Progress goes to stderr; stdout gets ONE summary line. Exit code 0 when every count of a
 * violation is zero, 1 when one is not, 2 when the soak could not run.
 */
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../tests/processes/worker-control.mjs';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';
/** Violations listed in detail on stderr, at most this many of each kind. */
const DETAILS = 20;

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    ci: { type: 'boolean', default: false },
    url: { type: 'string', default: process.env.SYMBI_TEST_POSTGRES_URL ?? process.env.DATABASE_URL ?? DEFAULT_URL },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes ?? (values.ci ? 3 : 30));
const seed = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
if (!(minutes > 0) || !Number.isInteger(seed)) {
  process.stderr.write('soak: --minutes must be a positive number and --seed a whole number\n');
  process.exit(2);
}

/** @param {string} line */
const progress = (line) => process.stderr.write(`${line}\n`);

try {
  ensureBuilt();
  const { isClean, runSoak } = await import('./soak/run-soak.mjs');
  const report = await runSoak({ minutes, url: /** @type {string} */ (values.url), seed, keep: values.keep, progress });
  const violations = {
    duplicates: report.duplicates,
    lost: report.lost,
    stuck: report.stuck,
    unretried: report.unretried,
    inconsistent: report.inconsistent,
    'unexpected exits': report.unexpectedExits,
  };
  for (const [kind, list] of Object.entries(violations)) {
    for (const item of list.slice(0, DETAILS)) progress(`soak: ${kind}: ${item}`);
    if (list.length > DETAILS) progress(`soak: ${kind}: … and ${list.length - DETAILS} more`);
  }
  for (const item of report.droppedLate.slice(0, DETAILS)) progress(`soak: dropped late: ${item}`);
  if (report.clockSteps.length > 0) progress(`soak: wall-clock steps the schedulers noticed (ms): ${report.clockSteps.join(', ')}`);
  if (report.kept) progress(`soak: kept for inspection: schema ${report.kept.schema}, logs in ${report.kept.dir}`);
  process.stdout.write(
    `soak: ${report.fires} fires, ${report.duplicates.length} duplicates, ${report.lost.length} lost, ${report.stuck.length} stuck, ` +
      `${report.interruptedRetried} interrupted+retried, ${report.kills} kills in ${report.seconds} s ` +
      `(${report.unretried.length} unretried, ${report.inconsistent.length} inconsistent, ${report.unexpectedExits.length} unexpected exits; ` +
      `${report.expected} expected fires checked, ${report.jobs} jobs, ${report.calls} API calls (${report.rejected} refused), ` +
      `${report.unrecorded} completions cut off by kills, ${report.droppedLate.length} fires a scheduler reported dropping (missed, or overdue when rescheduled or paused), ` +
      `${report.clockSteps.length} wall-clock steps noticed, seed ${seed})\n`,
  );
  process.exit(isClean(report) ? 0 : 1);
} catch (error) {
  progress(`soak: could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(2);
}
