/** What a masked secret is replaced with, everywhere (the API shows the same text for secrets it holds). */
export const REDACTION_MASK = '[redacted]';

/** Secrets shorter than this are not masked: masking "1" or "on" would garble every text. */
const MIN_SECRET_LENGTH = 4;
/** Words of a multi-word secret shorter than this (e.g. "Bearer") are not masked on their own. */
const MIN_PART_LENGTH = 8;

/**
 * Shapes of credentials masked even when nobody configured them: the scheme of an HTTP credential
 * and a URL's user name stay readable, the secret part does not.
 */
const KEY_SHAPES: readonly { pattern: RegExp; keep?: (match: string, ...groups: string[]) => string }[] = [
  // `Authorization: Bearer …`, `Basic …`, `Token …` as sent, quoted, or echoed by a provider; the
  // credential must hold a digit, so prose such as "the token expired" is left alone.
  {
    pattern: /\b([Bb]earer|BEARER|[Bb]asic|Token)(\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}/g,
    keep: (_m, scheme, space) => `${scheme}${space}${REDACTION_MASK}`,
  },
  // OpenAI (`sk-`, `sk-proj-`), Anthropic (`sk-ant-`) and similar API keys.
  { pattern: /\bsk-[A-Za-z0-9_-]{8,}/g },
  // Slack bot, user, app and refresh tokens.
  { pattern: /\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{8,}/g },
  // GitHub tokens.
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}/g },
  // AWS access key ids.
  { pattern: /\bAKIA[0-9A-Z]{16}\b/g },
  // JSON Web Tokens (AgentPin credentials among them): three base64url parts, the first a JSON header.
  { pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  // The password of a URL (`postgres://user:password@host`).
  { pattern: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s/@]+@/gi, keep: (_m, head) => `${head}${REDACTION_MASK}@` },
];

/**
 * Matches wherever one of {@link KEY_SHAPES} may (ignoring case, so now and then where none does):
 * a text it does not match holds no key shape, and is spared the replacements one by one.
 */
const ANY_KEY_SHAPE = new RegExp(KEY_SHAPES.map(({ pattern }) => `(?:${pattern.source})`).join('|'), 'i');

/** Longest text {@link Redactor} remembers as clean. */
const MAX_REMEMBERED_LENGTH = 128;
/** Most clean texts a {@link Redactor} remembers (it forgets them all beyond). */
const MAX_REMEMBERED_TEXTS = 1024;

/** Names of environment variables whose values are treated as secrets. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|PRIVATE|AUTH|JWT|COOKIE|DSN|DATABASE_URL|^SYMBI_DB$)/i;
/**
 * Values of secret-looking variables shorter than this are left alone: a flag such as
 * `AUTH_ENABLED=true` is no secret, and masking "true" would garble every JSON document.
 */
const MIN_ENV_SECRET_LENGTH = 8;

/**
 * The one redaction step for everything the scheduler stores or prints (run errors, agent output
 * and stderr, history, audit details, log lines): every configured secret value, in the forms it
 * is likely to appear in (as is, JSON-escaped, URL-encoded, and each long word of a multi-word
 * value such as `Bearer <token>`), and the common credential shapes (`Bearer …`, `sk-…`,
 * `xoxb-…`, JWTs, URL passwords), each replaced with `[redacted]`.
 *
 * @example
 * ```ts
 * const redactor = Redactor.forEnvironment(process.env, [config.smtpPassword]);
 * redactor.text('401: invalid key sk-abc123…'); // '401: invalid key [redacted]'
 * ```
 */
export class Redactor {
  readonly #fragments: readonly string[];
  /**
   * Short texts found to hold nothing to mask (job names, statuses, empty output): every run's
   * audit event and result pass through {@link text}, mostly with the same few texts. Only clean
   * texts are kept, never one that held a secret.
   */
  #clean = new Set<string>();

  /** A redactor for `secrets` (empty and very short values are ignored) and the common key shapes. */
  constructor(secrets: Iterable<string | null | undefined> = []) {
    this.#fragments = fragmentsOf(secrets);
  }

  /**
   * A redactor for the values of `env` whose names look secret (`*_KEY`, `*_TOKEN`, `*SECRET*`,
   * `*PASSWORD*`, `SYMBI_DB`, …; at least 8 characters) and for `secrets`.
   */
  static forEnvironment(env: Record<string, string | undefined>, secrets: Iterable<string | null | undefined> = []): Redactor {
    const named = Object.entries(env).flatMap(([name, value]) => (value !== undefined && value.length >= MIN_ENV_SECRET_LENGTH && SECRET_NAME.test(name) ? [value] : []));
    return new Redactor([...named, ...secrets]);
  }

  /** A redactor that masks what this one does and `secrets` too. */
  with(secrets: Iterable<string | null | undefined>): Redactor {
    return new Redactor([...this.#fragments, ...secrets]);
  }

  /** `text` with every secret and key shape masked. */
  text(text: string): string {
    const short = text.length <= MAX_REMEMBERED_LENGTH;
    if (short && this.#clean.has(text)) return text;
    const result = this.#mask(text);
    if (short && result === text) {
      if (this.#clean.size >= MAX_REMEMBERED_TEXTS) this.#clean = new Set();
      this.#clean.add(text);
    }
    return result;
  }

  /** {@link text}, without remembering. */
  #mask(text: string): string {
    let result = text;
    for (const fragment of this.#fragments) if (result.includes(fragment)) result = result.split(fragment).join(REDACTION_MASK);
    if (!ANY_KEY_SHAPE.test(result)) return result;
    for (const { pattern, keep } of KEY_SHAPES) {
      result = keep ? result.replace(pattern, (match: string, ...groups: string[]) => keep(match, ...groups)) : result.replace(pattern, REDACTION_MASK);
    }
    return result;
  }

  /** `text` masked, or null kept null. */
  optional(text: string | null): string | null {
    return text === null ? null : this.text(text);
  }

  /** A copy of `value` with every string in it (object values and array items, at any depth) masked. */
  value<T>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((item: unknown) => this.value(item)) as T;
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) return this.copyInto({}, value as Record<string, unknown>) as T;
    return value;
  }

  /**
   * Copies the own enumerable string-keyed properties of `source` into `target`, each masked as by
   * {@link value} (a key `target` has already keeps its place and takes the new value); returns `target`.
   */
  copyInto(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
    for (const key of Object.keys(source)) {
      const item = this.value(source[key]);
      // A plain assignment to `__proto__` would set the prototype rather than add a property.
      if (key === '__proto__') Object.defineProperty(target, key, { value: item, enumerable: true, writable: true, configurable: true });
      else target[key] = item;
    }
    return target;
  }
}

/** Each secret in the forms it shows up in, longest first so a secret is masked whole before its parts. */
function fragmentsOf(secrets: Iterable<string | null | undefined>): string[] {
  const fragments = new Set<string>();
  const add = (text: string, min: number) => {
    if (text.length < min || text === REDACTION_MASK) return;
    fragments.add(text);
    const json = JSON.stringify(text).slice(1, -1);
    if (json !== text) fragments.add(json);
    const encoded = encodeURIComponent(text);
    if (encoded !== text) fragments.add(encoded);
  };
  for (const secret of secrets) {
    if (!secret) continue;
    add(secret, MIN_SECRET_LENGTH);
    for (const part of secret.split(/\s+/)) if (part !== secret) add(part, MIN_PART_LENGTH);
  }
  return [...fragments].sort((a, b) => b.length - a.length);
}
