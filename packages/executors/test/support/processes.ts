import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Whether `pid` is a live process (a zombie counts as gone: it runs nothing and holds nothing). */
export function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

/** A shell command that runs one of the scripts of `test/scripts` with this Node. */
export function nodeScript(name: string, ...args: string[]): string {
  const script = fileURLToPath(new URL(`../scripts/${name}`, import.meta.url));
  return [process.execPath, script, ...args].map(shellQuote).join(' ');
}

/** A shell command that runs `code` with `node -e`. */
export function nodeEval(code: string): string {
  return `${shellQuote(process.execPath)} -e ${shellQuote(code)}`;
}

/** Quotes a word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The pids a script wrote to `file` once it exists ("<child> <grandchild>"). */
export function readPids(file: string): number[] {
  const text = readFileSync(file, 'utf8').trim();
  if (!/^\d+( \d+)*$/.test(text)) throw new Error(`no pids in ${file} yet`);
  return text.split(' ').map(Number);
}
