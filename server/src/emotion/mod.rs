//! Emotion flags on a response's free-text comment: `frustration`,
//! `delight`, `confusion`, each present or absent.
//!
//! Decided here, on the ingest path, with word lists and a few rules: no
//! model, no external service, nothing but `std`, one pass over the comment
//! (comments are at most about 2000 characters). The lists cover English,
//! Indonesian, Malay, Russian, German, Spanish, French and Portuguese;
//! comments mix languages, so every list applies to every comment, and the
//! visitor's interface locale only breaks ties where two lists read the
//! same word differently (`Handy`, `show`, `asyik`).
//!
//! - [`token`] splits the comment into words, emoji, emoticons and `?`/`!`
//!   runs, and skips the masking placeholders (`[email]`, …).
//! - [`lexicon`] holds the cue kinds and merges the per-language lists
//!   (`en`, `id`, `ms`, `ru`, `de`, `es`, `fr`, `pt`, and `signs` for emoji
//!   and chat words).
//! - [`rules`] sums the cues with negation, intensifiers, elongation,
//!   capitals, repeated punctuation and sarcasm into flags.
//! - [`eval`] measures the flags against the labelled sets in
//!   `server/tests/fixtures/emotion/`.
//!
//! The module depends on nothing else in the crate, so it builds and tests
//! alone: `rustc --edition 2024 --test server/src/emotion/mod.rs`.

mod de;
mod en;
mod es;
pub mod eval;
mod fr;
mod id;
mod lexicon;
mod ms;
mod pt;
mod ru;
mod rules;
mod signs;
mod token;

#[cfg(test)]
mod tests;

/// Bumped whenever the word lists or rules change what a comment is
/// flagged with, so stored flags can be told apart from fresh ones.
pub const LEXICON_VERSION: u32 = 1;

/// Every flag's name, in the order exports, filters and aggregate rows use.
pub const FLAGS: [&str; 3] = ["frustration", "delight", "confusion"];

/// The flags a comment shows, as stored with its response: `;`-joined
/// (`frustration;confusion`), `None` when it shows none.
pub fn stored(comment: &str, locale: Option<&str>) -> Option<String> {
    let f = flags(comment, locale);
    (!f.is_empty()).then(|| f.names().join(";"))
}

/// The flags a comment shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    pub frustration: bool,
    pub delight: bool,
    pub confusion: bool,
}

impl Flags {
    /// The names of the flags shown, in the order `frustration`, `delight`,
    /// `confusion` (the names exports and filters use).
    pub fn names(self) -> Vec<&'static str> {
        [
            (self.frustration, "frustration"),
            (self.delight, "delight"),
            (self.confusion, "confusion"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// No flag shown.
    pub fn is_empty(self) -> bool {
        !(self.frustration || self.delight || self.confusion)
    }
}

/// The flags a comment shows. `locale` is the visitor's interface locale
/// (`en`, `id-ID`, `ru`, …) and only a hint: comments mix languages, so
/// every word list applies; the hint breaks ties between lists.
///
/// ```
/// use touchpoint_server::emotion::flags;
/// assert!(flags("sooo slowww", None).frustration);
/// assert!(flags("tidak buruk, lumayan", Some("id-ID")).delight);
/// assert!(flags("где посмотреть историю заказов?", Some("ru")).confusion);
/// assert!(flags("please add dark mode", Some("en")).is_empty());
/// ```
pub fn flags(comment: &str, locale: Option<&str>) -> Flags {
    let (tokens, shape) = token::tokenize(comment);
    if tokens.is_empty() {
        return Flags::default();
    }
    let hint = locale.and_then(lexicon::Lang::of_locale);
    rules::score(&tokens, shape, hint)
}
