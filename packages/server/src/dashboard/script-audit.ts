/**
 * The audit-log view of the dashboard script: events from `GET /api/v1/audit`, filtered by type,
 * job and time on the server.
 */
export const AUDIT_SCRIPT = String.raw`
  var AUDIT_LIMIT = 200;

  VIEWS.audit = {
    load: function (route) {
      var p = route.params;
      var query = listQuery({ type: p.get('type'), job_id: p.get('job'), since: utcParam(p.get('since')) }, AUDIT_LIMIT);
      return api('GET', '/api/v1/audit?' + query).then(renderAudit);
    }
  };

  /** The job's current name, else the name the event recorded (the job may have been deleted since). */
  function jobLabel(event) {
    var job = state.jobs.filter(function (j) { return j.id === event.job_id; })[0];
    if (job) return job.name;
    return typeof event.details.job_name === 'string' ? event.details.job_name : shortId(event.job_id);
  }

  /** One "name: value" line per detail; the job's name is in its own column. */
  function detailLines(details) {
    return Object.keys(details).filter(function (name) { return name !== 'job_name'; }).map(function (name) {
      var value = details[name];
      return el('div', { 'class': 'detail' }, [el('span', { 'class': 'muted', text: name + ': ' }), typeof value === 'string' ? value : JSON.stringify(value)]);
    });
  }

  function renderAudit(events) {
    $('audit-count').textContent = '(' + events.length + ')';
    $('audit-more').hidden = events.length < AUDIT_LIMIT;
    replaceRows('audit-body', 'audit-empty', events.map(function (event) {
      var details = detailLines(event.details);
      return el('tr', { 'data-event-id': event.id, 'data-type': event.type }, [
        td(time(event.at)), cell([code(event.type)]),
        event.job_id ? cell([link(jobLabel(event), jobRunsHash(event.job_id), event.job_id)]) : td(null),
        event.run_id ? cell([link(shortId(event.run_id), runHash(event.run_id), event.run_id)]) : td(null),
        td(event.actor), details.length ? cell(details, 'wrap') : td(null)
      ]);
    }));
  }
`;
