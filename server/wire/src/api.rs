//! The API's own answers: errors, sign-in, site changes, a visitor's data.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Every error answer: `{"error":{"code":…,"message":…}}`, and for a fault
/// in one event of a batch, `"index"`: its position in `events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `invalid_event`.
    pub code: String,
    /// A sentence for the person reading it, naming the field at fault.
    pub message: String,
    /// The faulty event's index in the batch's `events`, when one event is
    /// at fault; the loader drops that event and resends the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

/// `POST /v1/session` (signed in) and `GET /v1/session`: who is signed in,
/// the CSRF token their writes must send, and the sites they may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub email: String,
    /// Sent back in `X-CSRF-Token` with every change.
    pub csrf: String,
    pub sites: Vec<SiteRole>,
}

/// `POST /v1/session`: an e-mail and a password, as `touchpoint user add` set them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// A site a user may see, and their role on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRole {
    pub key: String,
    /// The site's name (`[site] name`).
    #[serde(default)]
    pub name: String,
    /// `viewer`, `editor` or `admin`.
    pub role: String,
}

/// `DELETE /v1/session`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedOut {
    pub signed_out: bool,
}

/// `PUT /v1/sites/{key}/site`: the site's key and whether anything changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteApplied {
    pub key: String,
    pub changed: bool,
}

/// `GET/PUT/DELETE /v1/sites/{key}/draft`: changes saved but not live yet.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteDraft {
    /// The draft, in the shape of the site file (alert secrets masked);
    /// `None` when the site has none.
    pub document: Option<crate::SiteDocument>,
    /// When it was last saved (RFC 3339).
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Who saved it: an e-mail, or `an API token`.
    #[serde(default)]
    pub updated_by: Option<String>,
    /// What publishing it would change, a short line each.
    #[serde(default)]
    pub changes: Vec<String>,
}

/// `DELETE /v1/sites/{key}/visitors/{id}`: how many events were deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: u64,
}

/// One line of a visitor's data export (`GET /v1/sites/{key}/visitors/{id}`,
/// `touchpoint visitor export`): an event exactly as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VisitorEvent {
    pub id: String,
    pub kind: String,
    pub touchpoint: Option<String>,
    /// The stored path.
    pub page: String,
    pub stage: String,
    pub metric: Option<String>,
    pub score: Option<i64>,
    pub comment: Option<String>,
    pub choices: Option<Vec<String>>,
    pub visitor: Option<String>,
    pub session: Option<String>,
    pub ts: String,
    /// When the server stored it.
    pub received_at: String,
    pub locale: Option<String>,
    pub device: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub signal: Option<String>,
    pub gpc: Option<bool>,
    pub consent: Option<bool>,
    /// For kind `outcome`: the outcome reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}
