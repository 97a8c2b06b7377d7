//! API tokens: random, shown once, stored as SHA-256, each with a role on
//! one site. Every private route calls [`authorize`].

use crate::AppState;
use crate::error::{Error, Result};
use crate::storage::{Role, SiteRecord};
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

/// The site behind `key`, if the request's Bearer token grants `role` on it.
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    key: &str,
    role: Role,
) -> Result<SiteRecord> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::Unauthorized("send an API token as `Authorization: Bearer <token>`".into())
        })?;
    let (site_id, granted) = state
        .store
        .token(&hash_token(token))
        .await?
        .ok_or_else(|| Error::Unauthorized("the token is unknown or revoked".into()))?;
    let site = state.store.site_by_key(key).await?;
    match site {
        Some(site) if site.id == site_id && granted >= role => Ok(site),
        Some(site) if site.id == site_id => Err(Error::forbidden(
            "insufficient_role",
            format!(
                "this needs the {} role; the token has {}",
                role.as_str(),
                granted.as_str()
            ),
        )),
        _ => Err(Error::forbidden(
            "wrong_site",
            "the token does not grant access to this site",
        )),
    }
}
