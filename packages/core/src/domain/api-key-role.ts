/**
 * What an API key may do:
 * - `read-only`: read jobs, runs, approvals, audit, health and metrics;
 * - `approver`: read, and approve or deny runs;
 * - `operator`: everything: create, change, pause, resume, reset, delete and run jobs, and decide approvals.
 */
export type ApiKeyRole = 'read-only' | 'approver' | 'operator';

/** Every API key role, from least to most allowed. */
export const API_KEY_ROLES: readonly ApiKeyRole[] = ['read-only', 'approver', 'operator'];
