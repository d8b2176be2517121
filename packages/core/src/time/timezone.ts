import { ValidationError } from '../errors.js';

const MAX_KNOWN = 1024;
const known = new Map<string, string>();

/**
 * Checks that `tz` names an IANA time zone the runtime knows (`Europe/Paris`, `UTC`,
 * `America/New_York`, aliases such as `US/Eastern`) and returns it. A name that differs from the
 * canonical one only in letter case is returned in canonical case (`utc` → `UTC`); any other
 * accepted name is returned as written, so a job keeps the zone its author chose.
 *
 * Offsets (`+02:00`), abbreviations that are not zone names (`CEST`) and garbage are refused with
 * a `ValidationError` naming `field` and the value.
 */
export function validateTimezone(tz: string, field = 'timezone'): string {
  const hit = known.get(tz);
  if (hit !== undefined) return hit;
  if (typeof tz !== 'string' || tz.trim().length === 0) {
    throw new ValidationError(field, 'must be an IANA time zone name such as Europe/Paris or UTC', tz);
  }
  if (/^[+-]\d/.test(tz)) {
    throw new ValidationError(field, `"${tz}" is an offset, not a time zone; use an IANA name such as Europe/Paris (or Etc/GMT-2 for a fixed +02:00)`, tz);
  }
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new ValidationError(field, `unknown time zone "${tz}"; use an IANA name such as Europe/Paris or UTC`, tz);
  }
  const name = resolved.toLowerCase() === tz.toLowerCase() ? resolved : tz;
  if (known.size >= MAX_KNOWN) known.clear();
  known.set(tz, name);
  return name;
}
