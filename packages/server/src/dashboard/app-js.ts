/**
 * The dashboard script: plain ES2017, no dependencies, no template literals (the source lives in a
 * TypeScript string so it survives bundling). Every value from the API is put in the page with
 * `textContent`, never parsed as HTML.
 */
export const APP_JS = String.raw`(function () {
  'use strict';

  var KEY_STORAGE = 'symbi.apiKey';
  var REFRESH_MS = 5000;
  var state = { key: sessionStorage.getItem(KEY_STORAGE) || '', job: null, run: null, jobs: [], busy: false, timer: null };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === 'text') node.textContent = String(value);
      else node.setAttribute(name, String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function td(text, className) { return el('td', { text: text === null || text === undefined ? '—' : text, 'class': className }); }
  function badge(status) { return el('span', { 'class': 'badge', 'data-status': status, text: status }); }
  function button(label, action, data, className) {
    var attrs = { type: 'button', 'data-action': action, 'class': className, text: label };
    Object.keys(data || {}).forEach(function (k) { attrs['data-' + k] = data[k]; });
    return el('button', attrs);
  }
  function actionsCell(buttons) { return el('td', {}, [el('div', { 'class': 'actions' }, buttons)]); }
  function time(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null; }
  function shortId(id) { return id.length > 12 ? id.slice(0, 8) + '…' : id; }
  function path(parts) { return parts.map(encodeURIComponent).join('/'); }
  function replaceRows(bodyId, emptyId, rows) {
    var body = $(bodyId);
    body.replaceChildren.apply(body, rows);
    $(emptyId).hidden = rows.length > 0;
  }

  function toast(message, isError) {
    var node = $('toast');
    node.textContent = message;
    node.className = isError ? 'error' : '';
    node.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { node.hidden = true; }, 4000);
  }

  function api(method, url, body) {
    var headers = { Accept: 'application/json' };
    if (state.key) headers.Authorization = 'Bearer ' + state.key;
    var init = { method: method, headers: headers };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var error = new Error(data && data.error ? data.error.message : 'HTTP ' + res.status);
          error.status = res.status;
          throw error;
        }
        return data;
      });
    });
  }

  function showLogin(message) {
    $('main').hidden = true;
    $('login').hidden = false;
    $('forget-key').hidden = true;
    $('login-error').textContent = message || '';
    $('api-key').focus();
    stopTimer();
  }

  function showMain() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('forget-key').hidden = !state.key;
    if (!state.timer) state.timer = setInterval(refresh, REFRESH_MS);
  }

  function stopTimer() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  function fail(error) {
    if (error && error.status === 401) showLogin(state.key ? 'That key was refused.' : '');
    else toast(error && error.message ? error.message : String(error), true);
  }

  function refresh() {
    if (state.busy) return Promise.resolve();
    state.busy = true;
    return Promise.all([api('GET', '/api/v1/health/scheduler'), api('GET', '/api/v1/schedule'), api('GET', '/api/v1/approvals')])
      .then(function (results) {
        showMain();
        state.jobs = results[1];
        renderHealth(results[0]);
        renderApprovals(results[2]);
        renderDeadLetter(results[1]);
        renderJobs(results[1]);
        return state.job ? loadHistory() : null;
      })
      .then(function () { $('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString(); })
      .catch(fail)
      .then(function () { state.busy = false; });
  }

  function renderHealth(health) {
    var badgeNode = $('health-badge');
    badgeNode.textContent = health.status;
    badgeNode.setAttribute('data-status', health.status);
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
      var ids = { job: run.job_id, run: run.id };
      return el('tr', { 'data-run-id': run.id }, [
        td(run.job_name), el('td', {}, [el('code', { text: shortId(run.id), title: run.id })]), td(time(approval.requested_at)),
        td(time(approval.expires_at)), td(approval.approver), td(approval.reason, 'wrap'),
        actionsCell([button('Approve', 'approve', ids, 'primary'), button('Deny', 'deny', ids, 'danger')])
      ]);
    }));
  }

  function renderDeadLetter(jobs) {
    var dead = jobs.filter(function (job) { return job.status === 'dead_letter'; });
    $('dead-letter-count').textContent = dead.length ? '(' + dead.length + ')' : '';
    replaceRows('dead-letter-body', 'dead-letter-empty', dead.map(function (job) {
      return el('tr', { 'data-job-id': job.id }, [
        td(job.name), td(job.agent_id), td(String(job.consecutive_failures)), td(time(job.last_run)),
        actionsCell([button('Reset', 'reset', { job: job.id }, 'primary'), button('History', 'history', { job: job.id })])
      ]);
    }));
  }

  function schedule(job) {
    var when = job.cron_expr ? job.cron_expr : 'at ' + time(job.at);
    return job.timezone && job.timezone !== 'UTC' ? when + ' (' + job.timezone + ')' : when;
  }

  function renderJobs(jobs) {
    $('jobs-count').textContent = jobs.length ? '(' + jobs.length + ')' : '';
    replaceRows('jobs-body', 'jobs-empty', jobs.map(function (job) {
      var actions = [button('Run now', 'run', { job: job.id })];
      if (job.status === 'active') actions.push(button('Pause', 'pause', { job: job.id }));
      if (job.status === 'paused') actions.push(button('Resume', 'resume', { job: job.id }));
      if (job.status === 'dead_letter' || job.status === 'failed') actions.push(button('Reset', 'reset', { job: job.id }));
      actions.push(button('History', 'history', { job: job.id }));
      return el('tr', { 'data-job-id': job.id, 'class': state.job === job.id ? 'selected' : null }, [
        td(job.name), td(job.agent_id), el('td', {}, [badge(job.status)]), el('td', {}, [el('code', { text: schedule(job) })]),
        td(time(job.next_run)), td(time(job.last_run)), td(job.run_count + ' / ' + job.failure_count),
        actionsCell(actions)
      ]);
    }));
  }

  function loadHistory() {
    var job = state.jobs.filter(function (j) { return j.id === state.job; })[0];
    if (!job) {
      closeHistory();
      return null;
    }
    return api('GET', '/api/v1/schedule/' + path([job.id]) + '/history?limit=50').then(function (runs) {
      $('history').hidden = false;
      $('history-job').textContent = job.name;
      replaceRows('history-body', 'history-empty', runs.map(function (run) {
        var deliveries = run.deliveries.map(function (d) { return d.channel + ': ' + d.status; }).join(', ');
        return el('tr', { 'data-run-id': run.id, 'data-status': run.status, 'class': state.run === run.id ? 'selected' : null }, [
          el('td', {}, [el('code', { text: shortId(run.id), title: run.id })]), el('td', {}, [badge(run.status)]), td(run.trigger),
          td(String(run.attempt)), td(time(run.scheduled_for)), td(time(run.started_at)),
          td(run.execution_time_ms === null ? null : run.execution_time_ms + ' ms'), td(deliveries || null, 'wrap'),
          el('td', {}, [button('Details', 'details', { run: run.id }, 'link')])
        ]);
      }));
      var selected = runs.filter(function (r) { return r.id === state.run; })[0];
      renderRunDetails(selected || null);
    });
  }

  function closeHistory() {
    state.job = null;
    state.run = null;
    $('history').hidden = true;
  }

  function section(title, content) { return [el('h4', { text: title }), content]; }
  function pre(text) { return el('pre', { text: text }); }

  function renderRunDetails(run) {
    var box = $('run-details');
    if (!run) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    var parts = [el('h3', {}, ['Run ', el('code', { text: run.id }), ' ', badge(run.status)])];
    parts.push(el('p', { 'class': 'muted', text: 'input: ' + (run.input === null ? '—' : run.input) }));
    if (run.output !== null) parts = parts.concat(section('Output', pre(run.output)));
    if (run.summary !== null) parts = parts.concat(section('Summary', pre(run.summary)));
    if (run.error !== null) parts = parts.concat(section('Error', el('pre', { 'class': 'error', text: run.error })));
    if (run.stderr) parts = parts.concat(section('Stderr', pre(run.stderr)));
    if (run.iterations.length) {
      parts = parts.concat(section('Iterations', el('table', {}, [
        el('thead', {}, [el('tr', {}, ['#', 'Action', 'Duration', 'Output'].map(function (h) { return el('th', { text: h }); }))]),
        el('tbody', {}, run.iterations.map(function (it) {
          return el('tr', {}, [td(String(it.index)), td(it.action), td(it.duration_ms + ' ms'), td(it.output, 'wrap')]);
        }))
      ])));
    }
    if (run.deliveries.length) {
      parts = parts.concat(section('Deliveries', el('table', {}, [
        el('thead', {}, [el('tr', {}, ['Channel', 'Status', 'Attempts', 'Error', 'Completed'].map(function (h) { return el('th', { text: h }); }))]),
        el('tbody', {}, run.deliveries.map(function (d) {
          return el('tr', {}, [td(d.channel), el('td', {}, [badge(d.status)]), td(String(d.attempts)), td(d.error, 'wrap'), td(time(d.completed_at))]);
        }))
      ])));
    }
    if (run.approval) {
      var a = run.approval;
      var text = 'asked ' + a.approver + ' (' + a.reason + ')' + (a.decision ? ': ' + a.decision + ' by ' + a.decided_by + (a.note ? ' (' + a.note + ')' : '') : ': pending');
      parts = parts.concat(section('Approval', el('p', { text: text })));
    }
    box.replaceChildren.apply(box, parts);
    box.hidden = false;
  }

  var ACTIONS = {
    refresh: function () { return refresh(); },
    'forget-key': function () {
      sessionStorage.removeItem(KEY_STORAGE);
      state.key = '';
      showLogin('');
    },
    history: function (data) {
      state.job = data.job;
      state.run = null;
      return loadHistory().then(function () { renderJobs(state.jobs); });
    },
    'close-history': function () { closeHistory(); renderJobs(state.jobs); },
    details: function (data) {
      state.run = data.run;
      return api('GET', '/api/v1/runs/' + path([data.run])).then(renderRunDetails);
    },
    run: function (data) {
      return api('POST', '/api/v1/schedule/' + path([data.job]) + '/run', {}).then(function (run) {
        toast('Run ' + shortId(run.id) + ' queued');
        state.job = data.job;
      });
    },
    pause: function (data) { return api('POST', '/api/v1/schedule/' + path([data.job]) + '/pause').then(function (job) { toast(job.name + ' paused'); }); },
    resume: function (data) { return api('POST', '/api/v1/schedule/' + path([data.job]) + '/resume').then(function (job) { toast(job.name + ' resumed'); }); },
    reset: function (data) { return api('POST', '/api/v1/schedule/' + path([data.job]) + '/reset').then(function (job) { toast(job.name + ' is active again'); }); },
    approve: function (data) {
      return api('POST', '/api/v1/schedule/' + path([data.job, 'runs', data.run]) + '/approve', {}).then(function () {
        toast('Run ' + shortId(data.run) + ' approved');
        state.job = data.job;
        state.run = data.run;
      });
    },
    deny: function (data) {
      return api('POST', '/api/v1/schedule/' + path([data.job, 'runs', data.run]) + '/deny', {}).then(function () {
        toast('Run ' + shortId(data.run) + ' denied');
      });
    }
  };

  /** Actions that only change what is shown; the others change state, so the page is refreshed after them. */
  var VIEW_ACTIONS = ['refresh', 'forget-key', 'history', 'close-history', 'details'];

  document.addEventListener('click', function (event) {
    var target = event.target.closest('button[data-action]');
    if (!target) return;
    var name = target.getAttribute('data-action');
    var action = ACTIONS[name];
    if (!action) return;
    target.disabled = true;
    Promise.resolve(action(target.dataset))
      .then(function () { return VIEW_ACTIONS.indexOf(name) < 0 ? refresh() : null; })
      .catch(fail)
      .then(function () { target.disabled = false; });
  });

  document.addEventListener('DOMContentLoaded', function () {
    $('login-form').addEventListener('submit', function (event) {
      event.preventDefault();
      state.key = $('api-key').value.trim();
      sessionStorage.setItem(KEY_STORAGE, state.key);
      $('api-key').value = '';
      refresh();
    });
    refresh();
  });
})();
`;
