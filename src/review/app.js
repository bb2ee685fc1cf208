// The review page's own script (served as /app.js; the page works without it). It adds the
// keys, and follows links and submits forms with fetch, swapping the page's <main> in place of
// a full load. Every form it sends is the page's own, CSRF token included; the server answers
// it exactly as it answers the plain form (a redirect to the page to show next).
(function () {
  'use strict';
  var armed = false; // `a` pressed: the next decision key applies to every identical record

  function app() { return document.getElementById('app'); }
  function items() { return Array.prototype.slice.call(app().querySelectorAll('section.item')); }
  function focused() { return app().querySelector('section.item.focus'); }

  function setFocus(i) {
    var all = items();
    if (!all.length) return;
    i = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (s, j) { s.classList.toggle('focus', j === i); });
    var url = new URL(location.href);
    url.searchParams.set('at', String(i));
    url.searchParams.delete('notice');
    history.replaceState(null, '', url.toString());
    all[i].scrollIntoView({ block: 'nearest' });
  }

  function move(d) {
    var f = focused();
    var i = f ? Number(f.dataset.index) + d : 0;
    var all = items();
    if (i >= all.length) {
      var next = app().querySelector('a[rel=next]');
      if (next) { go(next.href, true); }
      return;
    }
    if (i < 0) {
      var prev = app().querySelector('a[rel=prev]');
      if (prev) { go(prev.href, true); }
      return;
    }
    setFocus(i);
  }

  function swap(html, url, push) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var fresh = doc.getElementById('app');
    if (!fresh) { location.href = url; return; }
    var old = app();
    old.replaceWith(document.importNode(fresh, true));
    document.title = doc.title;
    if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
    arm(false);
    init();
  }

  // A request in flight marks the document (tests wait on it; a second key waits too).
  function pending(on) {
    if (on) document.documentElement.dataset.pending = '1';
    else delete document.documentElement.dataset.pending;
  }

  function load(url, opts, push) {
    if (document.documentElement.dataset.pending) return;
    pending(true);
    opts = opts || {};
    opts.credentials = 'same-origin';
    opts.headers = { 'X-Affsync-Fetch': '1' };
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) { swap(t, r.url, push); });
    }).catch(function () { location.href = url; }).then(function () { pending(false); });
  }

  function go(url, push) { return load(url, { method: 'GET' }, push); }

  function submit(form) {
    if (form.dataset.confirm && !confirm(form.dataset.confirm)) return;
    // A form outside the records comes back to the record focused now.
    var f = focused();
    if (f && form.elements.at && !form.closest('section.item')) form.elements.at.value = f.dataset.index;
    var data = new URLSearchParams(new FormData(form));
    var action = form.getAttribute('action') || './';
    var url = new URL(action, location.href);
    if ((form.getAttribute('method') || 'get').toLowerCase() === 'post') {
      load(url.toString(), { method: 'POST', body: data }, false);
    } else {
      url.search = data.toString();
      go(url.toString(), true);
    }
  }

  function arm(on) {
    armed = on;
    document.body.classList.toggle('armed', on);
  }

  // A control by key: the focused record's first, then the page's.
  function control(key, all) {
    var f = focused();
    var sel = all ? '.same button' : '[data-key="' + key + '"]';
    if (all) {
      if (!f) return null;
      var bs = f.querySelectorAll(sel);
      var want = key === 'n' ? 'create' : key === 'x' ? 'reject' : 'accept';
      for (var i = 0; i < bs.length; i++) if (bs[i].dataset.verdict === want) return bs[i];
      return null;
    }
    return (f && f.querySelector(sel)) || app().querySelector(sel);
  }

  function press(el) {
    if (!el) return false;
    if (el.tagName === 'A') { go(el.href, true); return true; }
    if (el.form) { submit(el.form); return true; }
    return false;
  }

  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    var typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT');
    if (typing) {
      if (e.key === 'Escape') t.blur();
      return;
    }
    var k = e.key;
    var done = true;
    if (k === 'j') move(1);
    else if (k === 'k') move(-1);
    else if (k === 's') move(1);
    else if (k === '?') { var h = document.getElementById('keys'); if (h) h.open = !h.open; }
    else if (k === 'a') arm(!armed);
    else if (k === 'Escape') { arm(false); var back = app().querySelector('[data-key="Escape"]'); if (back) press(back); }
    else if (/^[1-9nx]$/.test(k)) {
      var all = armed && /^[1nx]$/.test(k);
      done = press(control(k, all));
      arm(false);
    } else if (k === 'u' || k === '/' || k === 'v') done = press(control(k, false));
    else done = false;
    if (done) e.preventDefault();
  });

  document.addEventListener('submit', function (e) {
    var f = e.target;
    if (!(f instanceof HTMLFormElement)) return;
    e.preventDefault();
    submit(f);
  });

  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[href]');
    if (!a || a.target || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    e.preventDefault();
    go(url.toString(), true);
  });

  window.addEventListener('popstate', function () { go(location.href, false); });

  function init() {
    var auto = app().querySelector('[autofocus]');
    if (auto) auto.focus();
    var f = focused();
    if (f) f.scrollIntoView({ block: 'nearest' });
  }
  document.documentElement.dataset.js = '1';
  init();
})();
