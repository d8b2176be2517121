import {
  auditToWire,
  JOB_STATUSES,
  jobSpecFromWire,
  jobToWire,
  identifierProblem,
  isJobId,
  jobUpdateFromWire,
  JobNotFoundError,
  RUN_STATUSES,
  runToWire,
  SECURITY_EVENT_TYPES,
  ValidationError,
  type CronScheduler,
  type JobStatus,
  type RunStatus,
  type SecurityEventType,
} from '@symbi/core';
import { ApiError } from './api-error.js';
import type { Caller, Permission } from './api-keys.js';
import { optionalStringFields } from './body-fields.js';
import { DASHBOARD_ASSETS, DASHBOARD_PAGE } from './dashboard/assets.js';
import { buildOpenApiDocument } from './openapi.js';
import type { QueryParam, QueryValues } from './query-params.js';
import type { HttpMethod } from './router.js';
import { arrayOf, schemaRef, type JsonSchema } from './schemas.js';

/** Who may call a route: `key` needs an API key (when configured); `health` and `metrics` can be opened by options. */
export type RouteAccess = 'key' | 'health' | 'metrics' | 'public';

/** What a handler sees of a request, already authenticated and validated. */
export interface RouteContext {
  /** The scheduler the API serves. */
  scheduler: CronScheduler;
  /** Decoded path parameters by name (`job_id`, `run_id`, …). */
  params: Record<string, string>;
  /** Validated query parameters. */
  query: QueryValues;
  /** Parsed JSON body (`undefined` when none was sent). */
  body: unknown;
  /** The authenticated caller. */
  caller: Caller;
  /** Variables a job body's `${VAR}` references may read (`ApiOptions.envAllow`). */
  envAllow: readonly string[];
  /** Whether a job's `policy.approver` restricts who may decide its runs (once labelled keys are configured). */
  namedApprovers: boolean;
}

/** What a handler answers: JSON unless `contentType` says otherwise (then `body` is a string). */
export interface RouteResult {
  /** HTTP status. */
  status: number;
  /** Response body. */
  body: unknown;
  /** Content type of a non-JSON body. */
  contentType?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
}

/**
 * One route: how it is matched, authorised and validated, how it is documented in the OpenAPI
 * document, and what it does. The router and the document are both built from this table.
 */
export interface RouteDefinition {
  /** HTTP method. */
  method: HttpMethod;
  /** Path template with `{param}` segments, as in OpenAPI. */
  path: string;
  /** OpenAPI operation id. */
  operationId: string;
  /** One-line summary. */
  summary: string;
  /** OpenAPI tag. */
  tag: 'schedule' | 'runs' | 'approvals' | 'audit' | 'health' | 'meta' | 'dashboard';
  /** Who may call it. */
  access: RouteAccess;
  /** What the caller's key role must allow (default `read` for GET, `operate` otherwise). */
  permission?: Permission;
  /** Accepted query parameters (any other is a 422). */
  query?: readonly QueryParam[];
  /** The JSON body it reads; without this, a body is ignored. */
  body?: { schema: JsonSchema; required: boolean };
  /** The success response. */
  response: { status: number; description: string; schema?: JsonSchema; contentType?: string };
  /** Statuses beyond those implied by access, parameters and body (e.g. 409). */
  errors?: readonly number[];
  /** Does the work. */
  handle(ctx: RouteContext): Promise<RouteResult>;
}

/** References that are not valid identifiers cannot exist: they are answered 404 without a lookup. */
const MAX_REF = 1000;
const MAX_NOTE = 10_000;
const MAX_RUN_INPUT = 1_000_000;

function jobRef(ctx: RouteContext): string {
  const ref = ctx.params.job_id!;
  if (identifierProblem(ref, MAX_REF) !== null) throw new ApiError(404, 'JOB_NOT_FOUND', 'job not found');
  return ref;
}

function runRef(ctx: RouteContext): string {
  const ref = ctx.params.run_id!;
  if (identifierProblem(ref, MAX_REF) !== null) throw new ApiError(404, 'RUN_NOT_FOUND', 'run not found');
  return ref;
}

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });
const actor = (ctx: RouteContext) => ({ actor: ctx.caller.label });

