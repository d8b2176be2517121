import { Session } from 'node:inspector/promises';
import { findSourceMap } from 'node:module';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  children?: number[];
}

/** The parts of a V8 CPU profile (`Profiler.stop`, `.cpuprofile`) the summary reads. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of one function or one area of code in a CPU profile. */
export interface ProfileEntry {
  /** Function (`name file:line`) or area (a package, node internals, GC, idle). */
  name: string;
  /** Self time (ms). */
  selfMs: number;
  /** Share of the profile's sampled time, 0..1. */
  share: number;
}

/** A `.cpuprofile` summarised: where the process spent its time. */
export interface ProfileSummary {
  /** Sampled time in all (ms). */
  totalMs: number;
  /** Self time by area of code, largest first. */
  areas: ProfileEntry[];
  /** Functions with the most self time. */
  topFunctions: ProfileEntry[];
}

/** The area a script belongs to: one of our packages, a dependency, node itself, or a VM state. */
export function areaOf(url: string, functionName: string): string {
  // The inspector's own message dispatch: the cost of stopping the profiler, not of the benchmark.
  if (url === '' && functionName === 'dispatch') return '(profiler)';
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/packages\/([^/]+)\//.exec(url);
  if (ours) return `@symbi/${ours[1]}`;
  const dependency = /\/node_modules\/\.pnpm\/(@?[^@/]+(?:\+[^@/]+)?)@/.exec(url) ?? /\/node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(url);
  if (dependency) return dependency[1]!.replace('+', '/');
  if (url.includes('/bench/')) return 'benchmark harness';
  return url;
}

/** The last three parts of a script's path: enough to tell `core/dist/index.js` from `pg/lib/client.js`. */
function shortUrl(url: string): string {
  return url.split('/').slice(-3).join('/');
}

/**
 * Where a frame's code came from: through the source map of a bundled script (the benchmark bundles
 * the built `@symbi/*` packages), the file and line it was bundled from; otherwise the script itself.
 */
function originalLocation(frame: ProfileNode['callFrame']): { url: string; line: number } {
  const map = frame.url.startsWith('file:') ? findSourceMap(frame.url) : undefined;
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber ?? 0) as { originalSource?: string; originalLine?: number } | undefined;
  if (entry?.originalSource) return { url: entry.originalSource, line: entry.originalLine ?? frame.lineNumber };
  return { url: frame.url, line: frame.lineNumber };
}

/** Sums the self time of a V8 CPU profile by function and by area of code. */
export function summariseCpuProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    totalUs += us;
    const where = originalLocation(frame);
    const name = where.url === '' ? frame.functionName || '(unnamed native code)' : `${frame.functionName || '(anonymous)'} ${shortUrl(where.url)}:${where.line + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = areaOf(where.url, frame.functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const entries = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, selfMs: us / 1000, share: totalUs === 0 ? 0 : us / totalUs }));
  return { totalMs: totalUs / 1000, areas: entries(areas), topFunctions: entries(functions).slice(0, top) };
}

/**
 * Samples this process's CPU over a window of its own choosing (the measured part of a benchmark,
 * not its setup), through the inspector, every 200 µs.
 */
export class WindowProfiler {
  readonly #session = new Session();

  /** Starts sampling. */
  async start(): Promise<void> {
    this.#session.connect();
    await this.#session.post('Profiler.enable');
    await this.#session.post('Profiler.setSamplingInterval', { interval: 200 });
    await this.#session.post('Profiler.start');
  }

  /** Stops sampling and summarises what it saw. */
  async stop(): Promise<ProfileSummary> {
    const { profile } = await this.#session.post('Profiler.stop');
    this.#session.disconnect();
    return summariseCpuProfile(profile as CpuProfile);
  }
}
