import type { BenchResults } from './results.js';

const pct = (share: number) => `${(share * 100).toFixed(1)} %`;

/**
 * A short reading of the missed targets, drawn from the profiles of the runs that missed them:
 * which area of code and which functions took the CPU time, and which store calls took the longest.
 */
export function readingOf(results: BenchResults): string {
  const missed = results.targets.filter((t) => t.met === false);
  if (missed.length === 0) return 'Every target measured in this run was met.\n';
  const lines = ['Where a target was missed, the profile of a run that missed it (details under *Profiles* below):', ''];
  for (const target of missed) {
    const profile = results.profiles.find((p) => p.target === target.id);
    if (!profile) {
      lines.push(`- *${target.target}*: no profile taken (see the figures of its section).`);
      continue;
    }
    const parts: string[] = [];
    if (profile.cpu) {
      const busy = profile.cpu.areas.filter((a) => !['(idle)', '(program)', '(profiler)'].includes(a.name));
      const top = busy.slice(0, 3).map((a) => `${a.name} ${pct(a.share)}`);
      const idle = profile.cpu.areas.find((a) => a.name === '(idle)');
      parts.push(`CPU by area: ${top.join(', ')}${idle ? `; idle ${pct(idle.share)}` : ''}`);
      const fn = profile.cpu.topFunctions.find((f) => !f.name.startsWith('(') && f.name !== 'dispatch');
      if (fn) parts.push(`hottest function \`${fn.name}\` (${pct(fn.share)})`);
    }
    if (profile.storeCalls) {
      const slowest = Object.entries(profile.storeCalls).slice(0, 3);
      parts.push(`slowest store calls (mean, runs in flight wait on them): ${slowest.map(([name, t]) => `\`${name}\` ${t.meanMs.toFixed(1)} ms × ${t.calls}`).join(', ')}`);
    }
    lines.push(`- *${target.target}*: ${parts.join('; ')}.`);
  }
  return `${lines.join('\n')}\n`;
}
