/**
 * The dashboard's API calls and its API key: asked for once when the server answers 401, then
 * kept for the tab's session (`sessionStorage`) and sent as a bearer token.
 */
export const SESSION_SCRIPT = String.raw`
  var KEY_STORAGE = 'symbi.apiKey';
  state.key = sessionStorage.getItem(KEY_STORAGE) || '';

  function jobUrl(jobId, action) { return '/api/v1/schedule/' + encodeURIComponent(jobId) + (action ? '/' + action : ''); }

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
    $('nav').hidden = true;
    $('login').hidden = false;
    $('forget-key').hidden = true;
    $('login-error').textContent = message || '';
    $('api-key').focus();
    stopTimer();
  }

  function showMain() {
    $('login').hidden = true;
    $('main').hidden = false;
    $('nav').hidden = false;
    $('forget-key').hidden = !state.key;
    startTimer();
  }

  function fail(error) {
    if (error && error.status === 401) showLogin(state.key ? 'That key was refused.' : '');
    else toast(error && error.message ? error.message : String(error), true);
  }

  function connect(key) {
    state.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    return refresh();
  }

  VIEW_ACTIONS['forget-key'] = function () {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = '';
    showLogin('');
  };
`;
