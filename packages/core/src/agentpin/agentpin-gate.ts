import type { CronJobDefinition } from '../domain/job.js';
import type { AgentContext } from '../domain/session.js';
import { interpolateEnv } from '../env-template.js';
import { AgentPinError, ValidationError } from '../errors.js';
import { SchedulePolicyDecision, type PolicyGate } from '../ports/policy-gate.js';
import { agentPinFailure } from './agentpin-failure.js';
import type { AgentPinVerifier } from './agentpin-verifier.js';

/** Options of {@link AgentPinGate}. */
export interface AgentPinGateOptions {
  /** Verifies credentials; usually an {@link AgentPinVerifier}. */
  verifier: Pick<AgentPinVerifier, 'verify'>;
  /** The domain anchor credentials must come from (`SYMBI_AGENTPIN_DOMAIN`). */
  domain: string;
  /** Audiences a credential's `aud` may name (default: the domain anchor). */
  audience?: readonly string[];
  /** Verify every job, not only those with `require_agent_pin` (`SYMBI_AGENTPIN_REQUIRED`); default false. */
  required?: boolean;
  /** Where `${VAR}` references in `agent_pin_jwt` are looked up; default `process.env` at evaluation time. */
  env?: Record<string, string | undefined>;
  /**
   * Called once per refused credential, before the gate answers Deny; the scheduler writes the
   * `AgentPinVerificationFailed` audit event here. An error it throws propagates out of
   * `evaluate`, so a lost audit write fails the run rather than going unnoticed.
   */
  onFailure?: (job: CronJobDefinition, error: AgentPinError) => void | Promise<void>;
}

/**
 * The gate for `require_agent_pin`. For a job whose policy requires AgentPin (or every job, when
 * `required`), it resolves `agent_pin_jwt` (usually `${AGENT_PIN_JWT}`) from the environment at
 * evaluation time, verifies it against the job's agent and the domain anchor at the run's `now`,
 * and answers Deny when it fails, with a reason naming the failure tag and never the token.
 * A job with no `agent_pin_jwt`, or whose variable is unset, fails with the tag `missing`.
 * Other jobs are allowed without looking at their credential.
 */
export class AgentPinGate implements PolicyGate {
  /** Name used in logs and audit details. */
  readonly name = 'agentpin';
  readonly #options: AgentPinGateOptions;

  /** A gate verifying with `options.verifier` against `options.domain`. */
  constructor(options: AgentPinGateOptions) {
    this.#options = options;
  }

  /** Allows, or denies with the AgentPin failure tag. */
  async evaluate(job: CronJobDefinition, context: AgentContext): Promise<SchedulePolicyDecision> {
    const { verifier, domain, audience, required = false, onFailure } = this.#options;
    if (!required && !job.policy.requireAgentPin) return SchedulePolicyDecision.allow();
    try {
      await verifier.verify(this.#credentialOf(job), { agentId: job.agentId, domain, now: context.now, ...(audience && { audience }) });
      return SchedulePolicyDecision.allow();
    } catch (error) {
      if (!(error instanceof AgentPinError)) throw error;
      await onFailure?.(job, error);
      return SchedulePolicyDecision.deny(`AgentPin verification failed (${error.reason}): ${error.message}`);
    }
  }

  /** The job's credential, resolved now and never kept. */
  #credentialOf(job: CronJobDefinition): string {
    if (job.agentPinJwt === null || job.agentPinJwt.trim() === '') {
      throw agentPinFailure('missing', `job "${job.name}" has no agent_pin_jwt`);
    }
    let credential: string;
    try {
      credential = interpolateEnv(job.agentPinJwt, this.#options.env ?? process.env, 'agent_pin_jwt');
    } catch (error) {
      if (error instanceof ValidationError) throw agentPinFailure('missing', error.message, error);
      throw error;
    }
    if (credential.trim() === '') throw agentPinFailure('missing', 'agent_pin_jwt resolved to an empty value');
    return credential;
  }
}
