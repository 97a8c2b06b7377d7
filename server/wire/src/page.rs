//! Page rules of the contract, shared by the widget and the server:
//!
//! - `page` is the URL's path: scheme, host, query and fragment dropped;
//!   a trailing `/` dropped except for `/` itself.
//! - In page globs `*` matches within one path segment, `**` across
//!   segments; `/docs/**` also matches `/docs`.
//! - `stage` is the event's stage if the site declares it, else the first
//!   stage whose glob matches the page, else [`UNASSIGNED`].
//!
//! `widget/loader.js` carries a JavaScript twin of [`glob_match`]; the
//! browser tests check that both agree.

use crate::Stage;

/// Stage of a page no declared stage claims.
pub const UNASSIGNED: &str = "unassigned";

/// The path of a page URL, or `None` when `url` is neither an absolute
/// `http(s)` URL nor an absolute path.
///
/// ```
/// use touchpoint_wire::page::normalize_page;
/// assert_eq!(normalize_page("https://shop.example/product/42/?ref=x#top").as_deref(), Some("/product/42"));
/// assert_eq!(normalize_page("HTTP://shop.example").as_deref(), Some("/"));
/// assert_eq!(normalize_page("mailto:someone").as_deref(), None);
/// ```
pub fn normalize_page(url: &str) -> Option<String> {
    let url = url.trim();
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = &url[..end];
    let path = if url.starts_with('/') && !url.starts_with("//") {
        url
    } else {
        let rest = strip_prefix_ignore_case(url, "https://")
            .or_else(|| strip_prefix_ignore_case(url, "http://"))?;
        let host_end = rest.find('/').unwrap_or(rest.len());
        if host_end == 0 {
            return None;
        }
        &rest[host_end..]
    };
    if path.chars().any(char::is_control) {
        return None;
    }
    let trimmed = path.trim_end_matches('/');
    Some(if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    })
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Whether a normalised path matches a page glob.
///
/// ```
/// use touchpoint_wire::page::glob_match;
/// assert!(glob_match("/product/*", "/product/42"));
/// assert!(!glob_match("/product/*", "/product/42/reviews"));
/// assert!(glob_match("/product/**", "/product/42/reviews"));
/// assert!(glob_match("/product/**", "/product"));
/// ```
pub fn glob_match(glob: &str, path: &str) -> bool {
    if let Some(parent) = glob.strip_suffix("/**")
        && (path == parent || (parent.is_empty() && path == "/"))
    {
        return true;
    }
    matches(glob.as_bytes(), path.as_bytes())
}

/// The glob's states as a set of positions, advanced one path byte at a
/// time: `O(path × glob)` whatever the stars, where trying each split
/// recursively was `O(path^stars)`. The twin in `loader.js` does the same.
fn matches(glob: &[u8], path: &[u8]) -> bool {
    let mut states = vec![false; glob.len() + 1];
    states[0] = true;
    skip_stars(glob, &mut states);
    for &c in path {
        let mut next = vec![false; glob.len() + 1];
        for (i, _) in states.iter().enumerate().filter(|(_, on)| **on) {
            match glob.get(i) {
                // `**`: any byte, stay.
                Some(b'*') if glob.get(i + 1) == Some(&b'*') => next[i] = true,
                // `*`: any byte but `/`, stay.
                Some(b'*') if c != b'/' => next[i] = true,
                Some(b'*') | None => {}
                Some(g) if *g == c => next[i + 1] = true,
                Some(_) => {}
            }
        }
        skip_stars(glob, &mut next);
        if !next.contains(&true) {
            return false;
        }
        states = next;
    }
    states[glob.len()]
}

/// A star may match nothing: from a star's position, its end is reachable.
fn skip_stars(glob: &[u8], states: &mut [bool]) {
    for i in 0..glob.len() {
        if states[i] && glob[i] == b'*' {
            let width = if glob.get(i + 1) == Some(&b'*') { 2 } else { 1 };
            states[i + width] = true;
        }
    }
}

