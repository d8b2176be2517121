import { ExecutionError, type AgentExecutionResult, type ContextMessage } from '@symbi/core';

const ACTIONS = new Set(['sleep', 'continue']);
const ROLES = new Set(['user', 'assistant', 'system']);

/**
 * Checks what an agent answered and keeps only the known fields. A plain string is the output;
 * an object needs a string `output` and may carry `summary`, `action`, `stderr` and `messages`.
 * Anything else is an `ExecutionError` naming the agent and the offending field.
 */
export function toExecutionResult(value: unknown, agentId: string): AgentExecutionResult {
  if (typeof value === 'string') return { output: value };
  const invalid = (why: string) => new ExecutionError(`agent "${agentId}" returned an invalid result: ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('expected a string or an object with a string "output"');
  }
  const record = value as Record<string, unknown>;
  if (typeof record.output !== 'string') throw invalid('"output" must be a string');
  const result: AgentExecutionResult = { output: record.output };
  if (record.summary !== undefined) {
    if (record.summary !== null && typeof record.summary !== 'string') throw invalid('"summary" must be a string or null');
    result.summary = record.summary;
  }
  if (record.action !== undefined) {
    if (typeof record.action !== 'string' || !ACTIONS.has(record.action)) throw invalid('"action" must be "sleep" or "continue"');
    result.action = record.action as 'sleep' | 'continue';
  }
  if (record.stderr !== undefined) {
    if (record.stderr !== null && typeof record.stderr !== 'string') throw invalid('"stderr" must be a string or null');
    result.stderr = record.stderr;
  }
  if (record.messages !== undefined) {
    if (!Array.isArray(record.messages) || !record.messages.every(isContextMessage)) {
      throw invalid('"messages" must be a list of { role, content, at }');
    }
    result.messages = record.messages.map(({ role, content, at }) => ({ role, content, at }));
  }
  return result;
}

function isContextMessage(value: unknown): value is ContextMessage {
  if (typeof value !== 'object' || value === null) return false;
  const { role, content, at } = value as Record<string, unknown>;
  return typeof role === 'string' && ROLES.has(role) && typeof content === 'string' && typeof at === 'string';
}