const limitParam = (maximum: number, description: string): QueryParam => ({ name: 'limit', kind: 'integer', minimum: 1, maximum, description });
const jobResponse = (description: string) => ({ status: 200, description, schema: schemaRef('Job') });

async function decide(ctx: RouteContext, decision: 'approve' | 'deny'): Promise<RouteResult> {
  const job = await ctx.scheduler.getJob(jobRef(ctx));
  const run = await ctx.scheduler.getRun(runRef(ctx));
  if (run.jobId !== job.id) throw new ApiError(404, 'RUN_NOT_FOUND', `run ${run.id} does not belong to job ${job.name}`);
  const fields = optionalStringFields(ctx.body, ['approver', 'note'] as const, MAX_NOTE);
  if (fields.approver !== undefined && fields.approver.trim() === '') throw new ValidationError('approver', 'must not be empty', undefined);
  const { label } = ctx.caller;
  if (fields.approver !== undefined && fields.approver !== label) {
    throw new ApiError(403, 'FORBIDDEN', `the approver is the API key's identity ("${label}"), not a name sent in the body ("${fields.approver}")`, { field: 'approver' });
  }
  const named = job.policy.approver;
  if (ctx.namedApprovers && named !== null && named !== label) {
    throw new ApiError(403, 'FORBIDDEN', `only the API key labelled "${named}" may decide runs of job ${job.name}; this key is "${label}"`);
  }
  const args = { approver: label, note: fields.note ?? null };
  const decided = decision === 'approve' ? await ctx.scheduler.approve(run.id, args) : await ctx.scheduler.deny(run.id, args);
  return ok(runToWire(decided));
}

/**
 * A job filter's `job_id` is an id (possibly of a job deleted since) or a name, resolved to its
 * job's id; the name of no job matches nothing.
 */
async function jobIdFilter(scheduler: CronScheduler, ref: string | undefined): Promise<string | undefined> {
  if (ref === undefined || isJobId(ref)) return ref;
  try {
    return (await scheduler.getJob(ref)).id;
  } catch (error) {
    if (error instanceof JobNotFoundError) return ref;
    throw error;
  }
}

/** `dry_run` of a prune request's optional body `{ "dry_run": true }`. */
function dryRunOf(body: unknown): boolean {
  if (body === undefined) return false;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('body', 'must be a JSON object', undefined);
  for (const [key, value] of Object.entries(body)) {
    if (key !== 'dry_run') throw new ValidationError(key, 'is not a known field', undefined);
    if (typeof value !== 'boolean') throw new ValidationError('dry_run', 'must be true or false', value);
  }
  return (body as { dry_run?: boolean }).dry_run ?? false;
}

let openApiDocument: Record<string, unknown> | null = null;

