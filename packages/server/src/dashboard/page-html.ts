import { JOB_STATUSES, RUN_STATUSES, SECURITY_EVENT_TYPES } from '@symbi/core';

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `<option>`s of a filter `<select>`: an empty "any" choice, then one per value. */
function options(any: string, values: readonly string[]): string {
  return [`<option value="">${escapeHtml(any)}</option>`, ...values.map((v) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`)].join('');
}

const searchField = (view: string, placeholder: string) =>
  `<label>Search <input type="search" id="${view}-q" name="q" placeholder="${escapeHtml(placeholder)}" autocomplete="off"></label>`;
const selectField = (view: string, name: string, label: string, choices: string) =>
  `<label>${escapeHtml(label)} <select id="${view}-${name}" name="${name}">${choices}</select></label>`;
const jobField = (view: string) =>
  `<label>Job <input id="${view}-job" name="job" list="job-names" placeholder="any job" autocomplete="off"></label>`;
const sinceField = (view: string, label: string) =>
  `<label>${escapeHtml(label)} <input type="datetime-local" id="${view}-since" name="since"></label>`;

/**
 * A view listing rows under a filter form: `#<view>-filter` (its values go to the address),
 * `#<view>-body`, `#<view>-count`, `#<view>-empty`, and `#<view>-more` when the list is capped.
 */
function filteredList(view: string, title: string, list: { fields: string[]; headers: string[]; empty: string; capped?: string }): string {
  const headers = list.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  return `  <div id="view-${view}" class="view" hidden>
    <section class="card">
      <h2>${escapeHtml(title)} <span id="${view}-count" class="count"></span></h2>
      <form id="${view}-filter" class="filters" data-view="${view}">
        ${list.fields.join('\n        ')}
        <button type="reset">Clear</button>
      </form>
      <table>
        <thead><tr>${headers}</tr></thead>
        <tbody id="${view}-body"></tbody>
      </table>
      <p id="${view}-empty" class="muted">${escapeHtml(list.empty)}</p>
      ${list.capped ? `<p id="${view}-more" class="muted" hidden>${escapeHtml(list.capped)}</p>` : ''}
    </section>
  </div>`;
}

/**
 * The dashboard page. It holds no data: the script fills it from the JSON API. Views are
 * sections shown one at a time by the address's fragment (`#/jobs`, `#/runs/<id>`, …).
 */
export const PAGE_HTML = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>symbi scheduler</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard/styles.css">
<script src="/dashboard/app.js" defer></script>
</head>
<body>
<header class="bar">
  <h1>symbi scheduler</h1>
  <span id="health-badge" class="badge" data-status="unknown">…</span>
  <nav id="nav" hidden>
    <a href="#/overview" data-nav="overview">Overview</a>
    <a href="#/jobs" data-nav="jobs">Jobs</a>
    <a href="#/runs" data-nav="runs">Runs</a>
    <a href="#/audit" data-nav="audit">Audit log</a>
  </nav>
  <span class="spacer"></span>
  <span id="refreshed" class="muted"></span>
  <button type="button" id="refresh" data-action="refresh">Refresh</button>
  <button type="button" id="forget-key" data-action="forget-key" hidden>Forget key</button>
</header>

<section id="login" class="card narrow" hidden>
  <h2>API key</h2>
  <p>This server needs an API key. It is kept in this tab only (session storage).</p>
  <form id="login-form">
    <label for="api-key">Key</label>
    <input type="password" id="api-key" name="api-key" autocomplete="off" required>
    <button type="submit" id="connect">Connect</button>
  </form>
  <p id="login-error" class="error" role="alert"></p>
</section>

<datalist id="job-names"></datalist>

<main id="main" hidden>
  <div id="view-overview" class="view" hidden>
    <section id="health" class="card">
      <h2>Scheduler health</h2>
      <dl id="health-details" class="stats"></dl>
    </section>

    <section id="approvals" class="card">
      <h2>Pending approvals <span id="approvals-count" class="count"></span></h2>
      <table>
        <thead><tr><th>Job</th><th>Run</th><th>Requested</th><th>Expires</th><th>Approver</th><th>Reason</th><th></th></tr></thead>
        <tbody id="approvals-body"></tbody>
      </table>
      <p id="approvals-empty" class="muted">No run is waiting for approval.</p>
    </section>

    <section id="dead-letter" class="card">
      <h2>Dead-letter jobs <span id="dead-letter-count" class="count"></span></h2>
      <div id="bulk-bar" class="toolbar">
        <span id="bulk-count" class="muted">0 selected</span>
        <button type="button" data-action="bulk-reset" class="primary" title="Reactivate: the job fires again on its schedule">Reset selected</button>
        <button type="button" data-action="bulk-resume" title="Reactivate and run each job once now">Resume selected (reset and run now)</button>
        <button type="button" data-action="bulk-delete" class="danger" title="Delete the jobs with their run history">Delete selected</button>
      </div>
      <div id="bulk-confirm" class="confirm" role="alertdialog" hidden>
        <span id="bulk-confirm-text"></span>
        <button type="button" data-action="bulk-delete-confirm" class="danger">Delete</button>
        <button type="button" data-action="bulk-delete-cancel">Cancel</button>
      </div>
      <table>
        <thead><tr><th><input type="checkbox" id="dead-letter-all" aria-label="Select every dead-lettered job"></th><th>Job</th><th>Agent</th><th>Consecutive failures</th><th>Last run</th><th></th></tr></thead>
        <tbody id="dead-letter-body"></tbody>
      </table>
      <p id="dead-letter-empty" class="muted">No job is dead-lettered.</p>
    </section>
  </div>

${filteredList('jobs', 'Jobs', {
  fields: [
    searchField('jobs', 'name, agent or id'),
    selectField('jobs', 'status', 'Status', options('any status', JOB_STATUSES)),
  ],
  headers: ['Name', 'Agent', 'Status', 'Schedule', 'Next run', 'Last run', 'Runs / failures', ''],
  empty: 'No job matches.',
})}
${filteredList('runs', 'Runs', {
  fields: [
    searchField('runs', 'job, run id, input, output or error'),
    jobField('runs'),
    selectField('runs', 'status', 'Status', options('any status', RUN_STATUSES)),
    sinceField('runs', 'Scheduled since (UTC)'),
  ],
  headers: ['Run', 'Job', 'Status', 'Trigger', 'Attempt', 'Scheduled for', 'Started', 'Duration', 'Deliveries'],
  empty: 'No run matches.',
  capped: 'Only the newest matching runs are loaded; narrow the filters to reach older ones.',
})}
  <div id="view-run" class="view" hidden>
    <section id="run-detail" class="card"></section>
  </div>

${filteredList('audit', 'Audit log', {
  fields: [
    selectField('audit', 'type', 'Type', options('any type', SECURITY_EVENT_TYPES)),
    jobField('audit'),
    sinceField('audit', 'Since (UTC)'),
  ],
  headers: ['Time', 'Event', 'Job', 'Run', 'Actor', 'Details'],
  empty: 'No event matches.',
  capped: 'Only the newest matching events are loaded; narrow the filters to reach older ones.',
})}
</main>

<div id="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
`;
