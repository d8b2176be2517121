import {
  AUDIT_LEVELS,
  CATCHUP_POLICIES,
  OVERLAP_POLICIES,
  SESSION_MODES,
  type HeartbeatConfig,
  type JobSpec,
  type SchedulePolicy,
} from '@symbi/core';
import { readDeliver } from './deliver-uri.js';
import type { FieldReader } from './field-reader.js';
import type { SourcePosition } from './source-excerpt.js';
import type { BlockNode } from './syntax.js';

/**
 * One `schedule { … }` block: the job it describes and where each field was written.
 *
 * `positions` maps the dotted snake_case path of every field as written (`cron`,
 * `policy.max_runtime`, `policy.allowed_hours.start`, `delivery[1]`, `webhook_headers.Authorization`)
 * to the position of its value; the key `schedule` holds the position of the `schedule` keyword.
 */
export interface ScheduleBlock {
  spec: JobSpec;
  positions: Record<string, SourcePosition>;
  /** `policy: "NAME"`: a named `policy NAME { … }` of any loaded file, resolved by `toJobSpecs`. */
  policyRef: string | null;
}

/**
 * Reads the body of a `schedule` block into a {@link JobSpec}; only fields written appear in it.
 * `label` is the Symbiont form's name (`schedule morning_report { … }`); a `name` field must agree.
 */
export function readSchedule(
  reader: FieldReader,
  block: BlockNode,
  keyword: SourcePosition,
  label: { name: string; position: SourcePosition } | null = null,
): ScheduleBlock {
  const spec: Partial<JobSpec> = {};
  const policy: Partial<SchedulePolicy> = {};
  let policyRef: string | null = null;
  let oneShot: boolean | undefined;
  reader.positions.schedule = keyword;
  if (label !== null) {
    spec.name = label.name;
    reader.positions.name = label.position;
  }
  reader.fields(block, 'schedule', '', {
    name: (v, p) => {
      const name = reader.string(v, p);
      if (label !== null && name !== label.name) {
        throw reader.error(v.position, p, `\`name\` "${name}" disagrees with the schedule's label \`${label.name}\`; keep one of them`, { value: name });
      }
      spec.name = name;
    },
    agent: (v, p) => (spec.agentId = reader.string(v, p)),
    cron: (v, p) => (spec.cronExpr = reader.string(v, p)),
    at: (v, p) => (spec.at = reader.string(v, p)),
    timezone: (v, p) => (spec.timezone = reader.string(v, p)),
    session_mode: (v, p) => (spec.sessionMode = reader.oneOf(v, p, SESSION_MODES)),
    delivery: (v, p) => (spec.delivery = reader.stringList(v, p)),
    webhook_url: (v, p) => (spec.webhookUrl = reader.string(v, p)),
    webhook_headers: (v, p) => (spec.webhookHeaders = reader.stringMap(v, p)),
    slack_channel: (v, p) => (spec.slackChannel = reader.string(v, p)),
    email_recipients: (v, p) => (spec.emailRecipients = reader.stringList(v, p)),
    input: (v, p) => (spec.input = reader.string(v, p)),
    policy: (v, p) => {
      if (v.kind === 'string') policyRef = v.value;
      else Object.assign(policy, readPolicy(reader, reader.block(v, p), p));
    },
    audit: (v, p) => (policy.audit = reader.oneOf(v, p, AUDIT_LEVELS)),
    one_shot: (v, p) => (oneShot = reader.boolean(v, p)),
    deliver: (v, p) => readDeliver(reader, v, p, spec),
    heartbeat: (v, p) => (spec.heartbeat = readHeartbeat(reader, reader.block(v, p), p)),
    max_concurrent: (v, p) => (spec.maxConcurrent = reader.integer(v, p, 1)),
    max_retries: (v, p) => (spec.maxRetries = reader.integer(v, p)),
    agent_pin_jwt: (v, p) => (spec.agentPinJwt = reader.string(v, p)),
    jitter: (v, p) => (spec.jitterSeconds = reader.durationMs(v, p) / 1000),
    catchup: (v, p) => (spec.catchup = reader.oneOf(v, p, CATCHUP_POLICIES)),
    overlap: (v, p) => (spec.overlap = reader.oneOf(v, p, OVERLAP_POLICIES)),
    history_retention_days: (v, p) => (spec.historyRetentionDays = reader.integer(v, p, 1)),
    history_retention_runs: (v, p) => (spec.historyRetentionRuns = reader.integer(v, p, 1)),
  });
  for (const [field, present] of [
    ['name', spec.name],
    ['agent', spec.agentId],
  ] as const) {
    if (present === undefined) throw reader.error(keyword, field, `schedule is missing the required field \`${field}\``);
  }
  const { positions } = reader;
  if (positions['policy.audit'] !== undefined && positions.audit !== undefined) {
    throw reader.error(positions.audit, 'audit', 'the audit level is set twice, by `audit` and by `policy { audit }`; keep one');
  }
  if (positions.deliver !== undefined && positions.delivery !== undefined) {
    throw reader.error(positions.deliver, 'deliver', 'give `deliver` (URIs) or `delivery` (channel names), not both');
  }
  if (oneShot !== undefined) checkOneShot(reader, spec, oneShot);
  if (Object.keys(policy).length > 0) spec.policy = policy;
  return { spec: spec as JobSpec, positions, policyRef };
}