/** Every route the server answers, in the order the OpenAPI document lists them. */
export const API_ROUTES: readonly RouteDefinition[] = [
  {
    method: 'POST',
    path: '/api/v1/schedule',
    operationId: 'createJob',
    summary: 'Create a scheduled job',
    tag: 'schedule',
    access: 'key',
    body: { schema: schemaRef('JobInput'), required: true },
    response: { status: 201, description: 'The created job.', schema: schemaRef('Job') },
    errors: [409],
    handle: async (ctx) => {
      const job = await ctx.scheduler.add(jobSpecFromWire(ctx.body, { envReferences: ctx.envAllow }), actor(ctx));
      return { status: 201, body: jobToWire(job), headers: { location: `/api/v1/schedule/${encodeURIComponent(job.id)}` } };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/schedule',
    operationId: 'listJobs',
    summary: 'List jobs, optionally filtered by status and agent',
    tag: 'schedule',
    access: 'key',
    query: [
      { name: 'status', kind: 'enum', values: JOB_STATUSES, description: 'Only jobs with this status.' },
      { name: 'agent_id', kind: 'string', description: 'Only jobs of this agent.' },
      limitParam(10_000, 'Most jobs to return.'),
      { name: 'offset', kind: 'integer', minimum: 0, maximum: 1_000_000_000, description: 'Jobs to skip.' },
    ],
    response: { status: 200, description: 'Jobs ordered by name.', schema: arrayOf('Job') },
    handle: async (ctx) => {
      const { status, agent_id, limit, offset } = ctx.query;
      const jobs = await ctx.scheduler.list({
        status: status as JobStatus | undefined,
        agentId: agent_id as string | undefined,
        limit: limit as number | undefined,
        offset: offset as number | undefined,
      });
      return ok(jobs.map(jobToWire));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/schedule/{job_id}',
    operationId: 'getJob',
    summary: 'Get a job (by id or name), with its next run',
    tag: 'schedule',
    access: 'key',
    response: jobResponse('The job.'),
    handle: async (ctx) => ok(jobToWire(await ctx.scheduler.getJob(jobRef(ctx)))),
  },
  {
    method: 'PUT',
    path: '/api/v1/schedule/{job_id}',
    operationId: 'updateJob',
    summary: 'Update a job (cron expression, delivery, policy, …)',
    tag: 'schedule',
    access: 'key',
    body: { schema: schemaRef('JobUpdate'), required: true },
    response: jobResponse('The updated job.'),
    errors: [409],
    handle: async (ctx) => {
      const job = await ctx.scheduler.getJob(jobRef(ctx));
      const update = jobUpdateFromWire(ctx.body, job, { envReferences: ctx.envAllow });
      return ok(jobToWire(await ctx.scheduler.update(job.id, update, actor(ctx))));
    },
  },
  {
    method: 'DELETE',
    path: '/api/v1/schedule/{job_id}',
    operationId: 'deleteJob',
    summary: 'Delete a job with its history',
    tag: 'schedule',
    access: 'key',
    response: jobResponse('The deleted job.'),
    handle: async (ctx) => ok(jobToWire(await ctx.scheduler.remove(jobRef(ctx), actor(ctx)))),
  },
  {
    method: 'POST',
    path: '/api/v1/schedule/{job_id}/pause',
    operationId: 'pauseJob',
    summary: 'Pause an active job',
    tag: 'schedule',
    access: 'key',
    response: jobResponse('The paused job.'),
    errors: [409],
    handle: async (ctx) => ok(jobToWire(await ctx.scheduler.pause(jobRef(ctx), actor(ctx)))),
  },
  {
    method: 'POST',
    path: '/api/v1/schedule/{job_id}/resume',
    operationId: 'resumeJob',
    summary: 'Resume a paused job',
    tag: 'schedule',
    access: 'key',
    response: jobResponse('The resumed job.'),
    errors: [409],
    handle: async (ctx) => ok(jobToWire(await ctx.scheduler.resume(jobRef(ctx), actor(ctx)))),
  },
  {
    method: 'POST',
    path: '/api/v1/schedule/{job_id}/reset',
    operationId: 'resetJob',
    summary: 'Reactivate a dead-lettered or failed job',
    tag: 'schedule',
    access: 'key',
    response: jobResponse('The reactivated job.'),
    errors: [409],
    handle: async (ctx) => ok(jobToWire(await ctx.scheduler.reset(jobRef(ctx), actor(ctx)))),
  },
  {
    method: 'POST',
    path: '/api/v1/schedule/{job_id}/run',
    operationId: 'runJob',
    summary: 'Trigger an immediate run (policy gates still apply)',
    tag: 'runs',
    access: 'key',
    body: { schema: schemaRef('RunRequest'), required: false },
    response: { status: 202, description: 'The queued run.', schema: schemaRef('Run') },
    handle: async (ctx) => {
      const { input } = optionalStringFields(ctx.body, ['input'] as const, MAX_RUN_INPUT);
      const run = await ctx.scheduler.runNow(jobRef(ctx), { ...actor(ctx), input: input ?? null });
      return ok(runToWire(run), 202);
    },
  },
  {
    method: 'GET',
    path: '/api/v1/schedule/{job_id}/history',
    operationId: 'getJobHistory',
    summary: 'Run history of a job, newest first',
    tag: 'runs',
    access: 'key',
    query: [
      limitParam(1000, 'Most runs to return (default 100).'),
      { name: 'status', kind: 'enum', values: RUN_STATUSES, multiple: true, description: 'Only runs with these statuses (comma-separated).' },
      { name: 'since', kind: 'date-time', description: 'Only runs scheduled at or after this time.' },
    ],
    response: { status: 200, description: 'Runs, newest first.', schema: arrayOf('Run') },
    handle: async (ctx) => {
      const { limit, status, since } = ctx.query;
      const runs = await ctx.scheduler.history(jobRef(ctx), {
        limit: limit as number | undefined,
        status: status as RunStatus[] | undefined,
        since: since as Date | undefined,
      });
      return ok(runs.map(runToWire));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/schedule/{job_id}/next_run',
    operationId: 'getNextRun',
    summary: 'Next scheduled run time of a job',
    tag: 'schedule',
    access: 'key',
    response: { status: 200, description: 'The next fire time (null when none).', schema: schemaRef('NextRun') },
    handle: async (ctx) => {
      const job = await ctx.scheduler.getJob(jobRef(ctx));
      return ok({ job_id: job.id, next_run: job.nextRun === null ? null : job.nextRun.toISOString() });
    },
  },
  {
    method: 'POST',
    path: '/api/v1/schedule/{job_id}/runs/{run_id}/approve',
    operationId: 'approveRun',
    summary: 'Approve a run waiting for approval',
    tag: 'approvals',
    access: 'key',
    body: { schema: schemaRef('ApprovalDecision'), required: false },
    response: { status: 200, description: 'The run, queued again.', schema: schemaRef('Run') },
    permission: 'decide',
    errors: [409],
    handle: (ctx) => decide(ctx, 'approve'),
  },
  {
    method: 'POST',
    path: '/api/v1/schedule/{job_id}/runs/{run_id}/deny',
    operationId: 'denyRun',
    summary: 'Deny a run waiting for approval',
    tag: 'approvals',
    access: 'key',
    body: { schema: schemaRef('ApprovalDecision'), required: false },
    response: { status: 200, description: 'The run, ended denied.', schema: schemaRef('Run') },
    permission: 'decide',
    errors: [409],
    handle: (ctx) => decide(ctx, 'deny'),
  },
  {
    method: 'GET',
    path: '/api/v1/approvals',
    operationId: 'listApprovals',
    summary: 'Runs waiting for approval, oldest first',
    tag: 'approvals',
    access: 'key',
    query: [
      { name: 'job_id', kind: 'string', description: 'Only runs of this job (id or name).' },
      limitParam(1000, 'Most runs to return.'),
    ],
    response: { status: 200, description: 'Pending runs.', schema: arrayOf('Run') },
    handle: async (ctx) => {
      const jobId = ctx.query.job_id === undefined ? undefined : (await ctx.scheduler.getJob(ctx.query.job_id as string)).id;
      const runs = await ctx.scheduler.pendingApprovals({ jobId, limit: ctx.query.limit as number | undefined });
      return ok(runs.map(runToWire));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/runs',
    operationId: 'listRuns',
    summary: 'Runs of every job, newest first, filtered by job, agent, status and time',
    tag: 'runs',
    access: 'key',
    query: [
      { name: 'job_id', kind: 'string', description: 'Only runs of this job (id or name; the id of a deleted job matches nothing).' },
      { name: 'agent_id', kind: 'string', description: 'Only runs of this agent.' },
      { name: 'status', kind: 'enum', values: RUN_STATUSES, multiple: true, description: 'Only runs with these statuses (comma-separated).' },
      { name: 'since', kind: 'date-time', description: 'Only runs scheduled at or after this time.' },
      limitParam(1000, 'Most runs to return (default 100).'),
    ],
    response: { status: 200, description: 'Runs, newest first.', schema: arrayOf('Run') },
    handle: async (ctx) => {
      const { agent_id, status, since, limit } = ctx.query;
      const runs = await ctx.scheduler.store.listRuns({
        jobId: await jobIdFilter(ctx.scheduler, ctx.query.job_id as string | undefined),
        agentId: agent_id as string | undefined,
        status: status as RunStatus[] | undefined,
        since: since as Date | undefined,
        limit: limit as number | undefined,
      });
      return ok(runs.map(runToWire));
    },
  },
  {
    method: 'POST',
    path: '/api/v1/runs/prune',
    operationId: 'pruneRuns',
    summary: "Delete finished runs now by the retention policies ([scheduler] history_retention_days / history_retention_runs, each job's own first)",
    tag: 'runs',
    access: 'key',
    body: { schema: schemaRef('PruneRequest'), required: false },
    response: { status: 200, description: 'How many runs were deleted.', schema: schemaRef('PruneResult') },
    handle: async (ctx) => {
      const outcome = await ctx.scheduler.pruneHistory({ ...actor(ctx), dryRun: dryRunOf(ctx.body) });
      return ok({ deleted: outcome.deleted, dry_run: outcome.dryRun, supported: outcome.supported });
    },
  },
  {
    method: 'GET',
    path: '/api/v1/runs/{run_id}',
    operationId: 'getRun',
    summary: 'Get a run by id',
    tag: 'runs',
    access: 'key',
    response: { status: 200, description: 'The run.', schema: schemaRef('Run') },
    handle: async (ctx) => ok(runToWire(await ctx.scheduler.getRun(runRef(ctx)))),
  },
  {
    method: 'GET',
    path: '/api/v1/audit',
    operationId: 'queryAudit',
    summary: 'Audit events, newest first',
    tag: 'audit',
    access: 'key',
    query: [
      { name: 'type', kind: 'enum', values: SECURITY_EVENT_TYPES, description: 'Only events of this type, e.g. CronJobFailed.' },
      { name: 'job_id', kind: 'string', description: 'Only events about this job (id or name).' },
      { name: 'since', kind: 'date-time', description: 'Only events at or after this time.' },
      limitParam(10_000, 'Most events to return (default 100).'),
    ],
    response: { status: 200, description: 'Events, newest first.', schema: arrayOf('AuditEvent') },
    handle: async (ctx) => {
      const events = await ctx.scheduler.auditLog({
        type: ctx.query.type as SecurityEventType | undefined,
        jobId: await jobIdFilter(ctx.scheduler, ctx.query.job_id as string | undefined),
        since: ctx.query.since as Date | undefined,
        limit: ctx.query.limit as number | undefined,
      });
      return ok(events.map(auditToWire));
    },
  },
  {
    method: 'GET',
    path: '/api/v1/health/scheduler',
    operationId: 'getSchedulerHealth',
    summary: 'Scheduler health and run counters',
    tag: 'health',
    access: 'health',
    response: { status: 200, description: "The spec's health JSON.", schema: schemaRef('SchedulerHealth') },
    handle: async (ctx) => ok(await ctx.scheduler.health()),
  },
  {
    method: 'GET',
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    tag: 'health',
    access: 'metrics',
    response: { status: 200, description: 'Prometheus text exposition format.', contentType: 'text/plain; version=0.0.4; charset=utf-8' },
    handle: async (ctx) => ({ status: 200, body: ctx.scheduler.metrics.toPrometheus(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }),
  },
  {
    method: 'GET',
    path: '/api/v1/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This OpenAPI 3.1 document',
    tag: 'meta',
    access: 'key',
    response: { status: 200, description: 'The OpenAPI document.', schema: { type: 'object' } },
    handle: async () => ok((openApiDocument ??= buildOpenApiDocument(API_ROUTES))),
  },
  {
    method: 'GET',
    path: '/',
    operationId: 'getDashboard',
    summary: 'The dashboard page (it asks for the API key itself)',
    tag: 'dashboard',
    access: 'public',
    response: { status: 200, description: 'HTML page.', contentType: DASHBOARD_PAGE.contentType },
    handle: async () => ({ status: 200, body: DASHBOARD_PAGE.body, contentType: DASHBOARD_PAGE.contentType }),
  },
  {
    method: 'GET',
    path: '/dashboard/{asset}',
    operationId: 'getDashboardAsset',
    summary: 'A script or style sheet of the dashboard',
    tag: 'dashboard',
    access: 'public',
    response: { status: 200, description: 'JavaScript or CSS.', contentType: 'text/javascript; charset=utf-8' },
    handle: async (ctx) => {
      const asset = Object.hasOwn(DASHBOARD_ASSETS, ctx.params.asset!) ? DASHBOARD_ASSETS[ctx.params.asset!] : undefined;
      if (!asset) throw new ApiError(404, 'ASSET_NOT_FOUND', 'no such dashboard asset');
      return { status: 200, body: asset.body, contentType: asset.contentType };
    },
  },
];
