//! Dashboard sign-in: `POST /v1/session` checks an e-mail and password and
//! sets an HttpOnly, SameSite=Strict session cookie (`__Host-` prefixed and
//! Secure over https); `GET` tells who is signed in; `DELETE` signs out.
//! Cookie-authenticated writes must send the session's CSRF token (see
//! `auth::authorize_write`). Answers are never cached.
//!
//! A sign-in costs an argon2 check (~19 MiB and a core for a moment), so it
//! is guarded before any credential is looked at: attempts are limited per
//! client across e-mails and per client and e-mail (never per e-mail alone,
//! which would let a stranger lock a person out), and at most one check per
//! core runs at once — beyond that a sign-in is answered 503 at once. An
//! unknown e-mail is checked against a decoy hash, so both failures take
//! the same time.

use crate::auth::{
    MAX_PASSWORD_CHARS, SESSION_DAYS, check_csrf, hash_token, new_secret, session_cookie,
    session_from_cookie, verify_password,
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
use touchpoint_wire::{Credentials, Session, SignedOut, SiteRole};

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/session",
        post(create_session).get(get_session).delete(delete_session),
    )
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
    Json(login): Json<Credentials>,
) -> Result<Response> {
    let email = login.email.trim().to_lowercase();
    if email.len() > 254 || login.password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(Error::bad_request(
            "invalid_login",
            format!(
                "an e-mail has at most 254 characters, a password at most {MAX_PASSWORD_CHARS}"
            ),
        ));
    }
    let client = state.client_address(&headers, peer);
    state
        .login_limiter
        .check(&email, client)
        .map_err(|wait| Error::TooManyRequests(wait.as_secs().max(1)))?;
    let Ok(slot) = state.password_checks.clone().try_acquire_owned() else {
        state.metrics.password_check(true);
        return Err(Error::Busy(
            "too many sign-ins at this moment; try again in a second".into(),
        ));
    };
    state.metrics.password_check(false);
    let user = state.store.user_by_email(&email).await?;
    let password = login.password;
    let hash = user.as_ref().map_or_else(decoy_hash, |(_, h)| h.clone());
    let ok = tokio::task::spawn_blocking(move || {
        let ok = verify_password(&password, &hash);
        drop(slot);
        ok
    })
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
    let body = session(&state.store, user_id, email, csrf).await?;
    let mut response = no_store(axum::Json(body).into_response());
    let cookie = session_cookie(&value, is_https(&state, &headers));
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| Error::Internal(e.to_string()))?,
    );
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
            .map(|(key, name, role)| SiteRole {
                key,
                name,
                role: role.as_str().to_owned(),
            })
            .collect(),
    })
}

async fn get_session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let value =
        session_from_cookie(&headers).ok_or_else(|| Error::Unauthorized("not signed in".into()))?;
    let (user_id, email, csrf) = state
        .store
        .session(&hash_token(value))
        .await?
        .ok_or_else(|| Error::Unauthorized("the session has expired; sign in again".into()))?;
    let body = session(&state.store, user_id, email, csrf).await?;
    Ok(no_store(axum::Json(body).into_response()))
}

async fn delete_session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let value =
        session_from_cookie(&headers).ok_or_else(|| Error::Unauthorized("not signed in".into()))?;
    let hash = hash_token(value);
    let (_, _, csrf) = state
        .store
        .session(&hash)
        .await?
        .ok_or_else(|| Error::Unauthorized("the session has expired".into()))?;
    check_csrf(&headers, &csrf)?;
    state.store.delete_session(&hash).await?;
    let mut response = no_store(axum::Json(SignedOut { signed_out: true }).into_response());
    let gone = session_cookie("", is_https(&state, &headers))
        .replace(&format!("Max-Age={}", SESSION_DAYS * 86_400), "Max-Age=0");
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&gone).map_err(|e| Error::Internal(e.to_string()))?,
    );
    Ok(response)
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the browser reached us over https: through a trusted proxy that
/// says so, or as its Origin shows.
fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    let forwarded = state.settings.trusted_proxies > 0
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
