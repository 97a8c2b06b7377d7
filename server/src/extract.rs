//! One way in: every JSON body is read with a size limit and decoded by
//! [`decode_json`], whose errors name the path of the faulty field; the
//! [`Json`] extractor turns every rejection into the app's own [`Error`].

use crate::error::Error;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// Largest JSON body a route takes through [`Json`] (the ingest, which
/// takes more, reads its body itself with [`read_body`]).
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// JSON into `T`; the error names the path of the faulty field
/// (`events[3].score: …`), or says `what` when the text as a whole is not
/// the expected object.
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    decode_json_at(bytes, what).map_err(|e| e.message)
}

/// Why a JSON text did not decode: the message of [`decode_json`] and the
/// path of the faulty field.
#[derive(Debug)]
pub struct JsonError {
    pub message: String,
    pub path: serde_path_to_error::Path,
}

/// [`decode_json`], keeping the faulty field's path for the caller.
pub fn decode_json_at<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, JsonError> {
    // Most texts are valid: they are decoded without tracking the path,
    // and only one that fails is decoded again to say where.
    if let Ok(value) = T::deserialize(&mut serde_json::Deserializer::from_slice(bytes)) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().clone();
        let shown = path.to_string();
        let inner = e.into_inner();
        let message = if shown == "." || shown.is_empty() {
            format!("{what}: {inner}")
        } else {
            format!("{shown}: {inner}")
        };
        JsonError { message, path }
    })
}

/// The body, at most `limit` bytes; a larger one is refused with 413
/// without reading the rest.
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<axum::body::Bytes, Error> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let cause = e.into_inner();
        // The body's own errors arrive wrapped (by axum, by the limit):
        // look along the chain.
        let mut chain: Option<&(dyn std::error::Error + 'static)> = Some(&*cause);
        while let Some(err) = chain {
            if err.is::<http_body_util::LengthLimitError>() {
                return Error::TooLarge(format!("the body is larger than {limit} bytes"));
            }
            if err.is::<tower_http::timeout::TimeoutError>() {
                return Error::RequestTimeout(
                    "the body stopped arriving before it was complete".into(),
                );
            }
            chain = err.source();
        }
        Error::bad_request("unreadable_body", "the body could not be read to its end")
    })
}

/// A JSON body of at most [`MAX_JSON_BYTES`], whatever its content type
/// says; a malformed one is a 400 `invalid_json` naming the field.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(request: Request, _: &S) -> Result<Self, Error> {
        let bytes = read_body(request.into_body(), MAX_JSON_BYTES).await?;
        decode_json(&bytes, "the body is not the expected JSON object")
            .map(Json)
            .map_err(|message| Error::bad_request("invalid_json", message))
    }
}

/// The connected peer's address, when the server was started with it
/// (`into_make_service_with_connect_info`); tests through `oneshot` have none.
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub Option<std::net::SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}
