import { ValidationError } from './errors.js';

/** `$${` (an escaped, literal `${`) or a `${VAR}` / `${VAR:-default}` reference. */
const TOKEN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Which `${VAR}` references a value may keep: every one (`'all'`, for text an operator wrote, such
 * as configuration and DSL files) or only those naming a variable on the list.
 */
export type EnvReferencePolicy = 'all' | readonly string[];

/** True when `text` holds at least one `${VAR}` reference (an escaped `$${…}` is not one). */
export function hasEnvReference(text: string): boolean {
  return referencedVariables(text).length > 0;
}

/** The variables `text` references with `${VAR}`, in order of first appearance. */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(TOKEN)) if (match[1] !== undefined) names.add(match[1]);
  return [...names];
}

/**
 * Replaces `${VAR}` (and `${VAR:-default}`) references with values from `env`; `$${` stands for a
 * literal `${`. A reference to a variable that is unset and has no default throws a
 * `ValidationError` naming `field` and the variable (never its value). Used at run or send time,
 * so secrets are never stored resolved.
 */
export function interpolateEnv(
  text: string,
  env: Record<string, string | undefined> = process.env,
  field = 'value',
): string {
  return text.replace(TOKEN, (_match, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return '${';
    const value = env[name];
    if (value !== undefined) return value;
    if (fallback !== undefined) return fallback;
    throw new ValidationError(field, `environment variable ${name} is not set`, `\${${name}}`);
  });
}

/**
 * `text` made literal for {@link interpolateEnv}, except references to the variables `allowed`
 * names: every other `${` becomes `$${`, so `interpolateEnv(literalEnvText(t, []))` gives back `t`
 * exactly. Values that arrive through the API pass through here, so a caller can never read the
 * scheduler's environment with `${SYMBI_API_KEY}`.
 */
export function literalEnvText(text: string, allowed: EnvReferencePolicy): string {
  if (allowed === 'all') return text;
  return text.replace(/\$\{(?:([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\})?/g, (match, name: string | undefined) =>
    name !== undefined && allowed.includes(name) ? match : `$${match}`,
  );
}
