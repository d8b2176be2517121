import { jobToWire } from '@symbi/core';
import { makeJob } from '@symbi/core/testing';
import { describe, expect, it } from 'vitest';
import type { JobView } from '../src/backend/backend.js';
import { Style } from '../src/output/style.js';
import { jobDetails, jobTable } from '../src/output/views.js';

const now = new Date('2026-03-02T09:00:00Z');
const plain = new Style(false);
const view = (status: JobView['status']) =>
  jobToWire(makeJob({ name: `job-${status}`, status, nextRun: new Date(now.getTime() - 67_000), lastRun: new Date(now.getTime() - 70_000) })) as JobView;

describe('job views', () => {
  it('shows no past next run for a dead-lettered or paused job, only for an active one', () => {
    const table = jobTable([view('active'), view('dead_letter'), view('paused')], now, plain);
    const rows = table.split('\n');
    expect(rows.find((row) => row.includes('job-active'))).toContain('1m7s ago');
    for (const status of ['dead_letter', 'paused']) {
      const row = rows.find((line) => line.includes(`job-${status}`)) as string;
      expect(row).not.toContain('1m7s ago');
      expect(row).toContain('1m10s ago');
    }
    expect(jobDetails(view('dead_letter'), now, plain, [])).not.toContain('1m7s ago');
  });
});
