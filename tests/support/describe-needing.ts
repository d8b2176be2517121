import { beforeAll, describe } from 'vitest';

/**
 * `describe` for tests that need something from outside the repository (a database server, a
 * browser). When `missing` is null they run. Otherwise they are skipped with a visible warning
 * that names what is missing and how to get it, except on CI (`CI` set), where every one of them
 * fails with that message instead: CI must never pass by skipping.
 *
 * @param name The suite's name.
 * @param missing What is missing and how to get it, e.g. `PostgreSQL at … is unreachable (…)`; null when nothing is.
 * @param body The suite.
 * @param who Who says so in the warning, e.g. `store-postgres`.
 */
export function describeNeeding(name: string, missing: string | null, body: () => void, who: string): void {
  if (missing === null) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      beforeAll(() => {
        throw new Error(`${missing}; CI requires it`);
      });
      body();
    });
  } else {
    console.warn(`[${who}] skipping "${name}": ${missing}`);
    describe.skip(name, body);
  }
}

/** Why Linux's `/proc`, which some tests read, is missing here; null on Linux. */
export const procMissing: string | null = process.platform === 'linux' ? null : `this is ${process.platform}: the tests read /proc, which only Linux has`;
