import type { AllowedHours } from '../domain/job.js';
import { MINUTES_PER_DAY, parseTimeOfDay } from '../time/index.js';

const DAY_MS = MINUTES_PER_DAY * 60_000;

/**
 * True when `at` (read in UTC) falls inside the daily window `hours`: the start is inclusive and the
 * end exclusive, so `00:00`–`04:00` admits 03:59:59 but not 04:00:00. An end earlier than the start
 * crosses midnight (`22:00`–`02:00` admits 23:30 and 01:30); `00:00`–`24:00` admits the whole day.
 * A start equal to its end is an empty window that admits nothing, since a zero-length half-open
 * interval holds no instant; write `00:00`–`24:00` to mean "always".
 *
 * Throws `ValidationError` (field `policy.allowed_hours.start` / `.end`) for a malformed time.
 */
export function isWithinAllowedHours(hours: AllowedHours, at: Date): boolean {
  const start = parseTimeOfDay(hours.start, 'policy.allowed_hours.start');
  const end = parseTimeOfDay(hours.end, 'policy.allowed_hours.end');
  // Seconds and milliseconds count, so 03:59:59.999 is still before an 04:00 end.
  const minute = (((at.getTime() % DAY_MS) + DAY_MS) % DAY_MS) / 60_000;
  if (start <= end) return minute >= start && minute < end;
  return minute >= start || minute < end;
}

/** `HH:MM:SS` of `at` in UTC, for reasons shown to users. */
export function formatUtcTime(at: Date): string {
  return at.toISOString().slice(11, 19);
}
