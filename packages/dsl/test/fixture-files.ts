import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Directory of the spec's examples, copied verbatim. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** The text of one fixture file. */
export function fixture(name: string): string {
  return readFileSync(`${FIXTURES}${name}`, 'utf8');
}

/** Every fixture file name ending in `extension`. */
export function fixtureNames(extension: '.symbi' | '.toml'): string[] {
  return readdirSync(FIXTURES).filter((name) => name.endsWith(extension)).sort();
}
