/** HTTP methods routes are declared with. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What the router needs of a route: a method and an OpenAPI-style path template (`/a/{id}/b`). */
export interface Routable {
  method: HttpMethod;
  path: string;
}

/** Outcome of matching a request against the table. */
export type RouteMatch<R> =
  | { kind: 'found'; route: R; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allowed: HttpMethod[] }
  | { kind: 'not_found' };

type Segment = { literal: string } | { param: string };

interface Compiled<R> {
  route: R;
  segments: Segment[];
  /** How many of its segments are literal: of the templates a path matches, the most literal win. */
  literals: number;
}

/**
 * Matches decoded path segments against path templates. A parameter matches one non-empty
 * segment, which may contain anything once decoded (`a%2Fb` is the id `a/b`), so path tricks
 * become lookups of ids that do not exist rather than different routes.
 */
export class Router<R extends Routable> {
  readonly #compiled: Compiled<R>[];

  constructor(routes: readonly R[]) {
    this.#compiled = routes.map((route) => {
      const segments = compileTemplate(route.path);
      return { route, segments, literals: segments.filter((s) => 'literal' in s).length };
    });
    const seen = new Set<string>();
    for (const { route, segments } of this.#compiled) {
      const shape = `${route.method} ${segments.map((s) => ('param' in s ? '{}' : s.literal)).join('/')}`;
      if (seen.has(shape)) throw new Error(`two routes share ${route.method} ${route.path}`);
      seen.add(shape);
    }
  }

  /**
   * The route for `method` and the decoded `segments` of a path (`/a/b` is `['a', 'b']`). A literal
   * segment wins over a parameter: `/api/v1/runs/prune` is that route's path for every method, never
   * the run `prune` of `/api/v1/runs/{run_id}`.
   */
  match(method: string, segments: readonly string[]): RouteMatch<R> {
    let allowed: HttpMethod[] = [];
    let found: RouteMatch<R> | null = null;
    let best = -1;
    for (const { route, segments: template, literals } of this.#compiled) {
      if (literals < best) continue;
      const params = matchSegments(template, segments);
      if (params === null) continue;
      if (literals > best) {
        best = literals;
        found = null;
        allowed = [];
      }
      if (route.method === method) found = { kind: 'found', route, params };
      else allowed.push(route.method);
    }
    if (found !== null) return found;
    return allowed.length > 0 ? { kind: 'method_not_allowed', allowed } : { kind: 'not_found' };
  }
}

/** The parameter names of a path template, in order. */
export function templateParams(path: string): string[] {
  return compileTemplate(path).flatMap((s) => ('param' in s ? [s.param] : []));
}

/**
 * Splits a raw request path into decoded segments; null when a percent-escape is malformed.
 * The leading slash yields no segment, so `/` is `[]`.
 */
export function decodePath(rawPath: string): string[] | null {
  const parts = rawPath.split('/').slice(1);
  if (parts.length === 1 && parts[0] === '') return [];
  try {
    return parts.map((part) => decodeURIComponent(part));
  } catch {
    return null;
  }
}

function compileTemplate(path: string): Segment[] {
  return path
    .split('/')
    .slice(1)
    .filter((part, _i, all) => !(all.length === 1 && part === ''))
    .map((part) => {
      const param = /^\{([a-z_]+)\}$/.exec(part);
      return param ? { param: param[1]! } : { literal: part };
    });
}

function matchSegments(template: Segment[], segments: readonly string[]): Record<string, string> | null {
  if (template.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const expected = template[i]!;
    const actual = segments[i]!;
    if ('param' in expected) {
      if (actual === '') return null;
      params[expected.param] = actual;
    } else if (expected.literal !== actual) {
      return null;
    }
  }
  return params;
}
