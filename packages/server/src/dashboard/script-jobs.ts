/**
 * The jobs view of the dashboard script: every job, searched by name, agent or id and filtered
 * by status, with the actions of one job (run now, pause, resume, reset) and a link to its runs.
 */
export const JOBS_SCRIPT = String.raw`
  VIEWS.jobs = {
    load: function (route) { renderJobs(route.params); }
  };

  function schedule(job) {
    var when = job.cron_expr ? job.cron_expr : 'at ' + time(job.at);
    return job.timezone && job.timezone !== 'UTC' ? when + ' (' + job.timezone + ')' : when;
  }

  function jobMatches(job, search, status) {
    if (status && job.status !== status) return false;
    return !search || [job.name, job.agent_id, job.id].join('\n').toLowerCase().indexOf(search) >= 0;
  }

  function renderJobs(params) {
    var search = (params.get('q') || '').toLowerCase();
    var status = params.get('status');
    var shown = state.jobs.filter(function (job) { return jobMatches(job, search, status); });
    $('jobs-count').textContent = shown.length === state.jobs.length ? '(' + shown.length + ')' : '(' + shown.length + ' of ' + state.jobs.length + ')';
    replaceRows('jobs-body', 'jobs-empty', shown.map(function (job) {
      var actions = [button('Run now', 'run', { job: job.id })];
      if (job.status === 'active') actions.push(button('Pause', 'pause', { job: job.id }));
      if (job.status === 'paused') actions.push(button('Resume', 'resume', { job: job.id }));
      if (job.status === 'dead_letter' || job.status === 'failed') actions.push(button('Reset', 'reset', { job: job.id }));
      actions.push(link('Runs', jobRunsHash(job.id)));
      return el('tr', { 'data-job-id': job.id }, [
        td(job.name), td(job.agent_id), cell([badge(job.status)]), cell([code(schedule(job))]),
        td(time(job.next_run)), td(time(job.last_run)), td(job.run_count + ' / ' + job.failure_count),
        actionsCell(actions)
      ]);
    }));
  }

  ACTIONS.run = function (data) {
    return api('POST', jobUrl(data.job, 'run'), {}).then(function (run) { toast('Run ' + shortId(run.id) + ' of ' + run.job_name + ' queued'); });
  };
  ACTIONS.pause = function (data) { return api('POST', jobUrl(data.job, 'pause')).then(function (job) { toast(job.name + ' paused'); }); };
  ACTIONS.resume = function (data) { return api('POST', jobUrl(data.job, 'resume')).then(function (job) { toast(job.name + ' resumed'); }); };
  ACTIONS.reset = function (data) { return api('POST', jobUrl(data.job, 'reset')).then(function (job) { toast(job.name + ' is active again'); }); };
`;
