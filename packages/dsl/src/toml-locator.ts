/** 1-based line and column of a TOML key. */
export interface TomlLocation {
  line: number;
  column: number;
}

const HEADER = /^(\s*)\[\[?([^\]]*)\]\]?/;
const ASSIGNMENT = /^(\s*)((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/;

function splitKey(key: string): string[] {
  const parts: string[] = [];
  for (const match of key.matchAll(/"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+)/g)) {
    parts.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return parts;
}

function isPrefix(prefix: string[], path: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((part, index) => part === path[index]);
}

/**
 * Where `path` (e.g. `['scheduler', 'delivery', 'smtp_port']`) is written in a TOML text: the line
 * of its `key = …` or `[table]` header, or else of its nearest written ancestor. smol-toml reports
 * positions only for syntax errors, so this scans the text line by line, following `[table]`
 * headers; a line inside a multi-line string may mislead it, which costs only a less precise caret.
 */
export function locateTomlKey(source: string, path: readonly string[]): TomlLocation | undefined {
  let table: string[] = [];
  let best: (TomlLocation & { depth: number }) | undefined;
  const consider = (candidate: string[], line: number, column: number): void => {
    if (candidate.length > 0 && isPrefix(candidate, path) && (best === undefined || candidate.length > best.depth)) {
      best = { line, column, depth: candidate.length };
    }
  };
  source.split('\n').forEach((text, index) => {
    const header = HEADER.exec(text);
    if (header !== null) {
      table = splitKey(header[2] as string);
      consider(table, index + 1, (header[1] as string).length + 1);
      return;
    }
    const assignment = ASSIGNMENT.exec(text);
    if (assignment !== null) consider([...table, ...splitKey(assignment[2] as string)], index + 1, (assignment[1] as string).length + 1);
  });
  return best === undefined ? undefined : { line: best.line, column: best.column };
}
