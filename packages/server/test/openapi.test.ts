import { API_ROUTES, buildOpenApiDocument } from '@symbi/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startLiveServer, type LiveServer } from './live-server.js';

type Operation = {
  operationId: string;
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

describe('the OpenAPI document', () => {
  let live: LiveServer;
  let doc: Document;

  beforeAll(async () => {
    live = await startLiveServer({ apiKey: 'doc-key' });
    const res = await live.call('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = await res.json();
  });
  afterAll(() => live.close());

  it('is OpenAPI 3.1 and equals the document built from the route table', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(API_ROUTES))));
  });

  it('documents every route the router answers, and the router answers every documented operation', async () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    for (const entry of documented) {
      const [method, template] = entry.split(' ') as [string, string];
      const path = template.replace(/\{[a-z_]+\}/g, 'no-such-thing');
      const res = await rawRequest(live.url, { method, path, headers: { authorization: 'Bearer doc-key' } });
      expect(res.status, entry).not.toBe(405);
      const isJson = String(res.headers['content-type']).startsWith('application/json');
      expect(isJson ? JSON.parse(res.text).error?.code : res.status, entry).not.toBe('ROUTE_NOT_FOUND');
      // Every other method on the same path is refused with 405, so the table is the whole router.
      for (const other of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH']) {
        if (doc.paths[template]![other.toLowerCase()]) continue;
        const refused = await rawRequest(live.url, { method: other, path, headers: { authorization: 'Bearer doc-key' } });
        expect(refused.status, `${other} ${template}`).toBe(405);
      }
    }
  });

  it('declares every path parameter, has unique operation ids, and resolves every $ref', () => {
    const ids = new Set<string>();
    const refs: string[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          if (k === '$ref') refs.push(v as string);
          else collect(v);
        }
      }
    };
    for (const [path, ops] of Object.entries(doc.paths)) {
      const params = [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]);
      for (const op of Object.values(ops)) {
        expect(ids.has(op.operationId), op.operationId).toBe(false);
        ids.add(op.operationId);
        expect((op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name)).toEqual(params);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        collect(op);
      }
    }
    collect(doc.components);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) {
      const name = ref.replace('#/components/schemas/', '');
      expect(doc.components.schemas[name], ref).toBeDefined();
    }
  });

  it('documents the query parameters the routes accept', () => {
    const history = doc.paths['/api/v1/schedule/{job_id}/history']!.get!;
    expect(history.parameters!.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['limit', 'status', 'since']);
    const list = doc.paths['/api/v1/schedule']!.get!;
    expect(list.parameters!.map((p) => p.name)).toEqual(['status', 'agent_id', 'limit', 'offset']);
    expect(doc.paths['/metrics']!.get!.responses['200']!.content).toHaveProperty(['text/plain; version=0.0.4; charset=utf-8']);
  });
});
