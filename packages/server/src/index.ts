/**
 * `@symbi/server`: the HTTP API, Prometheus metrics, health and the dashboard of a `CronScheduler`.
 *
 * @packageDocumentation
 * @module @symbi/server
 */
export { createApiHandler, type ApiHandler, type ApiOptions } from './api-handler.js';
export { SERVER_LIMITS, startServer, type RunningServer, type StartServerOptions } from './start-server.js';
export { ApiError, type ErrorBody, type HttpErrorCode } from './api-error.js';
export { DEFAULT_KEY_LABEL, type ApiKey, type Caller, type Permission } from './api-keys.js';
export { API_ROUTES, type RouteAccess, type RouteDefinition } from './route-table.js';
export { buildOpenApiDocument } from './openapi.js';
export { DEFAULT_MAX_BODY_BYTES } from './request-body.js';
