/**
 * DOM and formatting helpers of the dashboard script. Every value is put in the page as a text
 * node or an attribute value, never parsed as HTML: stored data (job names, outputs, errors,
 * audit details) is treated as hostile.
 */
export const DOM_SCRIPT = String.raw`
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

  function orDash(value) { return value === null || value === undefined || value === '' ? '—' : String(value); }
  function td(text, className) { return el('td', { text: orDash(text), 'class': className }); }
  function cell(children, className) { return el('td', { 'class': className }, children); }
  function badge(status) { return el('span', { 'class': 'badge', 'data-status': status, text: status }); }
  function code(text, title) { return el('code', { text: text, title: title }); }
  function link(text, hash, title) { return el('a', { href: hash, text: text, title: title }); }
  function button(label, action, data, className) {
    var attrs = { type: 'button', 'data-action': action, 'class': className, text: label };
    Object.keys(data || {}).forEach(function (k) { attrs['data-' + k] = data[k]; });
    return el('button', attrs);
  }
  function actionsCell(buttons) { return cell([el('div', { 'class': 'actions' }, buttons)]); }
  function table(headers, rows) {
    return el('table', {}, [
      el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', {}, rows)
    ]);
  }

  function time(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : null; }
  function duration(ms) { return ms === null || ms === undefined ? null : ms + ' ms'; }
  /** The end of a long id: run ids are UUIDv7, whose first digits are a timestamp shared by runs made together. */
  function shortId(id) { return id.length > 12 ? '…' + id.slice(-8) : id; }

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
    toast.timer = setTimeout(function () { node.hidden = true; }, isError ? 10000 : 4000);
  }
`;
