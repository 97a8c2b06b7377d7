//! Pages the demo shop does not have, served beside it on the shop's origin.

/// `/hostile`: a page that fights the widget. A strict CSP (no inline
/// script or style, the API allowed for scripts and connections, wasm
/// compilation allowed), and global CSS that restyles every element.
pub fn hostile_host(api: &str, key: &str) -> axum::Router {
    use axum::http::header;
    use axum::routing::get;
    let csp = format!(
        "default-src 'self'; script-src 'self' {api} 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self' {api}"
    );
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Hostile host</title>
<link rel="stylesheet" href="/hostile.css"><script src="/hostile-stub.js"></script>
<script async src="{api}/t.js" data-site="{key}"></script></head>
<body><div class="card"><p class="question">The page's own card</p><button class="opt">The page's own button</button></div></body></html>"#
    );
    axum::Router::new()
        .route(
            "/hostile",
            get(move || async move {
                (
                    [(header::CONTENT_SECURITY_POLICY, csp)],
                    axum::response::Html(html),
                )
            }),
        )
        .route(
            "/hostile.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css")],
                    "* { font: italic 40px/3 fantasy !important; color: #f0f !important; letter-spacing: 9px !important; \
                       box-sizing: content-box !important; text-transform: uppercase !important; } \
                     div, section, p { display: inline !important; margin: 50px !important; padding: 30px !important; \
                       background: #0f0 !important; border: 9px dashed red !important; } \
                     button { display: none !important; position: absolute !important; } \
                     body > * { opacity: .9 !important; transform: rotate(3deg) !important; }",
                )
            }),
        )
        .route(
            "/hostile-stub.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript")],
                    "window.touchpoint=window.touchpoint||function(){(touchpoint.q=touchpoint.q||[]).push(arguments)};\
                     window.violations=[];document.addEventListener('securitypolicyviolation',e=>violations.push(e.violatedDirective+' '+e.blockedURI));",
                )
            }),
        )
}

/// `/spa/…`: every path serves the same page, as a single-page app's
/// server does; the page changes its path with `history.pushState`. And
/// `/staged`, whose script tag names its journey stage.
pub fn single_page_app(api: &str, key: &str) -> axum::Router {
    use axum::routing::get;
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>App</title>
<script>window.touchpoint=window.touchpoint||function(){{(touchpoint.q=touchpoint.q||[]).push(arguments)}};</script>
<script async src="{api}/t.js" data-site="{key}"></script></head><body><h1>An app</h1></body></html>"#
    );
    let page = move || {
        let html = html.clone();
        async move { axum::response::Html(html) }
    };
    // A page that names its journey stage on the script tag.
    let staged = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Help</title>
<script async src="{api}/t.js" data-site="{key}" data-stage="support"></script></head><body><h1>Help</h1></body></html>"#
    );
    axum::Router::new()
        .route("/spa", get(page.clone()))
        .route("/spa/{*rest}", get(page))
        .route(
            "/staged",
            get(move || {
                let html = staged.clone();
                async move { axum::response::Html(html) }
            }),
        )
}
