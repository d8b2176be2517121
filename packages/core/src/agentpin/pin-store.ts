import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreError } from '../errors.js';

/**
 * Remembers the key first seen for each (domain, kid), so that a discovery document that later
 * swaps the key behind a known kid is caught (trust on first use). Keys are held as their RFC 7638
 * JWK thumbprints. Domains are passed lower-cased by the verifier.
 */
export interface PinStore {
  /** The pinned thumbprint for (domain, kid), or null when none is pinned yet. */
  get(domain: string, kid: string): Promise<string | null>;
  /**
   * Pins `thumbprint` for (domain, kid) unless a thumbprint is already pinned, and returns the one
   * that is pinned afterwards, so that two first uses racing each other agree on one key.
   */
  pinIfAbsent(domain: string, kid: string, thumbprint: string): Promise<string>;
  /** Forgets the pin for (domain, kid), e.g. after an operator accepted a new key; true if one existed. */
  delete(domain: string, kid: string): Promise<boolean>;
}

/** Pins as stored: domain → kid → thumbprint. */
type PinTable = Record<string, Record<string, string>>;

function lookup(table: PinTable, domain: string, kid: string): string | null {
  return Object.hasOwn(table, domain) && Object.hasOwn(table[domain]!, kid) ? table[domain]![kid]! : null;
}

function pinInto(table: PinTable, domain: string, kid: string, thumbprint: string): void {
  table[domain] = { ...(Object.hasOwn(table, domain) ? table[domain] : {}), [kid]: thumbprint };
}

function removeFrom(table: PinTable, domain: string, kid: string): boolean {
  if (lookup(table, domain, kid) === null) return false;
  delete table[domain]![kid];
  if (Object.keys(table[domain]!).length === 0) delete table[domain];
  return true;
}

/** Pins held in memory: forgotten on restart, so every restart is a new first use. */
export class InMemoryPinStore implements PinStore {
  readonly #pins: PinTable = Object.create(null) as PinTable;

  /** The pinned thumbprint, or null. */
  async get(domain: string, kid: string): Promise<string | null> {
    return lookup(this.#pins, domain, kid);
  }

  /** Pins unless pinned; returns the pinned thumbprint. */
  async pinIfAbsent(domain: string, kid: string, thumbprint: string): Promise<string> {
    const pinned = lookup(this.#pins, domain, kid);
    if (pinned !== null) return pinned;
    pinInto(this.#pins, domain, kid, thumbprint);
    return thumbprint;
  }

  /** Forgets a pin. */
  async delete(domain: string, kid: string): Promise<boolean> {
    return removeFrom(this.#pins, domain, kid);
  }
}

/**
 * Pins kept in a JSON file, `{ "pins": { "<domain>": { "<kid>": "<thumbprint>" } } }`, so they
 * survive restarts. The file is read on every call (an operator may edit it) and rewritten
 * atomically (temporary file, then rename). Calls within one process are serialised; several
 * processes should not share one file, since nothing locks it across processes. A file that is not
 * valid JSON of that form makes every call throw `StoreError` rather than silently re-pin keys.
 */
export class FilePinStore implements PinStore {
  readonly #path: string;
  #queue: Promise<unknown> = Promise.resolve();

  /** Keeps pins in the file at `path` (created, with its directory, on the first pin). */
  constructor(path: string) {
    this.#path = path;
  }

  /** The pinned thumbprint, or null. */
  get(domain: string, kid: string): Promise<string | null> {
    return this.#serialised(async () => lookup(await this.#read(), domain, kid));
  }

  /** Pins unless pinned; returns the pinned thumbprint. */
  pinIfAbsent(domain: string, kid: string, thumbprint: string): Promise<string> {
    return this.#serialised(async () => {
      const table = await this.#read();
      const pinned = lookup(table, domain, kid);
      if (pinned !== null) return pinned;
      pinInto(table, domain, kid, thumbprint);
      await this.#write(table);
      return thumbprint;
    });
  }

  /** Forgets a pin. */
  delete(domain: string, kid: string): Promise<boolean> {
    return this.#serialised(async () => {
      const table = await this.#read();
      if (!removeFrom(table, domain, kid)) return false;
      await this.#write(table);
      return true;
    });
  }

  #serialised<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task, task);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #read(): Promise<PinTable> {
    let text: string;
    try {
      text = await readFile(this.#path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Object.create(null) as PinTable;
      throw error;
    }
    let pins: unknown;
    try {
      pins = (JSON.parse(text) as { pins?: unknown } | null)?.pins;
    } catch (error) {
      throw new StoreError(`pin file ${this.#path} is not valid JSON`, { cause: error });
    }
    if (!isPinTable(pins)) throw new StoreError(`pin file ${this.#path} is not of the form { "pins": { domain: { kid: thumbprint } } }`);
    return Object.assign(Object.create(null) as PinTable, pins);
  }

  async #write(table: PinTable): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true });
    const temporary = `${this.#path}.${randomUUID()}.tmp`;
    await writeFile(temporary, `${JSON.stringify({ pins: table }, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.#path);
  }
}

function isPinTable(value: unknown): value is PinTable {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  return isObject(value) && Object.values(value).every((kids) => isObject(kids) && Object.values(kids).every((t) => typeof t === 'string'));
}
