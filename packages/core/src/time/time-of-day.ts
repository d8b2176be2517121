import { ValidationError } from '../errors.js';

/** Minutes in a day: what `24:00` (the end of the day) parses to. */
export const MINUTES_PER_DAY = 1440;

/**
 * Parses `HH:MM` (00:00-23:59, and `24:00` for the end of a day, as in an allowed-hours window
 * ending at midnight) into minutes since midnight. Anything else throws a `ValidationError`
 * naming `field` and the value.
 */
export function parseTimeOfDay(text: string, field: string): number {
  const match = typeof text === 'string' ? /^(\d{2}):(\d{2})$/.exec(text) : null;
  if (match === null) throw new ValidationError(field, `"${String(text)}" is not a time of day HH:MM such as 09:30`, text);
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (hours === 24 && minutes === 0) return MINUTES_PER_DAY;
  if (hours > 23) throw new ValidationError(field, `"${text}": hour ${hours} is out of range 00-23 (24:00 alone marks the end of the day)`, text);
  if (minutes > 59) throw new ValidationError(field, `"${text}": minute ${minutes} is out of range 00-59`, text);
  return hours * 60 + minutes;
}
