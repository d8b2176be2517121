/**
 * The runs view of the dashboard script: runs of every job from `GET /api/v1/runs`, filtered by
 * job, status and time on the server, then searched by text in the page.
 */
export const RUNS_SCRIPT = String.raw`
  var RUNS_LIMIT = 200;

  VIEWS.runs = {
    load: function (route) {
      var p = route.params;
      var query = listQuery({ job_id: p.get('job'), status: p.get('status'), since: utcParam(p.get('since')) }, RUNS_LIMIT);
      return api('GET', '/api/v1/runs?' + query).then(function (runs) { renderRuns(runs, (p.get('q') || '').toLowerCase()); });
    }
  };

  function runMatches(run, search) {
    return !search || [run.id, run.job_name, run.agent_id, run.input, run.output, run.error].join('\n').toLowerCase().indexOf(search) >= 0;
  }

  function renderRuns(runs, search) {
    var shown = runs.filter(function (run) { return runMatches(run, search); });
    $('runs-count').textContent = shown.length === runs.length ? '(' + shown.length + ')' : '(' + shown.length + ' of ' + runs.length + ' loaded)';
    $('runs-more').hidden = runs.length < RUNS_LIMIT;
    replaceRows('runs-body', 'runs-empty', shown.map(function (run) {
      var deliveries = run.deliveries.map(function (d) { return d.channel + ': ' + d.status; }).join(', ');
      return el('tr', { 'data-run-id': run.id, 'data-status': run.status }, [
        cell([link(shortId(run.id), runHash(run.id), run.id)]), td(run.job_name), cell([badge(run.status)]), td(run.trigger),
        td(String(run.attempt)), td(time(run.scheduled_for)), td(time(run.started_at)), td(duration(run.execution_time_ms)),
        td(deliveries, 'wrap')
      ]);
    }));
  }
`;
