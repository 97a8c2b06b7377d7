//! The ingest benchmark's baseline: a bare axum endpoint that reads the body
//! of `POST /v1/events` and answers 202, storing nothing. Run by
//! `cargo xtask bench` as `bare-202 ADDR`.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("{}", listener.local_addr()?);
    let app = Router::new().route(
        "/v1/events",
        post(|body: Bytes| async move {
            std::hint::black_box(body);
            (StatusCode::ACCEPTED, r#"{"accepted":1,"duplicates":0}"#)
        }),
    );
    axum::serve(listener, app).await?;
    Ok(())
}