/**
 * `one_shot` as the Symbiont runtime means it, "run once, then stop": what an `at` schedule does.
 * A cron schedule repeats, so `one_shot: true` beside `cron` (and `false` beside `at`) is refused
 * rather than quietly meaning something else.
 */
function checkOneShot(reader: FieldReader, spec: Partial<JobSpec>, oneShot: boolean): void {
  const position = reader.positions.one_shot as SourcePosition;
  if (oneShot && spec.cronExpr !== undefined) {
    throw reader.error(position, 'one_shot', '`one_shot: true` needs `at`, not `cron`: a cron schedule repeats; write `at: "…"` for a single run', { value: true });
  }
  if (!oneShot && spec.at !== undefined) {
    throw reader.error(position, 'one_shot', '`one_shot: false` contradicts `at`: an `at` schedule runs once; write `cron` for a repeating one', { value: false });
  }
}

/** Reads our `policy { … }` block (also the record form of a Symbiont `require: { … }` rule). */
export function readPolicy(reader: FieldReader, block: BlockNode, prefix: string): Partial<SchedulePolicy> {
  const policy: Partial<SchedulePolicy> = {};
  reader.fields(block, 'policy', prefix, {
    require_approval: (v, p) => (policy.requireApproval = reader.boolean(v, p)),
    approver: (v, p) => (policy.approver = reader.string(v, p)),
    approval_timeout: (v, p) => (policy.approvalTimeoutMs = reader.durationMs(v, p)),
    max_runtime: (v, p) => (policy.maxRuntimeMs = reader.durationMs(v, p)),
    require_capabilities: (v, p) => (policy.requireCapabilities = reader.stringList(v, p)),
    allowed_hours: (v, p) => {
      const hours: { start?: string; end?: string } = {};
      const block = reader.block(v, p);
      reader.fields(block, 'allowed_hours', p, {
        start: (value, path) => (hours.start = reader.string(value, path)),
        end: (value, path) => (hours.end = reader.string(value, path)),
      });
      if (hours.start === undefined || hours.end === undefined) {
        const missing = hours.start === undefined ? 'start' : 'end';
        throw reader.error(block.position, `${p}.${missing}`, `\`${p}\` needs both \`start\` and \`end\`, e.g. { start: "00:00", end: "04:00" }`);
      }
      policy.allowedHours = { start: hours.start, end: hours.end };
    },
    allowed_environments: (v, p) => (policy.allowedEnvironments = reader.stringList(v, p)),
    require_agent_pin: (v, p) => (policy.requireAgentPin = reader.boolean(v, p)),
    audit: (v, p) => (policy.audit = reader.oneOf(v, p, AUDIT_LEVELS)),
  });
  return policy;
}

function readHeartbeat(reader: FieldReader, block: BlockNode, prefix: string): Partial<HeartbeatConfig> {
  const heartbeat: Partial<HeartbeatConfig> = {};
  reader.fields(block, 'heartbeat', prefix, {
    enabled: (v, p) => (heartbeat.enabled = reader.boolean(v, p)),
    context_mode: (v, p) => (heartbeat.contextMode = reader.oneOf(v, p, SESSION_MODES)),
    max_iterations: (v, p) => (heartbeat.maxIterations = reader.integer(v, p, 1)),
  });
  return heartbeat;
}
