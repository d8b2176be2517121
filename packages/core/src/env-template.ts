import { ValidationError } from './errors.js';

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** True when `text` holds at least one `${VAR}` reference. */
export function hasEnvReference(text: string): boolean {
  REFERENCE.lastIndex = 0;
  return REFERENCE.test(text);
}

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) references with values from `env`. A reference to a
 * variable that is unset and has no default throws a `ValidationError` naming `field` and the
 * variable (never its value). Used at run or send time, so secrets are never stored resolved.
 */
export function interpolateEnv(
  text: string,
  env: Record<string, string | undefined> = process.env,
  field = 'value',
): string {
  return text.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
    const value = env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ValidationError(field, `environment variable ${name} is not set`, `\${${name}}`);
  });
}
