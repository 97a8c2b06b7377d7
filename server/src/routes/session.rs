//! Dashboard sign-in: `POST /v1/session` checks an e-mail and password and
//! sets an HttpOnly, SameSite=Strict session cookie (Secure over https);
//! `GET` tells who is signed in; `DELETE` signs out. Sign-in attempts are
//! rate-limited per address and per e-mail. Cookie-authenticated writes must
//! send the session's CSRF token (see `auth::authorize_write`).

use crate::auth::{
    CSRF_HEADER, SESSION_COOKIE, SESSION_DAYS, cookie, hash_token, new_secret, verify_password,
};
use crate::error::{Error, Result};
use crate::extract::{Json, Peer};
use crate::state::AppState;
use crate::store::Store;
use crate::time::format_ts;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use touchpoint_wire::{Session, SignedOut, SiteRole};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/session",
        post(create_session).get(get_session).delete(delete_session),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

/// A hash to verify against when the e-mail is unknown, so both failures
/// take the same time.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| crate::auth::hash_password("not anyone's password"))
        .clone()
}

async fn create_session(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Json(login): Json<Login>,
) -> Result<Response> {
    let email = login.email.trim().to_lowercase();
    let client = state.client_address(&headers, peer);
    state
        .login_limiter
        .check(&email, client)
        .map_err(|wait| Error::TooManyRequests(wait.as_secs().max(1)))?;
    let user = state.store.user_by_email(&email).await?;
    let password = login.password;
    let hash = user.as_ref().map_or_else(decoy_hash, |(_, h)| h.clone());
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let user_id = match (user, ok) {
        (Some((id, _)), true) => id,
        _ => {
            return Err(Error::Unauthorized(
                "the e-mail or the password is wrong".into(),
            ));
        }
    };
    let value = new_secret();
    let csrf = new_secret();
    let expires = format_ts(time::OffsetDateTime::now_utc() + time::Duration::days(SESSION_DAYS));
    state
        .store
        .create_session(&hash_token(&value), user_id, &csrf, &expires)
        .await?;
    let secure = if is_https(&state, &headers) {
        "; Secure"
    } else {
        ""
    };
    let set_cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_DAYS * 86_400
    );
    let body = session(&state.store, user_id, email, csrf).await?;
    let mut response = axum::Json(body).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&set_cookie).map_err(|e| Error::Internal(e.to_string()))?,
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Who is signed in, their CSRF token and their sites.
async fn session(store: &Store, user_id: i64, email: String, csrf: String) -> Result<Session> {
    let sites = store.memberships(user_id).await?;
    Ok(Session {
        email,
        csrf,
        sites: sites
            .into_iter()
            .map(|(key, role)| SiteRole {
                key,
                role: role.as_str().to_owned(),
            })
            .collect(),
    })
}

async fn get_session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let value = cookie(&headers, SESSION_COOKIE)
        .ok_or_else(|| Error::Unauthorized("not signed in".into()))?;
    let (user_id, email, csrf) = state
        .store
        .session(&hash_token(value))
        .await?
        .ok_or_else(|| Error::Unauthorized("the session has expired; sign in again".into()))?;
    let body = session(&state.store, user_id, email, csrf).await?;
    Ok(axum::Json(body).into_response())
}

async fn delete_session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let value = cookie(&headers, SESSION_COOKIE)
        .ok_or_else(|| Error::Unauthorized("not signed in".into()))?;
    let hash = hash_token(value);
    let (_, _, csrf) = state
        .store
        .session(&hash)
        .await?
        .ok_or_else(|| Error::Unauthorized("the session has expired".into()))?;
    if headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) != Some(csrf.as_str()) {
        return Err(Error::forbidden(
            "csrf_failed",
            "send the session's CSRF token in X-CSRF-Token to sign out",
        ));
    }
    state.store.delete_session(&hash).await?;
    let mut response = axum::Json(SignedOut { signed_out: true }).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "touchpoint_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

/// Whether the browser reached us over https: through a trusted proxy that
/// says so, or as its Origin shows.
fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    let forwarded = state.settings.trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            == Some("https");
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|o| o.starts_with("https://"));
    forwarded || origin
}
