import type { AuditEvent } from '../domain/audit.js';
import type { CronJobDefinition } from '../domain/job.js';
import type { JobRunRecord } from '../domain/run.js';
import type { ContextMessage, SessionState } from '../domain/session.js';
import type { RunPatch } from '../ports/job-store.js';
import { jobCopier, policyCopier, runRecord, runRecordFrom, type FieldCopies } from './record-shapes.js';

/**
 * How the in-memory store copies records in and out. What it hands out is a deep copy the caller
 * may change at will; what it stores is never handed out, and its parts are never changed in place
 * (a change sets a stored record's own fields, or stores a new version, never changing a Date or
 * list), so stored records may share parts: the Dates of one instant and the empty lists.
 */

/**
 * A deep copy of plain data: objects, arrays, Dates and primitives, which is all jobs, runs and
 * sessions hold. Spreading keeps V8's compact object shapes, so copies are about twice as fast as
 * `structuredClone` and smaller, which matters with a million jobs (see {@link copyAudit} for
 * audit details, which may hold anything).
 */
function clone<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (Array.isArray(value)) return value.map(clone) as T;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key in copy) {
    const field = copy[key];
    if (field !== null && typeof field === 'object') copy[key] = clone(field);
  }
  return copy as T;
}

/**
 * `text`, flattened. V8 keeps a string built by concatenation as a tree of its pieces, about 20
 * bytes a piece, until a character is read: reading one joins it in place, and the collector then
 * drops the tree. A `randomUUID()` is such a tree of 17 pieces (about 490 bytes held instead of
 * 60), so strings the store keeps for good (ids, outputs) are flattened as they come in.
 */
function flat<T extends string | null>(text: T): T {
  if (text !== null) text.charCodeAt(0);
  return text;
}

const copyDate = (date: Date | null): Date | null => (date === null ? null : new Date(date.getTime()));

/** How many of the Dates the store made last {@link storedDate} reuses. */
const RECENT_STORED_DATES = 4;

/** The Dates the store made last for records it keeps (see {@link storedDate}), the latest used first. */
const recentStored: Date[] = Array.from({ length: RECENT_STORED_DATES }, () => new Date(0));

/**
 * A Date of `time` for a record the store keeps. Stored Dates are never handed out nor changed, so
 * records may share them: the four used last are reused for their instants. A fire stores its time,
 * its job's next one and its run's lease, and the run's finish its job's last run: four instants, so
 * a run's fire, start and finish, its audit event, its job's last run and the next fire's run, all
 * at one virtual instant, hold one Date.
 */
export function storedDate(time: number): Date {
  const recent = recentStored;
  let found = 0;
  while (found < RECENT_STORED_DATES && (recent[found] as Date).getTime() !== time) found++;
  const date = found < RECENT_STORED_DATES ? (recent[found] as Date) : new Date(time);
  // The Date used now goes first; those used before it move down one, the last one used drops out.
  for (let i = Math.min(found, RECENT_STORED_DATES - 1); i > 0; i--) recent[i] = recent[i - 1] as Date;
  recent[0] = date;
  return date;
}

/**
 * The stored `kept` when `given` is the same instant (two versions of a record may share a stored
 * Date), else a {@link storedDate} of `given`: the caller keeps its own Dates.
 */
export function keptOrCopied<D extends Date | null>(kept: D, given: D): D {
  if (kept === given || (kept !== null && given !== null && kept.getTime() === given.getTime())) return kept;
  return (given === null ? null : storedDate(given.getTime())) as D;
}

/**
 * The empty list every stored record that has none shares, frozen so that a write to it throws
 * rather than reach every record. Stored lists are never changed in place and copied on the way out.
 */
const NONE: readonly never[] = Object.freeze([]);

/** `list` copied item by item, for a stored record (an empty one is {@link NONE}). */
const storedList = <T>(list: readonly T[], copy: (item: T) => T): T[] => (list.length === 0 ? (NONE as never[]) : list.map(copy));

/** `list` copied item by item, for the caller (always a list of its own). */
const ownList = <T>(list: readonly T[], copy: (item: T) => T): T[] => (list.length === 0 ? [] : list.map(copy));

const copyIteration = (iteration: JobRunRecord['iterations'][number]) => ({ ...iteration });

const copyDelivery = (delivery: JobRunRecord['deliveries'][number]) => ({ ...delivery, completedAt: copyDate(delivery.completedAt) });

