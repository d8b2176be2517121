import type { AgentExecutionResult } from '../ports/agent-executor.js';

/**
 * Whether a heartbeat agent asked to sleep: its own `action` when given, else a final output line
 * `sleep` (any case), or output that is JSON `{"action":"sleep"}` (alone or on the last line).
 */
export function heartbeatAction(result: AgentExecutionResult): 'sleep' | 'continue' {
  if (result.action) return result.action;
  const lines = result.output.trim().split(/\r?\n/);
  const last = (lines[lines.length - 1] ?? '').trim();
  if (last.toLowerCase() === 'sleep') return 'sleep';
  for (const candidate of [result.output.trim(), last]) {
    if (!candidate.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(candidate);
      if (typeof parsed === 'object' && parsed !== null && (parsed as { action?: unknown }).action === 'sleep') return 'sleep';
    } catch {
      // not JSON: the agent wants another iteration
    }
  }
  return 'continue';
}
