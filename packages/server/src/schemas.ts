import {
  AUDIT_LEVELS,
  CATCHUP_POLICIES,
  JOB_STATUSES,
  MAX_RETENTION_DAYS,
  MAX_RETENTION_RUNS,
  OVERLAP_POLICIES,
  RUN_STATUSES,
  SECURITY_EVENT_TYPES,
  SESSION_MODES,
  type WireAuditEvent,
  type WireJob,
  type WireRun,
} from '@symbi/core';

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses). */
export type JsonSchema = Record<string, unknown>;

const str = (description: string): JsonSchema => ({ type: 'string', description });
const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as string, 'null'] });
const dateTime = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'date-time', description });
const strings = (description: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, description });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const policy: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  description: "The spec's policy block.",
  properties: {
    require_approval: { type: 'boolean', description: 'Hold every run for a human decision.' },
    approver: nullable(str('Who is asked to approve. Once labelled API keys are configured, only the key with this label may decide.')),
    approval_timeout: { type: ['string', 'integer', 'null'], description: 'Duration (e.g. "1h") before an undecided request ends the run denied.' },
    max_runtime: { type: ['string', 'integer', 'null'], description: 'Duration (e.g. "30m") after which a run is aborted.' },
    require_capabilities: strings('Capabilities the agent must declare.'),
    allowed_hours: {
      type: ['object', 'null'],
      properties: { start: str('HH:MM, UTC.'), end: str('HH:MM, UTC.') },
      required: ['start', 'end'],
      description: 'Daily window in which runs may start.',
    },
    allowed_environments: strings('Scheduler environments in which the job may run.'),
    require_agent_pin: { type: 'boolean', description: 'Require a valid AgentPin credential.' },
    audit: { type: 'string', enum: [...AUDIT_LEVELS], description: "Which of the job's run events the audit log records." },
  },
};

const heartbeat: JsonSchema = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean' },
    context_mode: { type: 'string', enum: [...SESSION_MODES] },
    max_iterations: { type: 'integer', minimum: 1 },
  },
};

/** Fields a client writes when creating or updating a job. */
const writableJobFields = {
  name: str('Unique job name.'),
  agent_id: str('The agent to run.'),
  cron_expr: nullable(str('Cron expression: 5, 6 (seconds first) or 7 fields (year last), or a nickname such as @daily.')),
  at: dateTime('ISO 8601 instant of a one-shot job.'),
  timezone: str('IANA time zone the cron expression is read in (default UTC).'),
  input: nullable(str('Input handed to scheduled runs.')),
  session_mode: { type: 'string', enum: [...SESSION_MODES] },
  delivery: strings('Channels receiving each run output: stdout, log_file, webhook, slack, email, or a custom name.'),
  webhook_url: nullable(str('Target of the webhook channel.')),
  webhook_headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'Extra webhook headers; values are redacted in responses.' },
  slack_channel: nullable(str('Slack channel, e.g. #ops.')),
  email_recipients: strings('Recipients of the email channel.'),
  policy,
  heartbeat,
  max_concurrent: { type: 'integer', minimum: 1 },
  max_retries: { type: ['integer', 'null'], minimum: 0, description: 'Consecutive failures before dead_letter.' },
  agent_pin_jwt: nullable(str('AgentPin ES256 JWT (usually a ${ENV} reference); redacted in responses.')),
  jitter: { type: ['integer', 'null'], minimum: 0, description: 'Random start delay of 0..N seconds.' },
  catchup: { type: 'string', enum: [...CATCHUP_POLICIES] },
  overlap: { type: 'string', enum: [...OVERLAP_POLICIES] },
  history_retention_days: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: MAX_RETENTION_DAYS,
    description: "Days this job's finished runs are kept before pruning; null uses the scheduler's history_retention_days.",
  },
  history_retention_runs: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: MAX_RETENTION_RUNS,
    description: "Most finished runs of this job kept (the newest); null uses the scheduler's history_retention_runs.",
  },
} satisfies Partial<Record<keyof WireJob, JsonSchema>>;

const job: JsonSchema = {
  type: 'object',
  description: 'A job, with secrets redacted.',
  properties: {
    id: str('Job id.'),
    ...writableJobFields,
    status: { type: 'string', enum: [...JOB_STATUSES] },
    enabled: { type: 'boolean' },
    next_run: dateTime('Next fire time.'),
    last_run: dateTime('Start of the most recent finished run.'),
    run_count: { type: 'integer' },
    failure_count: { type: 'integer' },
    consecutive_failures: { type: 'integer' },
    created_at: dateTime('Creation time.'),
    updated_at: dateTime('Last change.'),
  } satisfies Record<keyof WireJob, JsonSchema>,
  required: ['id', 'name', 'agent_id', 'status', 'next_run'],
};

