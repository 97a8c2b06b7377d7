//! The loader, the widget and the dashboard (`/app`), embedded in the
//! binary at build time (see `build.rs`): a self-hoster copies one file.
//!
//! `t.js` may change with any release, so it is cached briefly; widget files
//! carry a content hash in their names and are immutable. Each is served
//! pre-compressed (brotli 11 or gzip 9, made by `cargo xtask dist`) when the
//! browser accepts it, so the bytes on the page are the ones measured.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use touchpoint_wire::WidgetAssets;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/t.js", get(get_loader))
        .route("/widget/{file}", get(get_widget_file))
        .route("/app", get(get_dashboard))
        .route("/app/", get(get_dashboard))
        .route("/app/{*screen}", get(get_dashboard))
        .route("/app/assets/{file}", get(get_dashboard_file))
}

/// The dashboard page's policy: its own scripts, wasm, style sheet and API
/// only; no inline script or style, no plug-ins, no framing, forms and
/// links to nowhere else.
pub const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Every screen under `/app` is the same page: the dashboard reads the
/// address itself. Never cached, so a new release is picked up at once.
async fn get_dashboard(headers: HeaderMap) -> Response {
    let Some(page) = APP_FILES.iter().find(|f| f.name == "index.html") else {
        return (
            StatusCode::NOT_FOUND,
            "this build has no dashboard: build the server with `cargo xtask dist`",
        )
            .into_response();
    };
    let mut response = serve(page, &headers, "no-cache");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    );
    response
}

async fn get_dashboard_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match APP_FILES
        .iter()
        .find(|f| f.name == file && f.name != "index.html")
    {
        Some(f) => serve(f, &headers, "public, max-age=31536000, immutable"),
        None => (StatusCode::NOT_FOUND, "no such dashboard file").into_response(),
    }
}

/// Where the widget's glue and wasm are served, when this build has them.
pub fn widget() -> Option<WidgetAssets> {
    let find = |suffix: &str| {
        WIDGET_FILES
            .iter()
            .find(|f| f.name.ends_with(suffix))
            .map(|f| format!("/widget/{}", f.name))
    };
    Some(WidgetAssets {
        js: find(".js")?,
        wasm: find(".wasm")?,
    })
}

async fn get_loader(headers: HeaderMap) -> Response {
    // t.js may change with any release: cached briefly, never immutable.
    serve(&LOADER, &headers, "public, max-age=300")
}

async fn get_widget_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    match WIDGET_FILES.iter().find(|f| f.name == file) {
        Some(f) => serve(f, &headers, "public, max-age=31536000, immutable"),
        None => (StatusCode::NOT_FOUND, "no such widget file").into_response(),
    }
}

fn serve(file: &'static Embedded, headers: &HeaderMap, cache: &'static str) -> Response {
    let content_type = match file.name.rsplit('.').next() {
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "text/javascript; charset=utf-8",
    };
    let accepts = |coding: &str| {
        headers
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|c| {
                c.split(';').next().is_some_and(|c| c.trim() == coding)
                    && !c.replace(' ', "").contains("q=0")
            })
    };
    let (encoding, body) = match (file.br, file.gz) {
        (Some(br), _) if accepts("br") => (Some("br"), br),
        (_, Some(gz)) if accepts("gzip") => (Some("gzip"), gz),
        _ => (None, file.raw),
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            // Host pages import these cross-origin, as a module and a fetch.
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
            // Lets the host page see transfer sizes in Resource Timing.
            (
                header::HeaderName::from_static("timing-allow-origin"),
                HeaderValue::from_static("*"),
            ),
        ],
        body,
    )
        .into_response();
    if let Some(encoding) = encoding {
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response
}
