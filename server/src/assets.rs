//! The loader and the widget, embedded in the binary at build time (see
//! `build.rs`): a self-hoster copies one file.
//!
//! `t.js` may change with any release, so it is cached briefly; widget files
//! carry a content hash in their names and are immutable.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
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
            .find(|(name, _)| name.ends_with(suffix))
            .map(|(name, _)| format!("/widget/{name}"))
    };
    Some(WidgetAssets {
        js: find(".js")?,
        wasm: find(".wasm")?,
    })
}

async fn get_loader() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        LOADER,
    )
        .into_response()
}

async fn get_widget_file(Path(file): Path<String>) -> Response {
    let Some((name, bytes)) = WIDGET_FILES.iter().find(|(name, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such widget file").into_response();
    };
    let content_type = if name.ends_with(".wasm") {
        "application/wasm"
    } else {
        "text/javascript; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            // The host page imports these cross-origin as a module and fetches the wasm.
            (
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                HeaderValue::from_static("*"),
            ),
        ],
        *bytes,
    )
        .into_response()
}