const run: JsonSchema = {
  type: 'object',
  description: 'One run of a job.',
  properties: {
    id: str('Run id.'),
    job_id: str('Job id.'),
    job_name: str('Job name when the run was created.'),
    agent_id: str('Agent.'),
    scheduled_for: dateTime('Fire time the run belongs to.'),
    due_at: dateTime('When it may start.'),
    trigger: { type: 'string', enum: ['schedule', 'manual', 'catchup', 'retry'] },
    attempt: { type: 'integer' },
    status: { type: 'string', enum: [...RUN_STATUSES] },
    input: nullable(str('Input.')),
    output: nullable(str('Agent output.')),
    summary: nullable(str('Agent summary.')),
    error: nullable(str('Why it failed, was denied, skipped or interrupted.')),
    error_message: nullable(str('Same as error (the spec SDK name).')),
    stderr: nullable(str('Executor diagnostics.')),
    started_at: dateTime('Start.'),
    completed_at: dateTime('End.'),
    execution_time_ms: { type: ['integer', 'null'] },
    iterations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          output: str('Output.'),
          summary: nullable(str('Summary.')),
          action: { type: 'string', enum: ['sleep', 'continue'] },
          duration_ms: { type: 'integer' },
        },
      },
    },
    deliveries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          channel: str('Channel.'),
          status: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
          attempts: { type: 'integer' },
          error: nullable(str('Last error.')),
          completed_at: dateTime('When delivered or given up.'),
        },
      },
    },
    approval: {
      type: ['object', 'null'],
      properties: {
        approver: str('Who was asked.'),
        reason: str('Why approval is needed.'),
        policy_id: str('Policy that asked.'),
        requested_at: dateTime('Request time.'),
        expires_at: dateTime('Expiry.'),
        decision: { type: ['string', 'null'], enum: ['approved', 'denied', 'expired', null] },
        decided_by: nullable(str('Who decided.')),
        decided_at: dateTime('When decided.'),
        note: nullable(str('Note.')),
      },
    },
  } satisfies Record<keyof WireRun, JsonSchema>,
  required: ['id', 'job_id', 'status'],
};

/** The schemas under `components.schemas` of the OpenAPI document. */
export const COMPONENT_SCHEMAS: Record<string, JsonSchema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: str('Stable code.'), message: str('Explanation.'), field: str('Offending field, for validation errors.') },
      },
    },
  },
  JobInput: { type: 'object', additionalProperties: false, properties: writableJobFields, required: ['name', 'agent_id'] },
  JobUpdate: { type: 'object', additionalProperties: false, properties: writableJobFields },
  Job: job,
  Run: run,
  AuditEvent: {
    type: 'object',
    properties: {
      id: str('Event id.'),
      type: { type: 'string', enum: [...SECURITY_EVENT_TYPES] },
      at: dateTime('When.'),
      job_id: nullable(str('Job concerned.')),
      run_id: nullable(str('Run concerned.')),
      actor: str('Who did it.'),
      details: { type: 'object' },
    } satisfies Record<keyof WireAuditEvent, JsonSchema>,
  },
  SchedulerHealth: {
    type: 'object',
    required: ['status', 'active_jobs', 'paused_jobs', 'in_flight_jobs', 'metrics'],
    properties: {
      status: { type: 'string', enum: ['healthy', 'degraded', 'stopped'] },
      reason: str('Why the status is `degraded` (e.g. the store cannot be reached, or its disk is full); absent when healthy.'),
      active_jobs: { type: 'integer' },
      paused_jobs: { type: 'integer' },
      in_flight_jobs: { type: 'integer' },
      metrics: {
        type: 'object',
        required: ['runs_total', 'runs_succeeded', 'runs_failed', 'avg_execution_time_ms'],
        properties: {
          runs_total: { type: 'integer' },
          runs_succeeded: { type: 'integer' },
          runs_failed: { type: 'integer' },
          avg_execution_time_ms: { type: 'number' },
        },
      },
    },
  },
  PruneRequest: {
    type: 'object',
    additionalProperties: false,
    properties: { dry_run: { type: 'boolean', description: 'Count the runs that would be deleted, deleting none (default false).' } },
  },
  PruneResult: {
    type: 'object',
    required: ['deleted', 'dry_run', 'supported'],
    properties: {
      deleted: { type: 'integer', description: 'Finished runs deleted (with dry_run, that would be deleted).' },
      dry_run: { type: 'boolean' },
      supported: { type: 'boolean', description: 'False when the job store cannot prune (a custom store without pruneHistory).' },
    },
  },
  NextRun: { type: 'object', required: ['job_id', 'next_run'], properties: { job_id: str('Job id.'), next_run: dateTime('Next fire time.') } },
  RunRequest: { type: 'object', additionalProperties: false, properties: { input: nullable(str('Input for this run (default: the job input).')) } },
  ApprovalDecision: {
    type: 'object',
    additionalProperties: false,
    properties: {
      approver: str("Optional; when given it must equal the API key's label, which is always the recorded approver."),
      note: nullable(str('Why.')),
    },
  },
};

/** A reference to a component schema. */
export function schemaRef(name: keyof typeof COMPONENT_SCHEMAS): JsonSchema {
  return ref(name);
}

/** An array of a component schema. */
export function arrayOf(name: keyof typeof COMPONENT_SCHEMAS): JsonSchema {
  return { type: 'array', items: ref(name) };
}