/// Whether a page is covered by a list of globs; an empty list covers every page.
pub fn pages_match(globs: &[String], path: &str) -> bool {
    globs.is_empty() || globs.iter().any(|g| glob_match(g, path))
}

/// The journey stage of an event, per the contract.
pub fn resolve_stage<'a>(stages: &'a [Stage], declared: Option<&str>, path: &str) -> &'a str {
    if let Some(declared) = declared
        && let Some(stage) = stages.iter().find(|s| s.id == declared)
    {
        return &stage.id;
    }
    stages
        .iter()
        .find(|s| s.pages.iter().any(|g| glob_match(g, path)))
        .map_or(UNASSIGNED, |s| s.id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first matcher, kept as the reference: exponential in the worst
    /// case, obviously right.
    fn reference(glob: &[u8], path: &[u8]) -> bool {
        match glob {
            [] => path.is_empty(),
            [b'*', b'*', rest @ ..] => (0..=path.len()).any(|i| reference(rest, &path[i..])),
            [b'*', rest @ ..] => {
                let segment = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
                (0..=segment).any(|i| reference(rest, &path[i..]))
            }
            [g, rest @ ..] => path.first() == Some(g) && reference(rest, &path[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn the_linear_matcher_agrees_with_the_reference(
            glob in "[/ab*]{0,10}",
            path in "[/ab]{0,12}",
        ) {
            proptest::prop_assert_eq!(
                matches(glob.as_bytes(), path.as_bytes()),
                reference(glob.as_bytes(), path.as_bytes()),
                "glob {:?} path {:?}", glob, path
            );
        }
    }

    /// The glob a stranger would write to stall a recursive matcher, on a
    /// long path: still a plain answer.
    #[test]
    fn many_stars_on_a_long_path() {
        let path = format!("/{}", "a/".repeat(1000));
        assert!(!glob_match("/**/**/**/**/z", &path));
        assert!(glob_match("/**/**/**/**/a", &format!("{path}a")));
        assert!(!glob_match(
            "/*a*a*a*a*a*b",
            &format!("/{}", "a".repeat(5000))
        ));
    }

    fn check_norm(input: &str, expect: Option<&str>) {
        assert_eq!(
            normalize_page(input).as_deref(),
            expect,
            "normalize_page({input:?})"
        );
    }

    #[test]
    fn normalisation() {
        check_norm("https://shop.example/", Some("/"));
        check_norm("https://shop.example", Some("/"));
        check_norm("https://shop.example?x=1", Some("/"));
        check_norm("http://127.0.0.1:8081/product/42", Some("/product/42"));
        check_norm("https://shop.example/product/42/", Some("/product/42"));
        check_norm("https://shop.example/product/42///", Some("/product/42"));
        check_norm(
            "https://shop.example/checkout?email=a@b.c",
            Some("/checkout"),
        );
        check_norm("https://shop.example/cart#step-2", Some("/cart"));
        check_norm("https://shop.example/a?b#c/d", Some("/a"));
        check_norm("HTTPS://Shop.Example/Pricing", Some("/Pricing"));
        check_norm("/pricing/", Some("/pricing"));
        check_norm("  https://shop.example/x  ", Some("/x"));
        check_norm("", None);
        check_norm("pricing", None);
        check_norm("//evil.example/x", None);
        check_norm("https:///x", None);
        check_norm("javascript:alert(1)", None);
        check_norm("ftp://shop.example/x", None);
        check_norm("https://shop.example/a\nb", None);
    }

    fn check_glob(glob: &str, path: &str, expect: bool) {
        assert_eq!(
            glob_match(glob, path),
            expect,
            "glob_match({glob:?}, {path:?})"
        );
    }

    #[test]
    fn globs() {
        check_glob("/", "/", true);
        check_glob("/", "/pricing", false);
        check_glob("/pricing", "/pricing", true);
        check_glob("/pricing", "/pricing/annual", false);
        check_glob("/product/*", "/product/42", true);
        check_glob("/product/*", "/product/", true);
        check_glob("/product/*", "/product/42/reviews", false);
        check_glob("/product/*/reviews", "/product/42/reviews", true);
        check_glob("/product/*/reviews", "/product/4/2/reviews", false);
        check_glob("/product/**", "/product/42/reviews", true);
        check_glob("/product/**", "/product", true);
        check_glob("/product/**", "/products", false);
        check_glob("/**", "/", true);
        check_glob("/**", "/anything/at/all", true);
        check_glob("**", "/x", true);
        check_glob("/blog/*.html", "/blog/post.html", true);
        check_glob("/blog/*.html", "/blog/post.htm", false);
        check_glob("/a/**/z", "/a/b/c/z", true);
        check_glob("/a/**/z", "/a/z", false);
        check_glob("/checkout*", "/checkout-done", true);
    }

    fn stages() -> Vec<Stage> {
        let stage = |id: &str, pages: &[&str]| Stage {
            id: id.into(),
            label: id.into(),
            pages: pages.iter().map(|p| (*p).to_owned()).collect(),
        };
        vec![
            stage("discover", &["/"]),
            stage("evaluate", &["/pricing", "/product/*"]),
            stage("purchase", &["/cart", "/checkout/**"]),
            stage("everything", &["/**"]),
        ]
    }

    #[test]
    fn stage_resolution() {
        let stages = stages();
        assert_eq!(resolve_stage(&stages, None, "/"), "discover");
        assert_eq!(resolve_stage(&stages, None, "/product/42"), "evaluate");
        assert_eq!(resolve_stage(&stages, None, "/checkout"), "purchase");
        assert_eq!(resolve_stage(&stages, None, "/checkout/pay"), "purchase");
        // first match wins, in journey order
        assert_eq!(resolve_stage(&stages, None, "/about"), "everything");
        // a declared stage the site knows wins over globs
        assert_eq!(
            resolve_stage(&stages, Some("purchase"), "/pricing"),
            "purchase"
        );
        // an undeclared one is ignored
        assert_eq!(resolve_stage(&stages, Some("nope"), "/pricing"), "evaluate");
        assert_eq!(resolve_stage(&stages[..3], None, "/about"), UNASSIGNED);
        assert_eq!(resolve_stage(&[], Some("purchase"), "/"), UNASSIGNED);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever arrives, the stored page is a path without query,
            /// fragment or trailing slash, and normalising again changes nothing.
            #[test]
            fn normalised_pages_are_clean_paths(url in ".{0,80}") {
                if let Some(path) = normalize_page(&url) {
                    prop_assert!(path.starts_with('/'));
                    prop_assert!(!path.contains('?') && !path.contains('#'));
                    prop_assert!(path == "/" || !path.ends_with('/'));
                    prop_assert_eq!(normalize_page(&path), Some(path.clone()));
                }
            }

            /// The host, query and fragment of an http(s) URL never survive.
            #[test]
            fn hosts_queries_and_fragments_are_dropped(
                scheme in "https?",
                host in "[a-z0-9.-]{1,20}",
                path in "(/[a-zA-Z0-9_.~%-]{0,8}){0,4}",
                query in "[a-z0-9=&@.]{0,20}",
                fragment in "[a-z0-9-]{0,10}",
            ) {
                let url = format!("{scheme}://{host}{path}?{query}#{fragment}");
                let page = normalize_page(&url).unwrap();
                let expected = path.trim_end_matches('/');
                prop_assert_eq!(page, if expected.is_empty() { "/".to_owned() } else { expected.to_owned() });
            }

            /// `**` matches every path; a glob without wildcards only itself.
            #[test]
            fn globs_behave(path in "(/[a-z0-9]{1,6}){1,5}") {
                prop_assert!(glob_match("/**", &path));
                prop_assert!(glob_match(&path, &path));
                let parent = &path[..path.rfind('/').unwrap()];
                let parent = if parent.is_empty() { "/" } else { parent };
                let glob = format!("{}/*", parent.trim_end_matches('/'));
                prop_assert!(glob_match(&glob, &path));
            }
        }
    }
}
