import { AUDIT_SCRIPT } from './script-audit.js';
import { DOM_SCRIPT } from './script-dom.js';
import { JOBS_SCRIPT } from './script-jobs.js';
import { OVERVIEW_SCRIPT } from './script-overview.js';
import { RUN_DETAIL_SCRIPT } from './script-run-detail.js';
import { RUNS_SCRIPT } from './script-runs.js';
import { SESSION_SCRIPT } from './script-session.js';

/** The state and registries every part of the script shares; it comes first. */
const STATE_SCRIPT = String.raw`
  var REFRESH_MS = 5000;
  var state = { key: '', jobs: [], health: null, route: null, selected: {}, loading: null, again: false, timer: null, filterTimer: null };
  /** Views by name: load(route) fills the view's section from the API. */
  var VIEWS = {};
  /** Button actions that change the scheduler: the page is refreshed after them. */
  var ACTIONS = {};
  /** Button actions that only change what is shown. */
  var VIEW_ACTIONS = {};
`;

/** Routing by the address fragment, the refresh loop, event wiring and start-up; it comes last. */
const MAIN_SCRIPT = String.raw`
  function parseRoute(hash) {
    var raw = (hash || '').replace(/^#\/?/, '');
    var queryAt = raw.indexOf('?');
    var parts = (queryAt < 0 ? raw : raw.slice(0, queryAt)).split('/');
    var params = new URLSearchParams(queryAt < 0 ? '' : raw.slice(queryAt + 1));
    var id = null;
    if (parts.length > 1 && parts[1] !== '') {
      try { id = decodeURIComponent(parts.slice(1).join('/')); } catch (e) { id = null; }
    }
    var view = parts[0] === 'runs' && id !== null ? 'run' : parts[0];
    if (!VIEWS[view] || (view === 'run' && id === null)) return { view: 'overview', id: null, params: new URLSearchParams() };
    return { view: view, id: id, params: params };
  }

  function viewHash(view, params) {
    var query = new URLSearchParams();
    Object.keys(params).forEach(function (name) { if (params[name]) query.set(name, params[name]); });
    var text = query.toString();
    return '#/' + view + (text ? '?' + text : '');
  }
  function runHash(runId) { return '#/runs/' + encodeURIComponent(runId); }
  function jobRunsHash(jobId, status) { return viewHash('runs', { job: jobId, status: status }); }

  /** A datetime-local value read as UTC, the zone every time on the page is shown in. */
  function utcParam(value) { return value ? value + 'Z' : null; }

  function listQuery(filters, limit) {
    var query = new URLSearchParams();
    Object.keys(filters).forEach(function (name) { if (filters[name]) query.set(name, filters[name]); });
    query.set('limit', String(limit));
    return query.toString();
  }

  function showRoute(route) {
    state.route = route;
    Object.keys(VIEWS).forEach(function (name) { $('view-' + name).hidden = name !== route.view; });
    var current = route.view === 'run' ? 'runs' : route.view;
    Array.prototype.forEach.call(document.querySelectorAll('#nav a'), function (a) {
      if (a.getAttribute('data-nav') === current) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    var form = document.querySelector('form.filters[data-view="' + route.view + '"]');
    if (!form) return;
    Array.prototype.forEach.call(form.elements, function (input) { if (input.name) input.value = route.params.get(input.name) || ''; });
  }

  /** Puts a filter form's values in the address (so the view can be bookmarked) and reloads the view. */
  function applyFilters(form) {
    var params = {};
    Array.prototype.forEach.call(form.elements, function (input) { if (input.name && input.value.trim()) params[input.name] = input.value.trim(); });
    history.replaceState(null, '', viewHash(form.getAttribute('data-view'), params));
    state.route = parseRoute(location.hash);
    return refresh();
  }

  function renderHealthBadge(health) {
    $('health-badge').textContent = health.status;
    $('health-badge').setAttribute('data-status', health.status);
  }

  function renderJobNames(jobs) {
    $('job-names').replaceChildren.apply($('job-names'), jobs.map(function (job) { return el('option', { value: job.name }); }));
  }

  /** Reloads health, jobs and the current view; a call during a reload reloads once more after it. */
  function refresh() {
    if (state.loading) {
      state.again = true;
      return state.loading;
    }
    var route = state.route;
    state.loading = Promise.all([api('GET', '/api/v1/health/scheduler'), api('GET', '/api/v1/schedule')])
      .then(function (results) {
        showMain();
        state.health = results[0];
        state.jobs = results[1];
        renderHealthBadge(results[0]);
        renderJobNames(results[1]);
        return VIEWS[route.view].load(route);
      })
      .then(function () { $('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString(); })
      .catch(fail)
      .then(function () {
        state.loading = null;
        if (!state.again) return null;
        state.again = false;
        return refresh();
      });
    return state.loading;
  }

  function startTimer() { if (!state.timer) state.timer = setInterval(refresh, REFRESH_MS); }
  function stopTimer() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
  }

  VIEW_ACTIONS.refresh = function () { return refresh(); };

  document.addEventListener('click', function (event) {
    var target = event.target.closest('button[data-action]');
    if (!target) return;
    var name = target.getAttribute('data-action');
    var changes = Object.prototype.hasOwnProperty.call(ACTIONS, name);
    var action = changes ? ACTIONS[name] : Object.prototype.hasOwnProperty.call(VIEW_ACTIONS, name) ? VIEW_ACTIONS[name] : null;
    if (!action) return;
    target.disabled = true;
    Promise.resolve(action(target.dataset))
      .then(function () { return changes ? refresh() : null; })
      .catch(fail)
      .then(function () { target.disabled = false; });
  });

  document.addEventListener('change', function (event) {
    if (event.target.matches('#dead-letter-all, input[data-select-job]')) onSelect(event.target);
  });

  document.addEventListener('input', function (event) {
    var form = event.target.form;
    if (!form || !form.classList.contains('filters')) return;
    clearTimeout(state.filterTimer);
    state.filterTimer = setTimeout(function () { applyFilters(form); }, 250);
  });

  document.addEventListener('DOMContentLoaded', function () {
    $('login-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var key = $('api-key').value.trim();
      $('api-key').value = '';
      connect(key);
    });
    Array.prototype.forEach.call(document.querySelectorAll('form.filters'), function (form) {
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        clearTimeout(state.filterTimer);
        applyFilters(form);
      });
      // The reset event comes before the fields are cleared.
      form.addEventListener('reset', function () { setTimeout(function () { applyFilters(form); }, 0); });
    });
    window.addEventListener('hashchange', function () {
      showRoute(parseRoute(location.hash));
      refresh();
    });
    showRoute(parseRoute(location.hash));
    refresh();
  });
`;

/**
 * The dashboard script: plain ES2017 in one function scope, no dependencies, no template literals
 * (the sources live in TypeScript strings so they survive bundling). It is assembled from one
 * part per view; every value from the API is put in the page with `textContent` or as an
 * attribute value, never parsed as HTML.
 */
export const APP_JS = [
  "(function () {\n  'use strict';",
  STATE_SCRIPT,
  DOM_SCRIPT,
  SESSION_SCRIPT,
  OVERVIEW_SCRIPT,
  JOBS_SCRIPT,
  RUNS_SCRIPT,
  RUN_DETAIL_SCRIPT,
  AUDIT_SCRIPT,
  MAIN_SCRIPT,
  '})();\n',
].join('\n');
