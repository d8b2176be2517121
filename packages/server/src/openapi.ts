import type { RouteDefinition } from './route-table.js';
import { queryParamSchema } from './query-params.js';
import { templateParams } from './router.js';
import { COMPONENT_SCHEMAS, schemaRef } from './schemas.js';

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (bad JSON, bad percent-encoding).',
  401: 'Missing or invalid API key.',
  403: "The API key's role does not allow this, or (approvals) it is not the job's named approver.",
  404: 'Unknown job, run or route.',
  409: 'Conflict with the current state (name taken, job not in a state that allows this).',
  413: 'Request body too large.',
  415: 'Request body is not JSON.',
  422: 'Validation failed; `error.field` names the field.',
  503: 'The scheduler cannot reach its store right now (`STORE_UNAVAILABLE`); try again.',
  507: 'The store is full (`STORAGE_FULL`); nothing was saved.',
};

/** Statuses a route may answer besides its success, derived from how it is declared. */
export function errorStatuses(route: RouteDefinition): number[] {
  const statuses = new Set<number>(route.errors ?? []);
  if (route.access !== 'public') statuses.add(401);
  if (route.access === 'key' && route.method !== 'GET') statuses.add(403);
  if (templateParams(route.path).length > 0) statuses.add(404);
  if (route.query?.length) statuses.add(422);
  if (route.body) [400, 413, 415, 422].forEach((s) => statuses.add(s));
  if (route.access !== 'public') statuses.add(503);
  if (route.access === 'key' && route.method !== 'GET') statuses.add(507);
  return [...statuses].sort((a, b) => a - b);
}

/**
 * The OpenAPI 3.1 document of the API, built from the route table the router uses, so the two
 * cannot drift apart.
 */
export function buildOpenApiDocument(routes: readonly RouteDefinition[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operations = (paths[route.path] ??= {});
    operations[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'symbi scheduler API',
      version: '1.0.0',
      description:
        'Durable schedules for AI agents. Every route needs `Authorization: Bearer <key>` when the server has an API key; ' +
        'health and metrics may be opened by the host. Errors are `{ "error": { "code", "message", "field"? } }`.',
    },
    tags: ['schedule', 'runs', 'approvals', 'audit', 'health', 'meta', 'dashboard'].map((name) => ({ name })),
    paths,
    components: {
      schemas: COMPONENT_SCHEMAS,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key configured on the server.' } },
    },
  };
}

function operation(route: RouteDefinition): Record<string, unknown> {
  const parameters = [
    ...templateParams(route.path).map((name) => ({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string' },
      description: name === 'job_id' ? 'Job id or name.' : name === 'run_id' ? 'Run id.' : 'Asset file name.',
    })),
    ...(route.query ?? []).map((param) => ({ name: param.name, in: 'query', required: false, description: param.description, schema: queryParamSchema(param) })),
  ];
  const responses: Record<string, unknown> = {
    [String(route.response.status)]: {
      description: route.response.description,
      content: { [route.response.contentType ?? 'application/json']: { schema: route.response.schema ?? { type: 'string' } } },
    },
  };
  for (const status of errorStatuses(route)) {
    responses[String(status)] = { description: ERROR_DESCRIPTIONS[status], content: { 'application/json': { schema: schemaRef('Error') } } };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security: route.access === 'public' ? [] : [{ bearerAuth: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? { requestBody: { required: route.body.required, content: { 'application/json': { schema: route.body.schema } } } }
      : {}),
    responses,
  };
}
