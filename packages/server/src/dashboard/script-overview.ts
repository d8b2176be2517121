/**
 * The overview view of the dashboard script: health figures, runs waiting for approval, and the
 * dead-letter jobs with their bulk actions (reset, resume, delete several at once).
 */
export const OVERVIEW_SCRIPT = String.raw`
  VIEWS.overview = {
    load: function () {
      return api('GET', '/api/v1/approvals').then(function (runs) {
        renderHealthStats(state.health);
        renderApprovals(runs);
        renderDeadLetter();
      });
    }
  };

  function renderHealthStats(health) {
    var stats = [
      ['Status', health.status], ['Active jobs', health.active_jobs], ['Paused jobs', health.paused_jobs],
      ['In-flight runs', health.in_flight_jobs], ['Runs', health.metrics.runs_total], ['Succeeded', health.metrics.runs_succeeded],
      ['Failed', health.metrics.runs_failed], ['Avg execution', health.metrics.avg_execution_time_ms + ' ms']
    ];
    $('health-details').replaceChildren.apply($('health-details'), stats.map(function (s) {
      return el('div', {}, [el('dt', { text: s[0] }), el('dd', { text: s[1], 'data-stat': s[0] })]);
    }));
  }

  function renderApprovals(runs) {
    $('approvals-count').textContent = runs.length ? '(' + runs.length + ')' : '';
    replaceRows('approvals-body', 'approvals-empty', runs.map(function (run) {
      var approval = run.approval || {};
      return el('tr', { 'data-run-id': run.id }, [
        td(run.job_name), cell([link(shortId(run.id), runHash(run.id), run.id)]), td(time(approval.requested_at)),
        td(time(approval.expires_at)), td(approval.approver), td(approval.reason, 'wrap'),
        actionsCell(decisionButtons(run))
      ]);
    }));
  }

  function deadJobs() { return state.jobs.filter(function (job) { return job.status === 'dead_letter'; }); }

  function renderDeadLetter() {
    var dead = deadJobs();
    var deadIds = dead.map(function (job) { return job.id; });
    Object.keys(state.selected).forEach(function (id) { if (deadIds.indexOf(id) < 0) delete state.selected[id]; });
    $('dead-letter-count').textContent = dead.length ? '(' + dead.length + ')' : '';
    replaceRows('dead-letter-body', 'dead-letter-empty', dead.map(function (job) {
      var box = el('input', { type: 'checkbox', 'data-select-job': job.id, 'aria-label': 'Select ' + job.name });
      box.checked = Boolean(state.selected[job.id]);
      return el('tr', { 'data-job-id': job.id }, [
        cell([box]), td(job.name), td(job.agent_id), td(String(job.consecutive_failures)), td(time(job.last_run)),
        actionsCell([button('Reset', 'reset', { job: job.id }, 'primary'), link('Failed runs', jobRunsHash(job.id, 'failed'))])
      ]);
    }));
    renderBulkBar();
  }

  function selectedJobs() { return deadJobs().filter(function (job) { return state.selected[job.id]; }); }

  function renderBulkBar() {
    var selected = selectedJobs().length;
    $('bulk-count').textContent = selected + ' selected';
    $('dead-letter-all').checked = selected > 0 && selected === deadJobs().length;
    if (selected === 0) $('bulk-confirm').hidden = true;
  }

  function onSelect(target) {
    if (target.id === 'dead-letter-all') {
      deadJobs().forEach(function (job) { if (target.checked) state.selected[job.id] = true; else delete state.selected[job.id]; });
      renderDeadLetter();
    } else {
      var id = target.getAttribute('data-select-job');
      if (target.checked) state.selected[id] = true; else delete state.selected[id];
      renderBulkBar();
    }
  }

  /** Applies step to each selected job in turn; reports how many succeeded and why the others failed. */
  function eachSelected(done, step) {
    var jobs = selectedJobs();
    if (!jobs.length) {
      toast('Select at least one dead-lettered job first.', true);
      return Promise.resolve();
    }
    var failures = [];
    return jobs.reduce(function (previous, job) {
      return previous.then(function () {
        return step(job).then(function () { delete state.selected[job.id]; }, function (error) {
          if (error.status === 401) throw error;
          failures.push(job.name + ': ' + error.message);
        });
      });
    }, Promise.resolve()).then(function () {
      var summary = done + ' ' + (jobs.length - failures.length) + ' of ' + jobs.length + (jobs.length === 1 ? ' job.' : ' jobs.');
      toast(failures.length ? summary + ' Failed: ' + failures.join('; ') : summary, failures.length > 0);
    });
  }

  ACTIONS['bulk-reset'] = function () {
    return eachSelected('Reset', function (job) { return api('POST', jobUrl(job.id, 'reset')); });
  };
  ACTIONS['bulk-resume'] = function () {
    return eachSelected('Resumed', function (job) {
      return api('POST', jobUrl(job.id, 'reset')).then(function () { return api('POST', jobUrl(job.id, 'run'), {}); });
    });
  };
  VIEW_ACTIONS['bulk-delete'] = function () {
    var jobs = selectedJobs();
    if (!jobs.length) return toast('Select at least one dead-lettered job first.', true);
    var names = jobs.map(function (job) { return job.name; }).join(', ');
    $('bulk-confirm-text').textContent = 'Delete ' + jobs.length + (jobs.length === 1 ? ' job' : ' jobs') + ' with their run history (' + names + ')? This cannot be undone.';
    $('bulk-confirm').hidden = false;
  };
  VIEW_ACTIONS['bulk-delete-cancel'] = function () { $('bulk-confirm').hidden = true; };
  ACTIONS['bulk-delete-confirm'] = function () {
    $('bulk-confirm').hidden = true;
    return eachSelected('Deleted', function (job) { return api('DELETE', jobUrl(job.id)); });
  };
`;
