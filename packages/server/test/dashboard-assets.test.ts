import { JOB_STATUSES, RUN_STATUSES, SECURITY_EVENT_TYPES } from '@symbi/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, type LiveServer } from './live-server.js';

/** What the dashboard serves, checked without a browser (the Chromium test drives it for real). */
describe('the dashboard files', () => {
  let live: LiveServer;
  let page: string;
  let script: string;

  beforeAll(async () => {
    live = await startLiveServer({ apiKey: 'assets-key' });
    page = await (await fetch(`${live.url}/`)).text();
    script = await (await fetch(`${live.url}/dashboard/app.js`)).text();
  });
  afterAll(() => live?.close());

  it('serves a script that parses, in one function scope, and never hands text to an HTML parser', () => {
    expect(() => new Function(script)).not.toThrow();
    expect(script.startsWith('(function () {')).toBe(true);
    for (const sink of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function', 'DOMParser', 'createContextualFragment']) {
      expect(script, sink).not.toContain(sink);
    }
  });

  it('offers every job status, run status and audit event type as a filter', () => {
    const choices = (id: string) => {
      const select = new RegExp(`<select id="${id}"[^>]*>(.*?)</select>`).exec(page)?.[1] ?? '';
      return [...select.matchAll(/<option value="([^"]*)">/g)].map((m) => m[1]);
    };
    expect(choices('jobs-status')).toEqual(['', ...JOB_STATUSES]);
    expect(choices('runs-status')).toEqual(['', ...RUN_STATUSES]);
    expect(choices('audit-type')).toEqual(['', ...SECURITY_EVENT_TYPES]);
  });

  it('has one section per view the script routes to, and a filter form per list view', () => {
    const views = [...page.matchAll(/<div id="view-([a-z]+)" class="view"/g)].map((m) => m[1]);
    expect(views).toEqual(['overview', 'jobs', 'runs', 'run', 'audit']);
    for (const view of views) expect(script, view).toContain(`VIEWS.${view} = {`);
    const forms = [...page.matchAll(/<form id="([a-z]+)-filter" class="filters" data-view="([a-z]+)">/g)].map((m) => [m[1], m[2]]);
    expect(forms).toEqual([
      ['jobs', 'jobs'],
      ['runs', 'runs'],
      ['audit', 'audit'],
    ]);
  });
});
