// Touchpoint loader, served as /t.js. Goal 1 is size: a page with no eligible
// touchpoint pays for this file and the config, nothing else.
// `cargo xtask dist` minifies it with terser; keep property names the page uses.
// Modern syntax (ES2020) on purpose: every browser that runs the widget's
// WebAssembly module has it, and it is shorter.
((w, d) => {
  let s = d.currentScript;
  // Once per page: a second copy finds the first one's function.
  if (!s || w.touchpoint?.glob) return;
  let api = new URL(s.src).origin,
    key = s.getAttribute('data-site'),
    stage = s.getAttribute('data-stage'),
    q = w.touchpoint?.q || [],
    L = 'localStorage',
    S = 'sessionStorage',
    get = (st, k) => {
      try { return w[st].getItem('touchpoint:' + k); } catch (e) {}
    },
    set = (st, k, v) => {
      try { w[st].setItem('touchpoint:' + k, v); } catch (e) {}
    },
    // RFC 4122 v4 from crypto.getRandomValues, which insecure origins have too.
    uuid = () => '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, c =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)),
    said = get(L, 'consent'),
    consent = said != '0',
    json = (k, d) => {
      try { return JSON.parse(get(L, k)) || d; } catch (e) { return d; }
    },
    // The site's configuration, once fetched.
    cf,
    // `track` on one of the site's outcomes records it, for a visitor who
    // has been eligible for a question (and so has an id to link it to).
    out = (a, visitor = get(L, 'visitor')) => a[0] == 'track' && visitor && cf?.outcomes?.includes(a[1]) &&
      send({ id: uuid(), kind: 'outcome', outcome: a[1], page: location.href, ts: new Date().toISOString(), visitor }),
    // Commands for the widget (track, show, stage) wait until it has started.
    cq = [],
    hook,
    cmd = a => {
      if (a[0] == 'stage') stage = a[1];
      if (a[0] == 'consent') {
        set(L, 'consent', (said = consent = !!a[1]) ? 1 : 0);
        // Withdrawn consent also drops whatever was waiting to be sent.
        consent || set(L, qk, '[]');
      }
      // Visitor attributes, merged into those kept for the next events
      // (the widget adds them) and audiences.
      if (a[0] == 'identify') set(L, 'attrs', JSON.stringify({ ...json('attrs', {}), ...a[1] }));
      out(a);
      hook ? hook(a) : cq.push(a);
    },
    // Delivery that loses nothing: events wait in localStorage until the
    // server has taken them; network errors, 429 and 5xx retry with jittered
    // backoff and on the next page. A 4xx whose error has an
    // `index` drops that event only (the server stores a batch all or nothing);
    // any other 4xx drops the batch. Ids make every resend harmless.
    qk = 'queue:' + key,
    busy,
    tries = 0,
    timer,
    queued = () => json(qk, []),
    send = e => {
      if (!consent) return;
      // At most 500 events wait; the oldest go first.
      set(L, qk, JSON.stringify(queued().concat(e).slice(-500)));
      flush();
    },
    events = api + '/v1/events',
    post = events => JSON.stringify({ site: key, events }),
    flush = () => {
      let batch = queued().slice(0, 50);
      if (busy || !batch.length || !consent) return;
      busy = 1;
      // A string body goes as text/plain: a simple request, no preflight.
      fetch(events, { method: 'POST', body: post(batch), keepalive: true })
        .then(r => {
          if (r.status > 499 || r.status == 429) throw 0;
          return r.ok || r.json().then(b => {
            let i = b.error.index;
            if (i >= 0) batch = [batch[i]];
          });
        })
        .then(() => {
          let sent = batch.map(e => e.id);
          set(L, qk, JSON.stringify(queued().filter(e => !sent.includes(e.id))));
          busy = tries = 0;
          flush();
        }, () => {
          busy = 0;
          clearTimeout(timer);
          timer = setTimeout(flush, Math.min(6e4, 1e3 * 2 ** tries++) * (0.5 + Math.random()));
        });
    },
    // `*` matches within one path segment, `**` across; `/a/**` also matches `/a`.
    // Twin of touchpoint_wire::page::glob_match: the glob's positions as a
    // set, advanced one character at a time (linear, whatever the stars).
    glob = (p, path) => p.slice(-3) == '/**' && path == (p.slice(0, -3) || '/') || m(p, path),
    m = (p, path) => {
      let skip = S => { for (let i of S) p[i] == '*' && S.add(i + 1 + (p[i + 1] == '*')); return S },
        S = skip(new Set([0]));
      for (let ch of path) {
        let N = new Set;
        for (let i of S) p[i] == '*' ? (p[i + 1] == '*' || ch != '/') && N.add(i) : p[i] == ch && N.add(i + 1);
        S = skip(N);
      }
      return S.has(p.length);
    },
    // The path a touchpoint's page globs see and events report: a hash
    // route (`/#/cart`, `/app/#/cart?x`) counts as the path it names
    // (`/cart`, `/app/cart`). No trailing slash but on `/`.
    trim = p => p.replace(/\/+$/, ''),
    path = (h = location.hash) => trim(location.pathname) + (h[1] == '/' ? trim(h.slice(1).split('?')[0]) : '') || '/';
  // The page's queue stub collected calls made before this script ran.
  w.touchpoint = (...a) => cmd(a);
  w.touchpoint.glob = glob;
  q.forEach(cmd);
  if (!key || !consent) return;
  flush();
  w.addEventListener('pagehide', () => {
    let left = queued();
    // Kept queued: if the beacon does not arrive, the next page sends them again.
    left.length && consent && navigator.sendBeacon(events, post(left.slice(0, 50)));
  });
  fetch(api + '/v1/sites/' + encodeURIComponent(key) + '/config')
    .then(r => r.ok && r.json())
    .then(c => {
      cf = c;
      let visitor = get(L, 'visitor') || uuid(),
        session = get(S, 'session') || uuid(),
        n = navigator,
        ready,
        last,
        // The touchpoints that may appear on the current path. The widget is
        // fetched and compiled as soon as one may, before its trigger fires.
        eligible = (p = path(), A = json('attrs', {})) => {
          // Global Privacy Control or Do-Not-Track keep the widget away, unless
          // the page has given consent or the site chose otherwise.
          let ts = c?.widget && !(c.respect_gpc !== false && said != 1 && (n.globalPrivacyControl || n.doNotTrack == 1)) ? c.touchpoints.filter(t =>
            (!t.pages[0] || t.pages.some(g => glob(g, p))) &&
            // Its audience: every attribute it names has a value it lists.
            Object.entries(t.audience || {}).every(([k, v]) => v.includes(A[k])) &&
            !get(S, `shown:${key}:${t.id}`) &&
            // (Without storage nothing can be remembered: no question.)
            Date.now() - get(L, `contact:${key}:${t.id}`) > t.recontact_days * 864e5 &&
            // Sampled once per page load, whatever the routes.
            (t.r ||= Math.random()) < t.sample) : [];
          if (ts.length && !ready) {
            set(L, 'visitor', visitor);
            set(S, 'session', session);
            // Fetched and compiled when the page is idle (within 2 s), not
            // in the middle of the page's own start-up; the wasm and its
            // glue download side by side.
            ready = new Promise(r => (w.requestIdleCallback || setTimeout)(r, { timeout: 2e3 }))
              .then(() => {
                let wasm = fetch(api + c.widget.wasm);
                return import(api + c.widget.js).then(mod => mod.default({ module_or_path: wasm }).then(() => mod));
              });
          }
          return ts;
        },
        // Arms the path's touchpoints once the page has loaded, and again on
        // every new path of a single-page app (the old path's triggers end).
        route = () => {
          let p = path(), ts;
          if (p == last) return;
          // A new path starts without the old one's stage.
          if (last) stage = undefined;
          last = p;
          ts = eligible(p);
          ready?.then(mod => {
            mod.start({
              ...c, tps: ts, stage, visitor, session, path, glob, id: uuid,
              ok: () => consent, send
            });
            hook = mod.cmd;
            cq.splice(0).forEach(hook);
          });
        };
      eligible();
      // Outcomes tracked before the configuration came (once the visitor
      // may have an id).
      cq.forEach(a => out(a));
      ['pushState', 'replaceState'].forEach(k => {
        let f = history[k];
        history[k] = function () { f.apply(history, arguments); route(); };
      });
      w.addEventListener('popstate', route);
      d.readyState == 'complete' ? route() : w.addEventListener('load', route);
    })
    .catch(() => {});
})(window, document);