function copyApproval(approval: JobRunRecord['approval']): JobRunRecord['approval'] {
  if (approval === null) return null;
  return { ...approval, requestedAt: new Date(approval.requestedAt.getTime()), expiresAt: new Date(approval.expiresAt.getTime()), decidedAt: copyDate(approval.decidedAt) };
}

/**
 * A deep copy of a run, sharing nothing with it (no Date, list or object), for the caller: a store's
 * claims, starts and finishes hand out one of every run they touch.
 */
export function copyRun(run: JobRunRecord): JobRunRecord {
  return withOwnRunParts(runRecord(run));
}

/**
 * A deep copy of the stored `run` with the defined fields of `patch`, for the caller: what
 * `copyRun(patched(run, patch))` answers, without the stored version in between (a finish decides
 * on this copy before it patches the stored run in place). Fields that are not a run's are left out.
 */
export function copyPatched(run: JobRunRecord, patch: RunPatch): JobRunRecord {
  const next = runRecord(run);
  const fields = next as unknown as Record<string, unknown>;
  for (const field in patch) {
    const value = patch[field as keyof RunPatch];
    if (value !== undefined && field in next) fields[field] = value;
  }
  return withOwnRunParts(next);
}

/** `copy`, a shallow copy of a run, given copies of every part of it (Date, list, object) it may not share. */
function withOwnRunParts(copy: JobRunRecord): JobRunRecord {
  copy.scheduledFor = new Date(copy.scheduledFor.getTime());
  copy.dueAt = new Date(copy.dueAt.getTime());
  copy.startedAt = copyDate(copy.startedAt);
  copy.completedAt = copyDate(copy.completedAt);
  copy.leaseExpiresAt = copyDate(copy.leaseExpiresAt);
  copy.iterations = ownList(copy.iterations, copyIteration);
  copy.deliveries = ownList(copy.deliveries, copyDelivery);
  copy.approval = copyApproval(copy.approval);
  return copy;
}

/** The Date of the stored `run` (one of its own instants) that is `time`, or null. */
function instantOf(run: JobRunRecord, time: number): Date | null {
  if (run.scheduledFor.getTime() === time) return run.scheduledFor;
  if (run.dueAt.getTime() === time) return run.dueAt;
  if (run.startedAt?.getTime() === time) return run.startedAt;
  if (run.completedAt?.getTime() === time) return run.completedAt;
  if (run.leaseExpiresAt?.getTime() === time) return run.leaseExpiresAt;
  return null;
}

/**
 * A Date of `given`'s instant for a field of `run`, whose instants are all stored already: one of
 * them when it is the same instant (a run whose fire, due, start and finish times agree holds one
 * Date for all four), else a copy.
 */
function storedInstant<D extends Date | null>(run: JobRunRecord, given: D): D {
  if (given === null) return given;
  const time = given.getTime();
  return (instantOf(run, time) ?? storedDate(time)) as D;
}

/** A copy of a run to store: it shares nothing with the caller's, and shares Dates and empty lists within the store. */
export function storedRun(run: JobRunRecord): JobRunRecord {
  const copy = runRecordFrom(run);
  copy.id = flat(run.id);
  copy.fireKey = flat(run.fireKey);
  copy.scheduledFor = storedDate(run.scheduledFor.getTime());
  // Every instant refers to a stored Date (or none) before the next one is matched against them.
  copy.dueAt = copy.scheduledFor;
  copy.startedAt = copy.completedAt = copy.leaseExpiresAt = null;
  copy.dueAt = storedInstant(copy, run.dueAt);
  copy.startedAt = storedInstant(copy, run.startedAt);
  copy.completedAt = storedInstant(copy, run.completedAt);
  copy.leaseExpiresAt = storedInstant(copy, run.leaseExpiresAt);
  copy.iterations = storedList(run.iterations, copyIteration);
  copy.deliveries = storedList(run.deliveries, copyDelivery);
  copy.approval = copyApproval(run.approval);
  return copy;
}

/** The stored `run` with the defined fields of `patch` (see {@link patchInto}), to store in its place. */
export const patched = (run: JobRunRecord, patch: RunPatch): JobRunRecord => patchInto(runRecord(run), patch);

/** Gives the stored `run` the defined fields of `patch` in place (copied; a Date as in {@link storedInstant}); returns it. */
export function patchInto(next: JobRunRecord, patch: RunPatch): JobRunRecord {
  const fields = next as unknown as Record<string, unknown>;
  for (const field in patch) {
    const value = patch[field as keyof RunPatch];
    if (value === undefined) continue;
    if (typeof value === 'string') fields[field] = flat(value);
    else if (value instanceof Date) fields[field] = storedInstant(next, value);
    else fields[field] = Array.isArray(value) && value.length === 0 ? NONE : clone(value);
  }
  return next;
}

