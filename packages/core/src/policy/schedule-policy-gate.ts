import type { CronJobDefinition } from '../domain/job.js';
import type { AgentContext } from '../domain/session.js';
import { SchedulePolicyDecision, type PolicyGate } from '../ports/policy-gate.js';
import { formatUtcTime, isWithinAllowedHours } from './allowed-hours.js';

/**
 * The built-in gate for a schedule's `policy { … }` block.
 *
 * Conditions are checked in this order, and the first that fails decides:
 * 1. `allowed_hours` (UTC) against `context.now` → Deny naming the window and the time;
 * 2. `allowed_environments` (when non-empty) against `context.environment` → Deny naming both;
 * 3. `require_capabilities` against `context.capabilities` → Deny naming the missing ones;
 * 4. `require_approval` → RequiresApproval from `policy.approver` (default `operator`) with the
 *    policy id `<job name>/require_approval`.
 *
 * Approval comes last on purpose: a human should never be asked to approve a run that would be
 * denied anyway. `max_runtime` is not a start condition; the scheduler enforces it while the run
 * executes. `require_agent_pin` belongs to `AgentPinGate`.
 */
export class SchedulePolicyGate implements PolicyGate {
  /** Name used in logs and audit details. */
  readonly name = 'schedule-policy';

  /** Applies `job.policy` to a run about to start in `context`. */
  evaluate(job: CronJobDefinition, context: AgentContext): SchedulePolicyDecision {
    const policy = job.policy;

    if (policy.allowedHours && !isWithinAllowedHours(policy.allowedHours, context.now)) {
      const { start, end } = policy.allowedHours;
      return SchedulePolicyDecision.deny(
        `outside allowed_hours ${start}-${end} UTC: the run would start at ${formatUtcTime(context.now)} UTC`,
      );
    }

    if (policy.allowedEnvironments.length > 0 && !policy.allowedEnvironments.includes(context.environment)) {
      return SchedulePolicyDecision.deny(
        `environment "${context.environment}" is not in allowed_environments [${policy.allowedEnvironments.join(', ')}]`,
      );
    }

    // Most jobs require no capability: no set of the declared ones is made for them.
    if (policy.requireCapabilities.length > 0) {
      const declared = new Set(context.capabilities);
      const missing = policy.requireCapabilities.filter((capability) => !declared.has(capability));
      if (missing.length > 0) {
        return SchedulePolicyDecision.deny(`agent "${job.agentId}" lacks required capabilities: ${missing.join(', ')}`);
      }
    }

    if (policy.requireApproval) {
      return SchedulePolicyDecision.requiresApproval(
        policy.approver ?? 'operator',
        `job "${job.name}" requires approval before each run`,
        `${job.name}/require_approval`,
      );
    }

    return SchedulePolicyDecision.allow();
  }
}
