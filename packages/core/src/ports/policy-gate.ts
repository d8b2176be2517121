import type { CronJobDefinition } from '../domain/job.js';
import type { AgentContext } from '../domain/session.js';

/** The spec's `SchedulePolicyDecision`: exactly Allow, Deny or RequiresApproval. */
export type SchedulePolicyDecision =
  | { kind: 'Allow' }
  | { kind: 'Deny'; reason: string }
  | { kind: 'RequiresApproval'; approver: string; reason: string; policyId: string };

/** Builders for {@link SchedulePolicyDecision} values. */
export const SchedulePolicyDecision = {
  /** Let the run go ahead. */
  allow: (): SchedulePolicyDecision => ({ kind: 'Allow' }),
  /** Refuse the run; it is recorded `denied` with `reason`. */
  deny: (reason: string): SchedulePolicyDecision => ({ kind: 'Deny', reason }),
  /** Hold the run until `approver` decides. */
  requiresApproval: (approver: string, reason: string, policyId: string): SchedulePolicyDecision => ({
    kind: 'RequiresApproval',
    approver,
    reason,
    policyId,
  }),
};

/**
 * Decides whether a run may execute. Gates compose: the scheduler runs them in order and the
 * first decision that is not `Allow` wins.
 */
export interface PolicyGate {
  /** A short name for logs and audit details. */
  readonly name: string;
  /** Evaluates the job's policy in the run's context. */
  evaluate(job: CronJobDefinition, context: AgentContext): SchedulePolicyDecision | Promise<SchedulePolicyDecision>;
}
