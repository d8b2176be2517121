/** The dashboard page. It holds no data: the script fills it from the JSON API. */
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

<main id="main" hidden>
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
    <table>
      <thead><tr><th>Job</th><th>Agent</th><th>Consecutive failures</th><th>Last run</th><th></th></tr></thead>
      <tbody id="dead-letter-body"></tbody>
    </table>
    <p id="dead-letter-empty" class="muted">No job is dead-lettered.</p>
  </section>

  <section id="jobs" class="card">
    <h2>Jobs <span id="jobs-count" class="count"></span></h2>
    <table>
      <thead><tr><th>Name</th><th>Agent</th><th>Status</th><th>Schedule</th><th>Next run</th><th>Last run</th><th>Runs / failures</th><th></th></tr></thead>
      <tbody id="jobs-body"></tbody>
    </table>
    <p id="jobs-empty" class="muted">No jobs yet.</p>
  </section>

  <section id="history" class="card" hidden>
    <h2>History of <span id="history-job"></span> <button type="button" data-action="close-history" class="link">close</button></h2>
    <table>
      <thead><tr><th>Run</th><th>Status</th><th>Trigger</th><th>Attempt</th><th>Scheduled for</th><th>Started</th><th>Duration</th><th>Deliveries</th><th></th></tr></thead>
      <tbody id="history-body"></tbody>
    </table>
    <p id="history-empty" class="muted">No runs yet.</p>
    <div id="run-details" hidden></div>
  </section>
</main>

<div id="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
`;
