//! The loader and the widget, embedded in the binary at build time (see
//! `build.rs`): a self-hoster copies one file.
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
    let content_type = if file.name.ends_with(".wasm") {
        "application/wasm"
    } else {
        "text/javascript; charset=utf-8"
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
