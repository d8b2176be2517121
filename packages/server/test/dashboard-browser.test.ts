import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ExecutionError } from '@symbi/core';
import { failingAgent } from '@symbi/core/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_ARGS, describeChromium } from './chromium.js';
import { startLiveServer, waitFor, type LiveServer } from './live-server.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const KEY = 'dashboard-key';
const VIEWPORT = { width: 1280, height: 900 };
/** Jobs fire only on New Year's midnight, so no scheduled fire changes what the tests expect. */
const YEARLY = '0 0 0 1 1 *';

// Stored data is hostile: each of these would run script or load an image if parsed as HTML.
const HOSTILE_INPUT = `<img src=x onerror="window.__pwned='input'">summarise "Q3" & <b>send</b>`;
const HOSTILE_OUTPUT = `<script>window.__pwned='output'</script><iframe src="/x"></iframe>report & totals`;
const HOSTILE_ERROR = `parse failed at <svg onload="window.__pwned='error'"> 'line 3'`;

type Row = { id: string; [field: string]: unknown };

describeChromium('the dashboard in Chromium', (executablePath) => {
  let live: LiveServer;
  let browser: Browser;
  const ids: Record<string, string> = {};
  const pages: { page: Page; problems: string[] }[] = [];
  const screenshots = new Map<string, Buffer>();

  const api = async <T = Row[]>(path: string): Promise<T> => {
    const res = await live.call(path);
    expect(res.status, path).toBe(200);
    return res.json();
  };
  const settled = (jobName: string, runs: number) =>
    waitFor(async () => {
      const history = await live.scheduler.history(jobName);
      const done = history.length === runs && history.every((r) => !['scheduled', 'running'].includes(r.status) && r.deliveries.every((d) => d.status !== 'pending'));
      return done ? history : undefined;
    });

  beforeAll(async () => {
    live = await startLiveServer({
      apiKey: KEY,
      agents: {
        deployer: () => 'deployed build 1842 to production',
        reporter: () => 'report ready',
        flaky: failingAgent('database unreachable'),
        parser: failingAgent(HOSTILE_ERROR),
        hostile: () => HOSTILE_OUTPUT,
        unsteady: (_request, call) => {
          if (call < 3) throw new ExecutionError(`upstream timeout ${call}`);
          return 'recovered on the third attempt';
        },
        watcher: (_request, call) =>
          call === 1
            ? { output: 'checked 6 of 12 hosts', summary: 'half way', action: 'continue' }
            : { output: 'all 12 hosts healthy', summary: 'done', action: 'sleep' },
      },
    });
    const { scheduler, router } = live;
    router.failing.add('pager');
    // A one-shot fire that fails twice and is retried (about 1 s, then 2 s later) until it succeeds.
    await scheduler.add({ name: 'unsteady-sync', agentId: 'unsteady', at: new Date(Date.now() + 200).toISOString(), maxRetries: 5 });
    await scheduler.add({ name: 'annual-report', agentId: 'reporter', cronExpr: YEARLY, delivery: ['stdout'] });
    await scheduler.add({ name: 'nightly-backup', agentId: 'reporter', cronExpr: '0 0 2 * * *', timezone: 'Europe/Berlin', paused: true });
    for (const name of ['flaky-a', 'flaky-b', 'flaky-c', 'flaky-sync']) {
      await scheduler.add({ name, agentId: 'flaky', cronExpr: YEARLY, maxRetries: 1 });
      await scheduler.runNow(name, { wait: true });
    }
    await scheduler.add({ name: 'report-parser', agentId: 'parser', cronExpr: YEARLY, maxRetries: 5 });
    ids.parser = (await scheduler.runNow('report-parser', { wait: true })).id;
    await scheduler.add({ name: 'hostile-output', agentId: 'hostile', cronExpr: YEARLY, input: HOSTILE_INPUT, delivery: ['stdout', 'pager'] });
    ids.hostile = (await scheduler.runNow('hostile-output', { wait: true })).id;
    await scheduler.add({ name: 'fleet-heartbeat', agentId: 'watcher', cronExpr: YEARLY, heartbeat: { enabled: true, maxIterations: 3 } });
    ids.heartbeat = (await scheduler.runNow('fleet-heartbeat', { wait: true })).id;
    await scheduler.add({
      name: 'production-deploy',
      agentId: 'deployer',
      cronExpr: YEARLY,
      delivery: ['stdout'],
      policy: { requireApproval: true, approver: 'release-manager' },
    });
    ids.approve = (await scheduler.runNow('production-deploy', { wait: true })).id;
    ids.deny = (await scheduler.runNow('production-deploy', { wait: true })).id;
    await settled('hostile-output', 1);
    const retried = await waitFor(async () => {
      const history = await scheduler.history('unsteady-sync');
      return history[0]?.status === 'succeeded' ? history : undefined;
    }, 15_000);
    ids.retried = retried[0]!.id;
    ids.firstAttempt = retried[2]!.id;
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  /** Every page must stay on this server and log no error but the 401/404 answers the tests provoke. */
  afterEach(async () => {
    for (const { page, problems } of pages.splice(0)) {
      await page.close();
      expect(problems).toEqual([]);
    }
  });

  /** A new tab at `hash`, with the key already in its session unless `key` is null. */
  async function open(hash: string, options: { key?: string | null; url?: string; pausedClock?: boolean } = {}): Promise<Page> {
    const page = await browser.newPage({ viewport: VIEWPORT });
    const base = options.url ?? live.url;
    const problems: string[] = [];
    pages.push({ page, problems });
    page.on('request', (request) => {
      if (!request.url().startsWith(`${base}/`)) problems.push(`request to ${request.url()}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of (401|404)/.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const key = options.key === undefined ? KEY : options.key;
    if (key !== null) await page.addInitScript({ content: `sessionStorage.setItem('symbi.apiKey', ${JSON.stringify(key)})` });
    if (options.pausedClock) await page.clock.install();
    await page.goto(`${base}/${hash}`);
    if (options.pausedClock) await page.clock.pauseAt(Date.now() + 1000);
    return page;
  }

  /** Nothing stored was parsed as HTML: no injected element exists and no injected script ran. */
  async function expectInert(page: Page): Promise<void> {
    expect(await page.evaluate('window.__pwned')).toBeUndefined();
    expect(await page.locator('img, iframe, svg, object, embed').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
  }

  /** A full-page screenshot of a view: a real PNG as wide as the window, with content, unlike every other view's. */
  async function screenshot(page: Page, view: string): Promise<void> {
    await page.evaluate('document.fonts.ready');
    const png = await page.screenshot({ path: `${ARTIFACTS}dashboard-${view}.png`, fullPage: true });
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), view).toBe(true);
    expect(png.readUInt32BE(16), `${view} width`).toBe(VIEWPORT.width);
    expect(png.readUInt32BE(20), `${view} height`).toBeGreaterThanOrEqual(VIEWPORT.height);
    expect(png.length, `${view} bytes`).toBeGreaterThan(12_000);
    for (const [other, earlier] of screenshots) expect(earlier.equals(png), `${view} looks exactly like ${other}`).toBe(false);
    screenshots.set(view, png);
  }

  const rowIds = (page: Page, body: string, attribute: string) =>
    page.locator(`${body} tr`).evaluateAll((rows, name) => rows.map((row) => row.getAttribute(name)), attribute);
  const cellTexts = (page: Page, body: string, column: number) =>
    page.locator(`${body} tr td:nth-child(${column})`).allTextContents();
  const toast = (page: Page) => page.textContent('#toast');
  const cells = async (page: Page, body: string) =>
    Promise.all((await page.locator(`${body} tr`).all()).map((row) => row.locator('td').allTextContents()));

  /** The view shows the rows the API answers for the same filters (at least one), in the same order. */
  async function expectRowsOf(page: Page, path: string, query: string, body: string, attribute: string): Promise<string[]> {
    const expected = (await api(`${path}?limit=200${query}`)).map((row) => row.id);
    expect(expected.length, query).toBeGreaterThan(0);
    await expect.poll(() => rowIds(page, body, attribute), { message: query }).toEqual(expected);
    return expected;
  }

  it('asks for the API key once, keeps it for the tab, and forgets it on request; a server without keys needs none', async () => {
    const page = await open('', { key: null });
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.isHidden('#main')).toBe(true);
    await screenshot(page, 'login');
    await page.fill('#api-key', 'wrong-key');
    await page.click('#connect');
    await expect.poll(() => page.textContent('#login-error')).toBe('That key was refused.');
    await page.fill('#api-key', KEY);
    await page.click('#connect');
    await page.locator('#main').waitFor({ state: 'visible' });
    expect(await page.textContent('#health-badge')).toBe('healthy');
    expect(await page.evaluate('sessionStorage.getItem("symbi.apiKey")')).toBe(KEY);

    await page.reload();
    await page.locator('#dead-letter-body tr').first().waitFor();
    expect(await page.isHidden('#login')).toBe(true);

    await page.click('#forget-key');
    await page.locator('#login').waitFor({ state: 'visible' });
    expect(await page.evaluate('sessionStorage.getItem("symbi.apiKey")')).toBeNull();
    await page.reload();
    await page.locator('#login').waitFor({ state: 'visible' });

    const keyless = await startLiveServer({ agents: {} });
    try {
      await keyless.scheduler.add({ name: 'open-job', agentId: 'a', cronExpr: YEARLY });
      const anonymous = await open('#/jobs', { key: null, url: keyless.url });
      await anonymous.locator('#jobs-body tr').first().waitFor();
      expect(await cellTexts(anonymous, '#jobs-body', 1)).toEqual(['open-job']);
      expect(await anonymous.isHidden('#login')).toBe(true);
      expect(await anonymous.isHidden('#forget-key')).toBe(true);
      await anonymous.close();
    } finally {
      await keyless.close();
    }
  });

  it('overview: shows health, pending approvals and dead-letter jobs, and approves a run', async () => {
    const page = await open('');
    const approvalRow = page.locator(`#approvals-body tr[data-run-id="${ids.approve}"]`);
    await approvalRow.waitFor();
    expect(await approvalRow.textContent()).toContain('production-deploy');
    expect(await approvalRow.textContent()).toContain('release-manager');
    expect(await page.locator('#approvals-body tr').count()).toBe(2);
    expect(await cellTexts(page, '#dead-letter-body', 2)).toEqual(['flaky-a', 'flaky-b', 'flaky-c', 'flaky-sync']);
    expect(await page.textContent('#health-badge')).toBe('healthy');
    expect(await page.textContent('[data-stat="Paused jobs"]')).toBe('1');
    expect(await page.getAttribute('#nav a[data-nav="overview"]', 'aria-current')).toBe('page');
    await screenshot(page, 'overview');

    await approvalRow.locator('button[data-action="approve"]').click();
    await expect.poll(() => toast(page)).toBe(`Run …${ids.approve!.slice(-8)} approved`);
    await expect.poll(() => rowIds(page, '#approvals-body', 'data-run-id')).toEqual([ids.deny]);
    const [run] = await settled('production-deploy', 2).then((runs) => runs.filter((r) => r.id === ids.approve));
    expect(run).toMatchObject({ status: 'succeeded', output: 'deployed build 1842 to production', approval: { decision: 'approved', decidedBy: 'api' } });
    await expectInert(page);
  });

  it('resets, resumes and deletes several dead-lettered jobs at once, and names the jobs it could not change', async () => {
    // The clock is paused so no periodic refresh changes the list between the test's steps.
    const page = await open('#/overview', { pausedClock: true });
    await page.locator('#dead-letter-body tr').nth(3).waitFor();
    const select = (name: string) => page.locator('#dead-letter-body tr', { hasText: name }).locator('input[type="checkbox"]').check();

    await select('flaky-a');
    await select('flaky-b');
    expect(await page.textContent('#bulk-count')).toBe('2 selected');
    await live.scheduler.remove('flaky-b', { actor: 'someone-else' });
    await page.click('button[data-action="bulk-reset"]');
    await expect.poll(() => toast(page)).toContain('Reset 1 of 2 jobs. Failed: flaky-b: job not found');
    expect(await page.getAttribute('#toast', 'class')).toBe('error');
    expect((await live.scheduler.getJob('flaky-a')).status).toBe('active');
    await expect.poll(() => cellTexts(page, '#dead-letter-body', 2)).toEqual(['flaky-c', 'flaky-sync']);
    expect(await page.textContent('#bulk-count')).toBe('0 selected');

    await page.check('#dead-letter-all');
    expect(await page.textContent('#bulk-count')).toBe('2 selected');
    await page.click('button[data-action="bulk-resume"]');
    await expect.poll(() => toast(page)).toBe('Resumed 2 of 2 jobs.');
    for (const name of ['flaky-c', 'flaky-sync']) {
      const [again] = await settled(name, 2);
      expect(again).toMatchObject({ trigger: 'manual', status: 'failed', error: 'database unreachable' });
    }
    // They failed again, so they are back in the dead letter.
    await page.click('#refresh');
    await expect.poll(() => cellTexts(page, '#dead-letter-body', 2)).toEqual(['flaky-c', 'flaky-sync']);

    await page.check('#dead-letter-all');
    await page.click('button[data-action="bulk-delete"]');
    expect(await page.textContent('#bulk-confirm-text')).toBe('Delete 2 jobs with their run history (flaky-c, flaky-sync)? This cannot be undone.');
    await page.click('button[data-action="bulk-delete-cancel"]');
    expect(await page.isHidden('#bulk-confirm')).toBe(true);
    expect((await live.scheduler.getJob('flaky-c')).status).toBe('dead_letter');
    await page.click('button[data-action="bulk-delete"]');
    await page.click('button[data-action="bulk-delete-confirm"]');
    await expect.poll(() => toast(page)).toBe('Deleted 2 of 2 jobs.');
    await expect.poll(() => page.locator('#dead-letter-body tr').count()).toBe(0);
    expect(await page.isVisible('#dead-letter-empty')).toBe(true);
    for (const name of ['flaky-c', 'flaky-sync']) expect((await live.call(`/api/v1/schedule/${name}`)).status).toBe(404);
  });

  it('jobs: searches by name, agent or id, filters by status, keeps the filters in the address, and runs job actions', async () => {
    const page = await open('#/jobs');
    const all = (await api('/api/v1/schedule')).map((job) => job.name);
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(all);
    expect(await page.getAttribute('#nav a[data-nav="jobs"]', 'aria-current')).toBe('page');

    await page.fill('#jobs-q', 'REPORT');
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(['annual-report', 'nightly-backup', 'report-parser']);
    await page.fill('#jobs-q', 'reporter');
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(['annual-report', 'nightly-backup']);
    await page.selectOption('#jobs-status', 'paused');
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(['nightly-backup']);
    expect(await page.textContent('#jobs-count')).toBe(`(1 of ${all.length})`);
    await expect.poll(() => page.evaluate('location.hash')).toBe('#/jobs?q=reporter&status=paused');
    await page.reload();
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(['nightly-backup']);
    expect(await page.inputValue('#jobs-q')).toBe('reporter');
    await screenshot(page, 'jobs');

    const flakyA = (await live.scheduler.getJob('flaky-a')).id;
    await page.fill('#jobs-q', flakyA);
    await page.selectOption('#jobs-status', '');
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(['flaky-a']);
    await page.fill('#jobs-q', 'no job is called this');
    await expect.poll(() => page.isVisible('#jobs-empty')).toBe(true);
    await page.click('#jobs-filter button[type="reset"]');
    await expect.poll(() => cellTexts(page, '#jobs-body', 1)).toEqual(all);

    const row = page.locator('#jobs-body tr', { hasText: 'annual-report' });
    await row.locator('button[data-action="pause"]').click();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('paused');
    expect((await live.scheduler.getJob('annual-report')).status).toBe('paused');
    await row.locator('button[data-action="resume"]').click();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('active');
    await row.locator('button[data-action="run"]').click();
    await expect.poll(() => toast(page)).toMatch(/^Run …[0-9a-f]{8} of annual-report queued$/);
    await settled('annual-report', 1);

    await row.locator('a', { hasText: 'Runs' }).click();
    await expect.poll(() => page.evaluate('location.hash')).toBe(`#/runs?job=${(await live.scheduler.getJob('annual-report')).id}`);
    await expect.poll(() => cellTexts(page, '#runs-body', 2)).toEqual(['annual-report']);
    await expectInert(page);
  });

  it('runs: lists runs of every job, filtered by job, status and time, searched by text', async () => {
    const page = await open('#/runs');
    const expectRuns = (query: string) => expectRowsOf(page, '/api/v1/runs', query, '#runs-body', 'data-run-id');
    const all = await expectRuns('');

    await page.selectOption('#runs-status', 'failed');
    const failed = await expectRuns('&status=failed');
    expect(failed.length).toBeLessThan(all.length);
    expect(new Set(await rowIds(page, '#runs-body', 'data-status'))).toEqual(new Set(['failed']));

    await page.selectOption('#runs-status', '');
    await page.fill('#runs-job', 'production-deploy');
    await expectRuns('&job_id=production-deploy');
    expect(new Set(await cellTexts(page, '#runs-body', 2))).toEqual(new Set(['production-deploy']));
    await page.selectOption('#runs-status', 'denied');
    await expect.poll(() => page.locator('#runs-empty').isVisible()).toBe(true);

    await page.click('#runs-filter button[type="reset"]');
    await expectRuns('');
    await page.fill('#runs-q', 'HOSTS HEALTHY');
    await expect.poll(() => rowIds(page, '#runs-body', 'data-run-id')).toEqual([ids.heartbeat]);
    expect(await page.textContent('#runs-count')).toBe(`(1 of ${all.length} loaded)`);
    await page.fill('#runs-q', 'summarise "q3"');
    await expect.poll(() => rowIds(page, '#runs-body', 'data-run-id')).toEqual([ids.hostile]);
    expect(await page.textContent('#runs-body')).toContain('stdout: delivered, pager: failed');
    await page.fill('#runs-q', '');

    // The newest run (from the jobs test) is seconds younger than the runs made before the browser started.
    const [newest] = await api('/api/v1/runs?limit=1');
    const since = String(newest!.scheduled_for).slice(0, 19);
    await page.fill('#runs-since', since);
    const recent = await expectRuns(`&since=${since}Z`);
    expect(recent.length).toBeLessThan(all.length);
    await screenshot(page, 'runs');
    await expectInert(page);

    await page.locator(`#runs-body tr[data-run-id="${newest!.id}"] a`).click();
    await page.locator('#run-detail h2').waitFor();
    expect(await page.evaluate('location.hash')).toBe(`#/runs/${newest!.id}`);
    expect(await page.getAttribute('#nav a[data-nav="runs"]', 'aria-current')).toBe('page');
  });

  it('run detail: input, output, error, heartbeat iterations, deliveries with their attempts, and a decision', async () => {
    const page = await open(`#/runs/${ids.hostile}`);
    await page.locator('[data-part="deliveries"] tbody tr').first().waitFor();
    expect(await page.textContent('[data-part="input"] pre')).toBe(HOSTILE_INPUT);
    expect(await page.textContent('[data-part="output"] pre')).toBe(HOSTILE_OUTPUT);
    expect(await page.textContent('[data-part="error"] p')).toBe('none');
    expect(await cells(page, '[data-part="deliveries"] tbody')).toEqual([
      ['stdout', 'delivered', '1', '—', expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/)],
      ['pager', 'failed', '1', 'pager: refused by the test', expect.stringMatching(/Z$/)],
    ]);
    expect(await page.textContent('[data-part="iterations"]')).toContain('none (not a heartbeat run)');
    await expectInert(page);
    await screenshot(page, 'run');

    await page.goto(`${live.url}/#/runs/${ids.heartbeat}`);
    await page.locator('[data-part="iterations"] tbody tr').nth(1).waitFor();
    expect(await cells(page, '[data-part="iterations"] tbody')).toEqual([
      ['1', 'continue', expect.stringMatching(/^\d+ ms$/), 'half way', 'checked 6 of 12 hosts'],
      ['2', 'sleep', expect.stringMatching(/^\d+ ms$/), 'done', 'all 12 hosts healthy'],
    ]);
    expect(await page.textContent('[data-part="output"] pre')).toBe('all 12 hosts healthy');
    expect(await page.textContent('.facts')).toContain('Triggermanual');

    await page.goto(`${live.url}/#/runs/${ids.retried}`);
    await page.locator('[data-part="attempts"] tbody tr').nth(2).waitFor();
    expect(await cells(page, '[data-part="attempts"] tbody')).toEqual([
      ['1', expect.stringMatching(/^…[0-9a-f]{8}$/), 'failed', expect.stringMatching(/Z$/), 'upstream timeout 1'],
      ['2', expect.stringMatching(/^…[0-9a-f]{8}$/), 'failed', expect.stringMatching(/Z$/), 'upstream timeout 2'],
      ['3', 'this run', 'succeeded', expect.stringMatching(/Z$/), '—'],
    ]);
    expect(await page.textContent('.facts')).toContain('Triggerretry');
    await page.locator('[data-part="attempts"] tbody tr').first().locator('a').click();
    await expect.poll(() => page.evaluate('location.hash')).toBe(`#/runs/${ids.firstAttempt}`);
    await expect.poll(() => page.textContent('[data-part="error"] pre')).toBe('upstream timeout 1');
    expect(await page.textContent('.facts')).toContain('Triggerschedule');

    await page.goto(`${live.url}/#/runs/${ids.parser}`);
    // The hash changes without a reload: wait for this run's error, not the previous page's.
    await expect.poll(() => page.textContent('[data-part="error"] pre.error')).toBe(HOSTILE_ERROR);
    await expectInert(page);

    await page.goto(`${live.url}/#/runs/${ids.deny}`);
    const approval = page.locator('[data-part="approval"]');
    await approval.locator('button[data-action="deny"]').click();
    await expect.poll(() => page.textContent('#run-detail h2 .badge')).toBe('denied');
    expect(await approval.textContent()).toMatch(/: denied by api at /);
    expect(await approval.locator('button').count()).toBe(0);
    expect((await live.scheduler.getRun(ids.deny!)).status).toBe('denied');

    await page.goto(`${live.url}/#/runs/no-such-run`);
    await expect.poll(() => page.textContent('#run-detail')).toContain('No such run');
    await page.locator('#nav a[data-nav="audit"]').click();
    await page.locator('#audit-body tr').first().waitFor();
  });

  it('audit log: filters events by type, job and time, and links them to their runs', async () => {
    const page = await open('#/audit');
    const expectEvents = (query: string) => expectRowsOf(page, '/api/v1/audit', query, '#audit-body', 'data-event-id');
    const all = await expectEvents('');

    await page.selectOption('#audit-type', 'CronJobFailed');
    await expectEvents('&type=CronJobFailed');
    expect(new Set(await rowIds(page, '#audit-body', 'data-type'))).toEqual(new Set(['CronJobFailed']));
    const parserRow = page.locator('#audit-body tr', { hasText: 'report-parser' });
    expect(await parserRow.locator('td:nth-child(6) .detail').allTextContents()).toEqual(['status: failed', `error: ${HOSTILE_ERROR}`, 'attempt: 1']);

    await page.selectOption('#audit-type', 'CronJobDeleted');
    await expectEvents('&type=CronJobDeleted');
    // Deleted jobs are named as the events recorded them.
    const jobs = await cellTexts(page, '#audit-body', 3);
    const actors = await cellTexts(page, '#audit-body', 5);
    expect(jobs.map((job, i) => `${job} by ${actors[i]}`).sort()).toEqual(['flaky-b by someone-else', 'flaky-c by api', 'flaky-sync by api']);

    await page.selectOption('#audit-type', '');
    await page.fill('#audit-job', 'production-deploy');
    const deploy = await expectEvents('&job_id=production-deploy');
    expect(deploy.length).toBeLessThan(all.length);
    await page.selectOption('#audit-type', 'ApprovalGranted');
    await expectEvents('&job_id=production-deploy&type=ApprovalGranted');
    await expect.poll(() => page.evaluate('location.hash')).toBe('#/audit?type=ApprovalGranted&job=production-deploy');

    await page.click('#audit-filter button[type="reset"]');
    await expectEvents('');
    const newest = await api('/api/v1/audit?limit=1');
    const since = String(newest[0]!.at).slice(0, 19);
    await page.fill('#audit-since', since);
    const recent = await expectEvents(`&since=${since}Z`);
    expect(recent.length).toBeLessThan(all.length);
    await page.fill('#audit-since', '');
    await page.selectOption('#audit-type', 'CronJobFailed');
    await expectEvents('&type=CronJobFailed');
    await screenshot(page, 'audit');
    await expectInert(page);

    await parserRow.locator('td:nth-child(4) a').click();
    await page.locator('[data-part="error"] pre.error').waitFor();
    expect(await page.evaluate('location.hash')).toBe(`#/runs/${ids.parser}`);
  });
});
