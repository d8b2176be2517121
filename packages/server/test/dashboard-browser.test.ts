import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { failingAgent } from '@symbi/core/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLiveServer, waitFor, type LiveServer } from './live-server.js';

const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
const KEY = 'dashboard-key';

/** Debian's Chromium, as installed on CI (`apt-get install -y chromium`). */
function chromiumPath(): string {
  return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
}

describe('the dashboard in Chromium', () => {
  let live: LiveServer;
  let browser: Browser;
  let runId: string;

  beforeAll(async () => {
    live = await startLiveServer({
      apiKey: KEY,
      agents: { deployer: () => 'deployed build 1842 to production', reporter: () => 'report ready', flaky: failingAgent('database unreachable') },
    });
    const { scheduler } = live;
    await scheduler.add({ name: 'hourly-report', agentId: 'reporter', cronExpr: '0 0 * * * *', delivery: ['stdout'] });
    await scheduler.add({ name: 'nightly-backup', agentId: 'reporter', cronExpr: '0 0 2 * * *', timezone: 'Europe/Berlin', paused: true });
    await scheduler.add({ name: 'flaky-sync', agentId: 'flaky', cronExpr: '0 */15 * * * *', maxRetries: 1 });
    await scheduler.runNow('flaky-sync', { wait: true });
    await scheduler.add({
      name: 'production-deploy',
      agentId: 'deployer',
      cronExpr: '0 0 0 * * 0',
      delivery: ['stdout', 'log_file'],
      policy: { requireApproval: true, approver: 'release-manager' },
    });
    runId = (await scheduler.runNow('production-deploy', { wait: true })).id;
    expect((await scheduler.getRun(runId)).status).toBe('awaiting_approval');
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--headless'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await live?.close();
  });

  it('asks for the key, shows the approval, approves it, and shows the run succeeded', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const outside: string[] = [];
    const consoleErrors: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(live.url)) outside.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));

    await page.goto(`${live.url}/`);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#api-key', 'wrong-key');
    await page.click('#connect');
    await expect.poll(() => page.textContent('#login-error')).toBe('That key was refused.');
    await page.fill('#api-key', KEY);
    await page.click('#connect');
    await page.locator('#main').waitFor({ state: 'visible' });

    const approvalRow = page.locator(`#approvals-body tr[data-run-id="${runId}"]`);
    await approvalRow.waitFor();
    expect(await approvalRow.textContent()).toContain('production-deploy');
    expect(await approvalRow.textContent()).toContain('release-manager');
    expect(await page.locator('#dead-letter-body tr').allTextContents()).toEqual([expect.stringContaining('flaky-sync')]);
    expect(await page.textContent('#health-badge')).toBe('healthy');
    expect(await page.locator('#jobs-body tr').count()).toBe(4);

    await approvalRow.locator('button[data-action="approve"]').click();
    const succeeded = page.locator(`#history-body tr[data-run-id="${runId}"][data-status="succeeded"]`);
    await waitFor(async () => {
      if (await succeeded.count()) return true;
      await page.click('#refresh');
      return undefined;
    }, 10_000);
    await expect.poll(() => page.locator('#approvals-body tr').count()).toBe(0);
    await page.locator('#run-details pre').first().waitFor();
    expect(await page.textContent('#run-details')).toContain('deployed build 1842 to production');
    expect(await page.textContent('#run-details')).toContain('approved by api');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });

    const run = await (await live.call(`/api/v1/runs/${runId}`)).json();
    expect(run).toMatchObject({ status: 'succeeded', output: 'deployed build 1842 to production', approval: { decision: 'approved', decided_by: 'api' } });

    // The dead-lettered job's failed run shows its error.
    await page.locator('#dead-letter-body button[data-action="history"]').click();
    await page.locator('#history-body tr[data-status="failed"]').waitFor();
    await page.locator('#history-body tr[data-status="failed"] button[data-action="details"]').click();
    await page.locator('#run-details pre.error').waitFor();
    expect(await page.textContent('#run-details pre.error')).toBe('database unreachable');

    // The key is kept for the tab: a reload goes straight to the data.
    await page.reload();
    await page.locator('#main').waitFor({ state: 'visible' });
    expect(await page.isHidden('#login')).toBe(true);

    expect(outside).toEqual([]);
    expect(consoleErrors.filter((e) => !e.includes('401'))).toEqual([]);
  });

  it('resets a dead-lettered job from its button', async () => {
    const page = await browser.newPage();
    await page.goto(`${live.url}/`);
    await page.evaluate(`sessionStorage.setItem('symbi.apiKey', ${JSON.stringify(KEY)})`);
    await page.reload();
    await page.locator('#dead-letter-body button[data-action="reset"]').click();
    await expect.poll(() => page.locator('#dead-letter-body tr').count()).toBe(0);
    expect((await live.scheduler.getJob('flaky-sync')).status).toBe('active');
    expect(await page.locator('#jobs-body tr', { hasText: 'flaky-sync' }).locator('.badge').textContent()).toBe('active');
  });
});
