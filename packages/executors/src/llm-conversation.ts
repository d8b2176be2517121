import type { AgentDefinition, AgentExecutionRequest } from '@symbi/core';

/** One turn of a chat, in the roles both wire formats share. */
export interface ChatTurn {
  /** Who speaks. */
  role: 'user' | 'assistant';
  /** What is said. */
  content: string;
}

/** What an LLM agent is told for one execution, before it is put in a provider's wire format. */
export interface Conversation {
  /** The system prompt, followed by any system entries of the shared history; null when empty. */
  system: string | null;
  /** Alternating turns, starting with the user and ending with the user's request for this run. */
  turns: ChatTurn[];
}

/** Opens the turns when a shared history starts with the assistant, since chat APIs start with the user. */
const RESUMED_NOTE = '(Earlier conversation follows.)';

/**
 * Builds the conversation for one execution: the shared history (`shared_persistent`) as prior
 * turns, then one user turn with the previous run's summary (`ephemeral_with_summary`) as a note
 * before the input. Consecutive turns of one role are merged so roles alternate.
 */
export function buildConversation(agent: AgentDefinition, request: AgentExecutionRequest): Conversation {
  const { context, input, job } = request;
  const system = [agent.systemPrompt ?? ''];
  const turns: ChatTurn[] = [];
  for (const message of context.history) {
    if (message.role === 'system') system.push(message.content);
    else turns.push({ role: message.role, content: message.content });
  }
  const prompt = [
    context.previousSummary ? `Summary of the previous run:\n${context.previousSummary}` : '',
    input?.trim() ? input : `Run the scheduled task "${job.name}".`,
  ];
  turns.push({ role: 'user', content: joinParts(prompt) });
  if (turns[0]!.role === 'assistant') turns.unshift({ role: 'user', content: RESUMED_NOTE });
  const systemText = joinParts(system);
  return { system: systemText === '' ? null : systemText, turns: mergeSameRole(turns) };
}

function joinParts(parts: string[]): string {
  return parts.filter((part) => part.trim() !== '').join('\n\n');
}

function mergeSameRole(turns: ChatTurn[]): ChatTurn[] {
  const merged: ChatTurn[] = [];
  for (const turn of turns) {
    const last = merged[merged.length - 1];
    if (last && last.role === turn.role) last.content = joinParts([last.content, turn.content]);
    else merged.push({ ...turn });
  }
  return merged;
}
