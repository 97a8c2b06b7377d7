//! The HTTP application: every route, each module with its `router()`
//! beside its handlers, composed by [`app`].
//!
//! Public (any page, any origin): [`ingest`], [`config`]. Private (API
//! token or dashboard session, see `auth`): [`reports`], [`insights`], [`comments`],
//! [`site_admin`], [`alerts`], [`visitors`]. Sign-in: [`session`]. Operations: [`ops`]. The loader and
//! the widget: `assets`.

pub mod alerts;
pub mod comments;
pub mod config;
pub mod ingest;
pub mod insights;
pub mod ops;
pub mod reports;
pub mod session;
pub mod site_admin;
pub mod visitors;

use crate::assets;
use crate::error::Error;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, Method, header};
use axum::middleware::Next;
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // Ingest and config are called from any host page; the ingest handler
    // then checks the Origin against the site's own list.
    let public_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, HeaderName::from_static("retry-after")])
        .max_age(Duration::from_secs(86_400));
    let public = Router::new()
        .merge(ingest::router())
        .route("/v1/sites/{key}/config", config::route())
        .layer(public_cors);
    Router::new()
        .merge(ops::router())
        .merge(reports::router())
        .merge(insights::router())
        .merge(comments::router())
        .merge(site_admin::router())
        .merge(alerts::router())
        .merge(visitors::router())
        .merge(session::router())
        .merge(public)
        .with_state(state.clone())
        .merge(assets::router())
        .fallback(|| async { Error::not_found("not_found", "no such route") })
        // One layer for both (each layer is a boxed service and future per
        // request).
        .layer(axum::middleware::from_fn_with_state(state, observe))
}

/// Headers every answer carries unless its route set its own: nothing here
/// is to be sniffed into another type, framed, or rendered with anything it
/// did not bring (the API answers JSON, CSV and scripts; none of it is a
/// page to render), and no referrer leaves with a link.
fn harden(response: &mut axum::response::Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
    ] {
        if !headers.contains_key(&name) {
            headers.insert(name, axum::http::HeaderValue::from_static(value));
        }
    }
}

/// Records each request's latency by route template and logs it without
/// the path itself (paths can hold keys and visitor ids), the query string,
/// the client's address or any header; gives the answer the headers of
/// [`harden`].
async fn observe(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    // The template's name is shared, not copied.
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let method = crate::metrics::method_label(request.method().as_str());
    let started = Instant::now();
    let mut response = next.run(request).await;
    harden(&mut response);
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(route, method, status, took);
    tracing::debug!(%method, %route, status, ms = took.as_secs_f64() * 1000.0, "request");
    response
}
