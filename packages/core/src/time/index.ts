export type { Schedule, ScheduleSpec } from './schedule.js';
export { compileSchedule, firesBetween } from './schedule.js';
export type { ParseCronOptions, NextRunsOptions } from './cron-schedule.js';
export { parseCron, nextRuns } from './cron-schedule.js';
export { validateTimezone } from './timezone.js';
export { parseInstant } from './instant.js';
export { parseDuration, formatDuration } from './duration.js';
export { parseTimeOfDay, MINUTES_PER_DAY } from './time-of-day.js';
