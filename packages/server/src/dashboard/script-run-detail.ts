/**
 * The run view of the dashboard script (`#/runs/<id>`): the run's facts, its approval (which can
 * be decided here as on the overview), input, output, error, heartbeat iterations, deliveries
 * with their attempts, and every attempt (retry) of the same scheduled fire.
 */
export const RUN_DETAIL_SCRIPT = String.raw`
  var ATTEMPTS_LIMIT = 1000;

  VIEWS.run = {
    load: function (route) {
      return api('GET', '/api/v1/runs/' + encodeURIComponent(route.id)).then(function (run) {
        if (run.trigger === 'manual') return renderRun(run, null);
        return api('GET', '/api/v1/runs?' + listQuery({ job_id: run.job_id, since: run.scheduled_for }, ATTEMPTS_LIMIT)).then(function (runs) {
          renderRun(run, { runs: fireAttempts(run, runs), capped: runs.length === ATTEMPTS_LIMIT });
        });
      }, function (error) {
        if (error.status !== 404) throw error;
        $('run-detail').replaceChildren(el('h2', {}, ['Run ', code(route.id)]), el('p', { 'class': 'error', text: 'No such run: it may have been deleted with its job.' }));
      });
    }
  };

  /** The runs of the same fire (retries share the fire's scheduled time), first attempt first. */
  function fireAttempts(run, runs) {
    return runs.filter(function (r) { return r.scheduled_for === run.scheduled_for; }).sort(function (a, b) { return a.attempt - b.attempt; });
  }

  function decisionButtons(run) {
    var ids = { job: run.job_id, run: run.id };
    return [button('Approve', 'approve', ids, 'primary'), button('Deny', 'deny', ids, 'danger')];
  }

  function part(name, title, content) {
    return el('div', { 'class': 'part', 'data-part': name }, [el('h3', { text: title }), content]);
  }
  function textPart(name, title, text, className) {
    var content = text === null || text === '' ? el('p', { 'class': 'muted', text: 'none' }) : el('pre', { 'class': className, text: text });
    return part(name, title, content);
  }

  function facts(run) {
    var rows = [
      ['Job', link(run.job_name, jobRunsHash(run.job_id), 'Runs of this job')], ['Agent', run.agent_id], ['Trigger', run.trigger],
      ['Attempt', String(run.attempt)], ['Scheduled for', time(run.scheduled_for)], ['Due at', time(run.due_at)],
      ['Started', time(run.started_at)], ['Completed', time(run.completed_at)], ['Duration', duration(run.execution_time_ms)]
    ];
    return el('dl', { 'class': 'facts' }, rows.map(function (row) {
      var value = typeof row[1] === 'object' && row[1] !== null ? el('dd', {}, [row[1]]) : el('dd', { text: orDash(row[1]) });
      return el('div', {}, [el('dt', { text: row[0] }), value]);
    }));
  }

  function iterationsPart(run) {
    if (!run.iterations.length) return part('iterations', 'Heartbeat iterations', el('p', { 'class': 'muted', text: 'none (not a heartbeat run)' }));
    return part('iterations', 'Heartbeat iterations (' + run.iterations.length + ')', table(['#', 'Action', 'Duration', 'Summary', 'Output'], run.iterations.map(function (it) {
      return el('tr', {}, [td(String(it.index)), td(it.action), td(duration(it.duration_ms)), td(it.summary, 'wrap'), td(it.output, 'wrap')]);
    })));
  }

  function deliveriesPart(run) {
    if (!run.deliveries.length) return part('deliveries', 'Deliveries', el('p', { 'class': 'muted', text: 'none' }));
    return part('deliveries', 'Deliveries', table(['Channel', 'Status', 'Attempts', 'Last error', 'Completed'], run.deliveries.map(function (d) {
      return el('tr', { 'data-channel': d.channel }, [
        td(d.channel), cell([badge(d.status)]), td(String(d.attempts)), td(d.error, 'wrap error'), td(time(d.completed_at))
      ]);
    })));
  }

  function attemptsPart(run, attempts) {
    var rows = attempts.runs.map(function (r) {
      var which = r.id === run.id ? el('strong', { text: 'this run' }) : link(shortId(r.id), runHash(r.id), r.id);
      return el('tr', { 'data-run-id': r.id }, [td(String(r.attempt)), cell([which]), cell([badge(r.status)]), td(time(r.started_at)), td(r.error, 'wrap')]);
    });
    var note = attempts.capped ? el('p', { 'class': 'muted', text: 'More than ' + ATTEMPTS_LIMIT + ' runs of this job came after this fire: some of its attempts may be missing.' }) : null;
    return el('div', { 'class': 'part', 'data-part': 'attempts' }, [
      el('h3', { text: 'Attempts of this fire (' + rows.length + ')' }), table(['Attempt', 'Run', 'Status', 'Started', 'Error'], rows), note
    ]);
  }

  function approvalPart(run) {
    var a = run.approval;
    if (!a) return null;
    var text = 'Asked ' + a.approver + ' (' + a.reason + ') at ' + time(a.requested_at) + ': ' +
      (a.decision ? a.decision + ' by ' + orDash(a.decided_by) + ' at ' + time(a.decided_at) + (a.note ? ' (' + a.note + ')' : '') : 'pending until ' + time(a.expires_at));
    var buttons = run.status === 'awaiting_approval' ? el('div', { 'class': 'actions' }, decisionButtons(run)) : null;
    return el('div', { 'class': 'part', 'data-part': 'approval' }, [el('h3', { text: 'Approval' }), el('p', { text: text }), buttons]);
  }

  function renderRun(run, attempts) {
    $('run-detail').replaceChildren.apply($('run-detail'), [
      el('h2', {}, ['Run ', code(run.id), ' ', badge(run.status)]),
      facts(run),
      approvalPart(run),
      textPart('input', 'Input', run.input),
      textPart('output', 'Output', run.output),
      run.summary === null ? null : textPart('summary', 'Summary', run.summary),
      textPart('error', 'Error', run.error, 'error'),
      run.stderr ? textPart('stderr', 'Stderr', run.stderr) : null,
      iterationsPart(run),
      deliveriesPart(run),
      attempts ? attemptsPart(run, attempts) : null
    ].filter(Boolean));
  }

  ACTIONS.approve = function (data) {
    return api('POST', jobUrl(data.job, 'runs/' + encodeURIComponent(data.run) + '/approve'), {}).then(function () { toast('Run ' + shortId(data.run) + ' approved'); });
  };
  ACTIONS.deny = function (data) {
    return api('POST', jobUrl(data.job, 'runs/' + encodeURIComponent(data.run) + '/deny'), {}).then(function () { toast('Run ' + shortId(data.run) + ' denied'); });
  };
`;
