// Touchpoint loader, served as /t.js. Goal 1 is size: a page with no eligible
// touchpoint pays for this file and the config, nothing else.
// `cargo xtask dist` minifies it with terser; keep property names the page uses.
(function (w, d) {
  var s = d.currentScript || d.querySelector('script[data-site]');
  if (!s || w.__touchpoint) return;
  w.__touchpoint = 1;
  var api = new URL(s.src).origin,
    key = s.getAttribute('data-site'),
    stage = s.getAttribute('data-stage') || undefined,
    q = (w.touchpoint && w.touchpoint.q) || [],
    tp = 'touchpoint:',
    get = function (st, k) {
      try { return w[st].getItem(tp + k); } catch (e) {}
    },
    set = function (st, k, v) {
      try { w[st].setItem(tp + k, v); } catch (e) {}
    },
    // RFC 4122 v4 from crypto.getRandomValues, which insecure origins have too.
    uuid = function () {
      return '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, function (c) {
        return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
      });
    },
    said = get('localStorage', 'consent'),
    consent = said != '0',
    // Commands for the widget (track, show, stage) wait until it has started.
    cq = [],
    hook,
    cmd = function (a) {
      if (a[0] == 'stage') stage = a[1];
      if (a[0] == 'consent') {
        set('localStorage', 'consent', (said = consent = !!a[1]) ? 1 : 0);
        // Withdrawn consent also drops whatever was waiting to be sent.
        if (!consent) set('localStorage', qk, '[]');
      }
      hook ? hook(a) : cq.push(a);
    },
    // Delivery that loses nothing: events wait in localStorage until the
    // server has taken them; network errors, 429 and 5xx retry with jittered
    // backoff, on `online` and on the next page. A 4xx naming events[i]
    // drops that event only (the server stores a batch all or nothing);
    // any other 4xx drops the batch. Ids make every resend harmless.
    qk = 'queue:' + key,
    busy,
    tries = 0,
    timer,
    queued = function () {
      try { return JSON.parse(get('localStorage', qk)) || []; } catch (e) { return []; }
    },
    post = function (events) {
      return JSON.stringify({ site: key, events: events });
    },
    flush = function () {
      var batch = queued().slice(0, 50);
      if (busy || !batch.length || !consent) return;
      busy = 1;
      fetch(api + '/v1/events', { method: 'POST', body: post(batch), keepalive: true, headers: { 'content-type': 'text/plain' } })
        .then(function (r) {
          if (r.status > 499 || r.status == 429) throw 0;
          return r.ok || r.json().then(function (b) {
            var bad = /events\[(\d+)\]/.exec(b.error.message);
            if (bad) batch = [batch[bad[1]]];
          });
        })
        .then(function () {
          var sent = batch.map(function (e) { return e.id; });
          set('localStorage', qk, JSON.stringify(queued().filter(function (e) { return sent.indexOf(e.id) < 0; })));
          busy = tries = 0;
          flush();
        }, function () {
          busy = 0;
          clearTimeout(timer);
          timer = setTimeout(flush, Math.min(6e4, 1e3 * Math.pow(2, tries++)) * (0.5 + Math.random()));
        });
    };
  // The page's queue stub collected calls made before this script ran.
  w.touchpoint = function () { cmd(arguments); };
  for (var i = 0; i < q.length; i++) cmd(q[i]);
  if (!key || !consent) return;
  flush();
  w.addEventListener('online', flush);
  w.addEventListener('pagehide', function () {
    var left = queued();
    // Kept queued: if the beacon does not arrive, the next page sends them again.
    if (left.length && consent) navigator.sendBeacon(api + '/v1/events', post(left.slice(0, 50)));
  });
  // `*` matches within one path segment, `**` across; `/a/**` also matches `/a`.
  // Twin of touchpoint_wire::page::glob_match.
  function glob(p, path) {
    var parent = p.slice(0, -3);
    return (p.slice(-3) == '/**' && (path == parent || (!parent && path == '/'))) || m(p, 0, path, 0);
  }
  function m(p, i, path, j) {
    if (i == p.length) return j == path.length;
    if (p[i] == '*') {
      var deep = p[i + 1] == '*';
      for (var k = j; ; k++) {
        if (m(p, i + (deep ? 2 : 1), path, k)) return true;
        if (k == path.length || (!deep && path[k] == '/')) return false;
      }
    }
    return path[j] == p[i] && m(p, i + 1, path, j + 1);
  }
  w.touchpoint.glob = glob;
  fetch(api + '/v1/sites/' + encodeURIComponent(key) + '/config')
    .then(function (r) { return r.ok && r.json(); })
    .then(function (c) {
      var visitor = get('localStorage', 'visitor') || uuid(),
        session = get('sessionStorage', 'session') || uuid(),
        n = navigator,
        ready,
        last,
        // The touchpoints that may appear on the current path. The widget is
        // fetched and compiled as soon as one may, before its trigger fires.
        eligible = function () {
          var path = location.pathname.replace(/\/+$/, '') || '/',
            // Global Privacy Control or Do-Not-Track keep the widget away, unless
            // the page has given consent or the site chose otherwise.
            ts = c && c.widget && !(c.respect_gpc !== false && said != 1 && (n.globalPrivacyControl || n.doNotTrack == 1)) ? c.touchpoints.filter(function (t) {
              var last = +get('localStorage', 'contact:' + key + ':' + t.id) || 0;
              return (!t.pages.length || t.pages.some(function (p) { return glob(p, path); })) &&
                !get('sessionStorage', 'shown:' + key + ':' + t.id) &&
                Date.now() - last > t.recontact_days * 864e5 &&
                // Sampled once per page load, whatever the routes.
                (t.r = t.r || Math.random()) < t.sample;
            }) : [];
          // What the loader decided, for tests and debugging: the eligible touchpoints' ids.
          w.touchpoint.t = ts.map(function (t) { return t.id; }).join(' ');
          if (ts.length && !ready) {
            set('localStorage', 'visitor', visitor);
            set('sessionStorage', 'session', session);
            ready = import(api + c.widget.js).then(function (mod) {
              return mod.default({ module_or_path: api + c.widget.wasm }).then(function () { return mod; });
            });
          }
          return ts;
        },
        // Arms the path's touchpoints once the page has loaded, and again on
        // every new path of a single-page app (the old path's triggers end).
        route = function () {
          if (location.pathname == last) return;
          // A new path starts without the old one's stage.
          if (last) stage = undefined;
          last = location.pathname;
          var ts = eligible();
          ready && ready.then(function (mod) {
            mod.start({
              site: key, tps: ts, budget: c.contact_days, theme: c.theme, langs: n.languages || [n.language],
              stage: stage, visitor: visitor, session: session,
              // Recorded with each event: GPC as the browser sent it, consent as the page said it.
              gpc: n.globalPrivacyControl, consent: said == null ? undefined : !!+said,
              device: matchMedia('(pointer:coarse)').matches ? (innerWidth < 768 ? 'mobile' : 'tablet') : 'desktop',
              id: uuid,
              ok: function () { return consent; },
              send: function (e) {
                if (!consent) return;
                // At most 500 events wait; the oldest go first.
                set('localStorage', qk, JSON.stringify(queued().concat(e).slice(-500)));
                flush();
              }
            });
            hook = mod.cmd;
            cq.splice(0).forEach(hook);
          });
        };
      eligible();
      ['pushState', 'replaceState'].forEach(function (k) {
        var f = history[k];
        history[k] = function () { f.apply(history, arguments); route(); };
      });
      w.addEventListener('popstate', route);
      d.readyState == 'complete' ? route() : w.addEventListener('load', route);
    })
    .catch(function () {});
})(window, document);
