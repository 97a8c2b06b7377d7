//! API tokens: random, shown once, stored as SHA-256, each with a role on
//! one site. Every private route calls [`authorize`].

use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::{Role, Site};
use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

/// A fresh token, `tpk_` + 32 base-32 characters (160 bits).
pub fn new_token() -> String {
    format!("tpk_{}", random_chars(32))
}

/// A fresh public site key, `tp_` + 16 base-32 characters.
pub fn new_site_key() -> String {
    format!("tp_{}", random_chars(16))
}

fn random_chars(n: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect()
}

pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The dashboard's session cookie over plain http (a local install).
pub const SESSION_COOKIE: &str = "touchpoint_session";
/// The session cookie over https: with the `__Host-` prefix the browser
/// keeps it only if it is Secure, for this host alone, on path `/`.
pub const SECURE_SESSION_COOKIE: &str = "__Host-touchpoint_session";
/// Header that cookie-authenticated writes must carry, with the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts.
pub const SESSION_DAYS: i64 = 7;

/// Longest password accepted (argon2 reads it whole).
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A fresh session id (for the cookie) or CSRF token: 256 bits.
pub fn new_secret() -> String {
    random_chars(52)
}

/// Hashes a password with argon2id (PHC string, random salt).
pub fn hash_password(password: &str) -> String {
    use argon2::PasswordHasher;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source failed");
    let salt =
        argon2::password_hash::SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any password")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::password_hash::PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// The `Set-Cookie` value of a session.
pub fn session_cookie(value: &str, https: bool) -> String {
    let (name, secure) = if https {
        (SECURE_SESSION_COOKIE, "; Secure")
    } else {
        (SESSION_COOKIE, "")
    };
    format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        SESSION_DAYS * 86_400
    )
}

/// The session id the request's cookie carries, under either name.
pub fn session_from_cookie(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SECURE_SESSION_COOKIE)
        .or_else(|| cookie(headers, SESSION_COOKIE))
        .filter(|v| !v.is_empty())
}

/// The value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

enum Credential<'a> {
    Token(&'a str),
    Session(&'a str),
}

fn credential(headers: &HeaderMap) -> Option<Credential<'_>> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    match bearer {
        Some(token) => Some(Credential::Token(token)),
        None => session_from_cookie(headers).map(Credential::Session),
    }
}

/// The site behind `key`, if the request's API token or session grants
/// `role` on it. For reads.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    role: Role,
) -> Result<Site> {
    check(state, headers, key, role, false)
        .await
        .map(|(site, _)| site)
}

/// [`authorize`], also saying which role the credentials grant (for reads
/// that show more to some roles).
pub async fn authorize_role(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    role: Role,
) -> Result<(Site, Role)> {
    check(state, headers, key, role, false).await
}

/// Like [`authorize`], for requests that change something: a session
/// (cookie) must also send its CSRF token in `X-CSRF-Token`.
pub async fn authorize_write(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    role: Role,
) -> Result<Site> {
    check(state, headers, key, role, true)
        .await
        .map(|(site, _)| site)
}

/// [`authorize_write`], also saying which role the credentials grant (for
/// changes that need more than `role` in some cases).
pub async fn authorize_write_role(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    role: Role,
) -> Result<(Site, Role)> {
    check(state, headers, key, role, true).await
}

/// The signed-in account behind a dashboard session: `(user id, e-mail)`.
/// For what only an account may do (an API token belongs to one site);
/// with `write`, the session's CSRF token must come too.
pub async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
    write: bool,
) -> Result<(i64, String)> {
    match credential(headers) {
        Some(Credential::Session(value)) => signed_in(state, headers, value, write).await,
        Some(Credential::Token(_)) => Err(Error::forbidden(
            "account_required",
            "this needs a signed-in account: an API token belongs to one site",
        )),
        None => Err(Error::Unauthorized("sign in first".into())),
    }
}

/// The account behind session cookie `value`: `(user id, e-mail)`; with
/// `write`, the request must carry the session's CSRF token.
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    value: &str,
    write: bool,
) -> Result<(i64, String)> {
    let (user_id, email, csrf) = state
        .store
        .session(&hash_token(value))
        .await?
        .ok_or_else(|| Error::Unauthorized("the session has expired; sign in again".into()))?;
    if write {
        check_csrf(headers, &csrf)?;
    }
    Ok((user_id, email))
}

/// Who is making a request, in words for a log line: the session's
/// e-mail, or `an API token`.
pub async fn actor(state: &AppState, headers: &HeaderMap) -> Result<String> {
    match credential(headers) {
        Some(Credential::Session(_)) => Ok(session_user(state, headers, false).await?.1),
        _ => Ok("an API token".to_owned()),
    }
}

async fn check(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    role: Role,
    write: bool,
) -> Result<(Site, Role)> {
    let missing = || {
        Error::Unauthorized(
            "send an API token as `Authorization: Bearer <token>`, or sign in".into(),
        )
    };
    let (site_id, granted) = match credential(headers).ok_or_else(missing)? {
        Credential::Token(token) => state
            .store
            .token(&hash_token(token))
            .await?
            .map(|(site_id, role)| (Some(site_id), Some(role)))
            .ok_or_else(|| Error::Unauthorized("the token is unknown or revoked".into()))?,
        Credential::Session(value) => {
            let (user_id, _) = signed_in(state, headers, value, write).await?;
            match state.store.site_by_key(key).await? {
                Some(site) => (
                    Some(site.id),
                    state.store.membership(user_id, site.id).await?,
                ),
                None => (None, None),
            }
        }
    };
    let site = state.store.site_by_key(key).await?;
    match (site, site_id, granted) {
        (Some(site), Some(id), Some(granted)) if site.id == id && granted >= role => {
            Ok((site, granted))
        }
        (Some(site), Some(id), Some(granted)) if site.id == id => Err(Error::forbidden(
            "insufficient_role",
            format!(
                "this needs the {} role; you have {}",
                role.as_str(),
                granted.as_str()
            ),
        )),
        _ => Err(Error::forbidden(
            "wrong_site",
            "your credentials do not grant access to this site",
        )),
    }
}

/// A cookie-authenticated change must carry the session's CSRF token in
/// `X-CSRF-Token`; compared in constant time.
pub fn check_csrf(headers: &HeaderMap, csrf: &str) -> Result<()> {
    let sent = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
        Ok(())
    } else {
        Err(Error::forbidden(
            "csrf_failed",
            "send the session's CSRF token in X-CSRF-Token with every change",
        ))
    }
}

/// Equal without telling by its timing where two secrets first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
