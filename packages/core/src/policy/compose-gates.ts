import type { CronJobDefinition } from '../domain/job.js';
import type { AgentContext } from '../domain/session.js';
import { SchedulePolicyDecision, type PolicyGate } from '../ports/policy-gate.js';

/**
 * One gate made of several, evaluated one after another in the given order. The first decision
 * that is not `Allow` (a Deny or a RequiresApproval) is returned at once and the remaining gates
 * are not consulted; when every gate allows, so does the composite. An empty list allows.
 *
 * Order therefore matters: put gates that can only deny (AgentPin, host checks) before gates
 * that may ask for approval (the schedule policy), so that nobody is asked to approve a run a
 * later gate would have refused. An error thrown by a gate propagates unchanged.
 *
 * @example
 * ```ts
 * const gate = composeGates([agentPinGate, new SchedulePolicyGate()]);
 * ```
 */
export function composeGates(gates: readonly PolicyGate[]): PolicyGate {
  const members = [...gates];
  return {
    name: members.map((gate) => gate.name).join('+') || 'allow-all',
    async evaluate(job: CronJobDefinition, context: AgentContext): Promise<SchedulePolicyDecision> {
      for (const gate of members) {
        const decision = await gate.evaluate(job, context);
        if (decision.kind !== 'Allow') return decision;
      }
      return SchedulePolicyDecision.allow();
    },
  };
}