/**
 * A list of strings of its own (strings need no copy). Most of a job's lists are empty, and `[]`
 * costs less than a spread, which walks even an empty list through the iterator protocol.
 */
const ownStrings = <T extends string>(list: readonly T[]): T[] => (list.length === 0 ? [] : list.slice());

const copyInstant = (date: Date): Date => new Date(date.getTime());

/** How a job's policy is copied: its lists and allowed hours its own. */
const POLICY_PARTS: FieldCopies<CronJobDefinition['policy']> = {
  requireCapabilities: ownStrings,
  allowedHours: (hours) => (hours === null ? null : { ...hours }),
  allowedEnvironments: ownStrings,
};

/** How a job is copied: every list, object and Date its own (its strings need no copy). */
const jobParts = (policy: (policy: CronJobDefinition['policy']) => CronJobDefinition['policy']): FieldCopies<CronJobDefinition> => ({
  delivery: ownStrings,
  webhookHeaders: (headers) => ({ ...headers }),
  emailRecipients: ownStrings,
  policy,
  heartbeat: (heartbeat) => (heartbeat === null ? null : { ...heartbeat }),
  nextRun: copyDate,
  lastRun: copyDate,
  createdAt: copyInstant,
  updatedAt: copyInstant,
});

/**
 * A deep copy of a stored job, for the caller, made in one literal (see `jobCopier`): two are made
 * a run (its fire and its finish).
 */
export const copyJob: (job: CronJobDefinition) => CronJobDefinition = jobCopier(jobParts(policyCopier(POLICY_PARTS)));

/** A deep copy of a caller's job, of any shape (a copier of its own: see `runRecordFrom`). */
const copyJobFrom: (job: CronJobDefinition) => CronJobDefinition = jobCopier(jobParts(policyCopier(POLICY_PARTS)));

/** A deep copy of a caller's job to store, its id flattened (see {@link flat}). */
export function storedJob(job: CronJobDefinition): CronJobDefinition {
  const copy = copyJobFrom(job);
  copy.id = flat(job.id);
  return copy;
}

/** Whether `value` is plain data (primitives, Dates, arrays and plain objects), which {@link clone} copies faithfully. */
function isPlainData(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  if (value instanceof Date) return true;
  if (Array.isArray(value)) return value.every(isPlainData);
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) if (!isPlainData((value as Record<string, unknown>)[key])) return false;
  return true;
}

/** Whether `value` is a plain object whose values are all primitives (see {@link isPlainData}): a spread copies it whole. */
function isFlatData(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if ((field !== null && typeof field === 'object') || typeof field === 'function' || typeof field === 'symbol') return false;
  }
  return true;
}

/**
 * A copy of an audit event's details (see {@link copyAudit}). The scheduler's are flat (names,
 * statuses, numbers): looked over once and spread, not walked once to check and again to copy.
 */
function copyDetails(details: AuditEvent['details']): AuditEvent['details'] {
  if (isFlatData(details)) return { ...details };
  return isPlainData(details) ? clone(details) : structuredClone(details);
}

/**
 * A copy of an audit event, for the caller. Its `details` may hold anything: plain data (what the
 * scheduler writes) is copied by {@link clone}, anything else by `structuredClone`, which also
 * refuses what cannot be stored (a function).
 */
export function copyAudit(event: AuditEvent): AuditEvent {
  return { ...event, at: new Date(event.at.getTime()), details: copyDetails(event.details) };
}

/** A copy of an audit event to store: its id flattened (see {@link flat}), its time a {@link storedDate}. */
export function storedAudit(event: AuditEvent): AuditEvent {
  return { ...event, id: flat(event.id), at: storedDate(event.at.getTime()), details: copyDetails(event.details) };
}


const copyMessage = (message: ContextMessage): ContextMessage => ({ role: message.role, content: message.content, at: message.at });

/** A copy of a stored session, for the caller: its history and time its own. */
export function copySession(session: SessionState): SessionState {
  return { summary: session.summary, history: ownList(session.history, copyMessage), updatedAt: new Date(session.updatedAt.getTime()) };
}

/** A copy of a caller's session to store: its summary flattened (see {@link flat}), its time a {@link storedDate}, an empty history {@link NONE}. */
export function storedSession(session: SessionState): SessionState {
  return { summary: flat(session.summary), history: storedList(session.history, copyMessage), updatedAt: storedDate(session.updatedAt.getTime()) };
}
