//! The API as the dashboard calls it: same-origin `fetch` with the session
//! cookie, JSON in and out, and the server's error sentence kept for the
//! person reading the screen.

use serde::Serialize;
use serde::de::DeserializeOwned;
use touchpoint_wire::ErrorBody;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

/// Why a call did not give what was asked.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// 401: not signed in, or the session has ended.
    SignedOut(String),
    /// Any other refusal, with the server's sentence.
    Refused(String),
    /// No answer, or one that could not be read.
    Unreachable(String),
}

impl ApiError {
    pub fn message(&self) -> &str {
        match self {
            ApiError::SignedOut(m) | ApiError::Refused(m) | ApiError::Unreachable(m) => m,
        }
    }
}

fn unreachable(e: &JsValue) -> ApiError {
    let _ = e;
    ApiError::Unreachable(
        "The server did not answer. Check your connection and try again.".to_owned(),
    )
}

async fn send(
    method: &str,
    path: &str,
    body: Option<(String, &str)>,
    csrf: Option<&str>,
) -> Result<String, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(|e| unreachable(&e))?;
    headers
        .set("accept", "application/json")
        .map_err(|e| unreachable(&e))?;
    if let Some(csrf) = csrf {
        headers
            .set("x-csrf-token", csrf)
            .map_err(|e| unreachable(&e))?;
    }
    if let Some((body, content_type)) = &body {
        headers
            .set("content-type", content_type)
            .map_err(|e| unreachable(&e))?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(|e| unreachable(&e))?;
    let window = web_sys::window().ok_or_else(|| unreachable(&JsValue::NULL))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|e| unreachable(&e))?
        .dyn_into()
        .map_err(|e| unreachable(&e))?;
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(|e| unreachable(&e))?)
        .await
        .map_err(|e| unreachable(&e))?
        .as_string()
        .unwrap_or_default();
    if (200..300).contains(&status) {
        return Ok(text);
    }
    let message = decode::<ErrorBody>(&text).map_or_else(
        |_| format!("The server answered {status}."),
        |b| sentence(&b.error.message),
    );
    Err(if status == 401 {
        ApiError::SignedOut(message)
    } else {
        ApiError::Refused(message)
    })
}

/// The API's messages are clauses ("the e-mail or the password is
/// wrong"); on a screen they read as sentences.
fn sentence(message: &str) -> String {
    // A message that starts with a field's path (`site.name: …`) keeps it as written.
    let names_a_field = message.split(' ').next().is_some_and(|w| w.ends_with(':'));
    let mut chars = message.chars();
    let mut out: String = if names_a_field {
        message.to_owned()
    } else {
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The browser parses the JSON; serde reads the parsed value (`de`).
/// Decoding the text in wasm instead costs a parser per answer type, the
/// largest part of the dashboard's bytes.
fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    let parsed = js_sys::JSON::parse(text).ok();
    parsed
        .and_then(|v| crate::de::from_value(v).ok())
        .ok_or_else(|| {
            ApiError::Unreachable(
                "The server's answer could not be read; reload the page to get the current dashboard."
                    .to_owned(),
            )
        })
}

/// A value as the JavaScript value JSON would give (objects for maps).
pub fn js(value: &impl Serialize) -> Option<JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()
}

/// A value as JSON text, written by the browser (`JSON.stringify`): no
/// JSON writer in the wasm.
pub fn json(value: &impl Serialize) -> Option<String> {
    js_sys::JSON::stringify(&js(value)?).ok()?.as_string()
}

/// `GET path` as JSON.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    decode(&send("GET", path, None, None).await?)
}

/// `GET path` as the browser parsed its JSON, for values handed on to
/// other JavaScript (the widget's configuration) rather than read here.
pub async fn get_js(path: &str) -> Result<JsValue, ApiError> {
    let text = send("GET", path, None, None).await?;
    js_sys::JSON::parse(&text).map_err(|e| unreachable(&e))
}

/// `POST path` with a JSON body; the CSRF token when signed in.
pub async fn post<T: DeserializeOwned>(
    path: &str,
    body: &impl Serialize,
    csrf: Option<&str>,
) -> Result<T, ApiError> {
    let body = json(body)
        .ok_or_else(|| ApiError::Unreachable("The request could not be written.".to_owned()))?;
    decode(&send("POST", path, Some((body, "application/json")), csrf).await?)
}

/// `PUT path` with a text body of `content_type` and the CSRF token.
pub async fn put<T: DeserializeOwned>(
    path: &str,
    body: String,
    content_type: &str,
    csrf: &str,
) -> Result<T, ApiError> {
    decode(&send("PUT", path, Some((body, content_type)), Some(csrf)).await?)
}

/// `DELETE path` with the CSRF token.
pub async fn delete(path: &str, csrf: &str) -> Result<(), ApiError> {
    send("DELETE", path, None, Some(csrf)).await.map(|_| ())
}
