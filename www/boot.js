// The dashboard's boot module (no inline script: the page's policy allows
// none). `cargo xtask dist` fills in the hashed names.
import init from "./{glue}";
init({ module_or_path: "/app/assets/{wasm}" });

// The setup's live preview: the real widget, imported on demand (once) by
// the URLs the site's configuration names, started on the page's
// `[data-touchpoint=<tp.id>]` place with the site's configuration and this
// one touchpoint. Nothing leaves the page: `send` gets each event instead
// of the loader's delivery queue.
let widget;
window.touchpointPreview = (config, tp, send) =>
  (widget ||= import(config.widget.js).then(m => m.default({ module_or_path: config.widget.wasm }).then(() => m)))
    .then(m => m.start({
      ...config, tps: [tp], visitor: "preview", session: "preview",
      path: () => "/preview", glob: () => true, id: () => crypto.randomUUID(), ok: () => true, send,
    }));
