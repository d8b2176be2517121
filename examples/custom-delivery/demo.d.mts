import type { CronJobDefinition, JobRunRecord } from '@symbi/core';

/** A job delivering to `stdout` and the custom `jsonl` channel. */
export declare function demoJob(): CronJobDefinition;

/** A finished run of `job`. */
export declare function demoRun(job: CronJobDefinition, scheduledFor?: Date): JobRunRecord;
