//! The dashboard's addresses: every screen has one under `/app`, so a link
//! can be shared, bookmarked and opened in a new tab. The server answers
//! every `/app/…` path with the same page; this module reads the path.

/// A screen and what it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/app`: the sites the person may see.
    Sites,
    /// `/app/sites/{key}`: the journey map.
    Journey { key: String },
    /// `/app/sites/{key}/pages`: scores by page (or device, locale, …).
    Pages { key: String },
    /// `/app/sites/{key}/insights`: priorities, drivers, outcomes.
    Insights { key: String },
    /// `/app/sites/{key}/frustration`: behavioural signals beside the prompts.
    Frustration { key: String },
    /// `/app/sites/{key}/setup`: install, stages, touchpoints, site file.
    Setup { key: String },
    /// `/app/sites/{key}/comments`: the comments stream.
    Comments { key: String },
    /// `/app/sites/{key}/touchpoints/{id}`: one touchpoint's trend.
    Touchpoint { key: String, id: String },
    /// Anything else under `/app`.
    NotFound,
}

impl Route {
    /// The route of a path (`/app/sites/tp_x`), query and fragment ignored.
    pub fn parse(path: &str) -> Route {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let Some(rest) = path.strip_prefix("/app") else {
            return Route::NotFound;
        };
        let parts: Vec<String> = rest
            .split('/')
            .filter(|p| !p.is_empty())
            .map(decode)
            .collect();
        match parts.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] => Route::Sites,
            ["sites", key] => Route::Journey { key: key.into() },
            ["sites", key, "comments"] => Route::Comments { key: key.into() },
            ["sites", key, "pages"] => Route::Pages { key: key.into() },
            ["sites", key, "insights"] => Route::Insights { key: key.into() },
            ["sites", key, "frustration"] => Route::Frustration { key: key.into() },
            ["sites", key, "setup"] => Route::Setup { key: key.into() },
            ["sites", key, "touchpoints", id] => Route::Touchpoint {
                key: key.into(),
                id: id.into(),
            },
            _ => Route::NotFound,
        }
    }

    /// The path of this route.
    pub fn href(&self) -> String {
        match self {
            Route::Sites | Route::NotFound => "/app".to_owned(),
            Route::Journey { key } => format!("/app/sites/{}", encode(key)),
            Route::Comments { key } => format!("/app/sites/{}/comments", encode(key)),
            Route::Pages { key } => format!("/app/sites/{}/pages", encode(key)),
            Route::Insights { key } => format!("/app/sites/{}/insights", encode(key)),
            Route::Frustration { key } => format!("/app/sites/{}/frustration", encode(key)),
            Route::Setup { key } => format!("/app/sites/{}/setup", encode(key)),
            Route::Touchpoint { key, id } => {
                format!("/app/sites/{}/touchpoints/{}", encode(key), encode(id))
            }
        }
    }

    /// The site this route is about, if any.
    pub fn site(&self) -> Option<&str> {
        match self {
            Route::Journey { key }
            | Route::Pages { key }
            | Route::Insights { key }
            | Route::Setup { key }
            | Route::Frustration { key }
            | Route::Comments { key }
            | Route::Touchpoint { key, .. } => Some(key),
            Route::Sites | Route::NotFound => None,
        }
    }
}

/// Percent-encodes a path segment or query value: everything but
/// unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes percent-escapes; a malformed one is kept as written.
pub fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_has_an_address_that_reads_back() {
        for route in [
            Route::Sites,
            Route::Journey {
                key: "tp_abc".into(),
            },
            Route::Comments {
                key: "tp_abc".into(),
            },
            Route::Pages {
                key: "tp_abc".into(),
            },
            Route::Insights {
                key: "tp_abc".into(),
            },
            Route::Setup {
                key: "tp_abc".into(),
            },
            Route::Frustration {
                key: "tp_abc".into(),
            },
            Route::Touchpoint {
                key: "tp_abc".into(),
                id: "checkout ces/2".into(),
            },
        ] {
            assert_eq!(Route::parse(&route.href()), route, "{}", route.href());
        }
        assert_eq!(Route::parse("/app/"), Route::Sites);
        assert_eq!(
            Route::parse("/app/sites/tp_a?days=7#x"),
            Route::Journey { key: "tp_a".into() }
        );
        assert_eq!(Route::parse("/app/nothing"), Route::NotFound);
        // An alert's link to one answer.
        assert_eq!(
            Route::parse("/app/sites/tp_a/comments?response=x"),
            Route::Comments { key: "tp_a".into() }
        );
        assert_eq!(Route::parse("/elsewhere"), Route::NotFound);
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%E2%80%94"), "—");
    }
}
