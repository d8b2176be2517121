import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describeNeeding } from '../../../tests/support/describe-needing.js';

/** How the project obtains Chromium (README, test section); `.ci/run` does the same. */
const INSTALL_HINT = 'install it with `apt-get install chromium`, or set CHROMIUM_PATH to a Chromium binary';

/** Flags for a headless Chromium on a shared machine without a sandbox or network chatter. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run'];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `CHROMIUM_PATH` when set, else the `chromium` on PATH (Debian's package); null when there is none. */
function findChromium(): string | null {
  const override = process.env.CHROMIUM_PATH;
  const candidates = override ? [override] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'chromium'));
  return candidates.find(isExecutable) ?? null;
}

const chromium = findChromium();

/**
 * `describe` for tests that drive a real Chromium, whose path `body` receives. Without Chromium
 * the tests are skipped with a visible warning, except on CI (`CI` set), where they fail instead.
 */
export function describeChromium(name: string, body: (executablePath: string) => void): void {
  const why = process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH} is not an executable` : 'no chromium on PATH';
  describeNeeding(name, chromium === null ? `Chromium is missing (${why}): ${INSTALL_HINT}` : null, () => body(chromium ?? ''), 'server');
}
