//! The cue a word or phrase carries, and the table every language's word
//! list is merged into.
//!
//! A language file lists `(phrase, cue)` pairs. A phrase is one or more
//! words separated by spaces, written the way [`normalize`] leaves them;
//! a single word ending in `*` is a stem that matches any word it begins
//! (Russian endings: `разочаров*` for `разочарован`, `разочарована`, …).

use super::token::{Kind as TokenKind, Token, fold_runs, normalize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// How a cue's weights apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Weights count as written; negated, delight turns into frustration
    /// (`not happy`) and frustration and confusion count for nothing.
    Plain,
    /// A negative word that, negated, is mild praise: `not bad`, `tidak
    /// buruk`, `не плохо`.
    Bad,
    /// Counts as frustration only when negated: `doesn't work`, `gk bisa`,
    /// `tak boleh`, `не работает`.
    Able,
    /// Counts as confusion only when negated: `don't understand`, `ga
    /// ngerti`, `tak faham`, `не понимаю`.
    Grasp,
    /// Negates the next sentiment word in the same clause.
    Negator,
    /// Negates the sentiment word just before it when none follows (`geht
    /// nicht`, `ça marche pas`), else the next one (`nicht schlecht`, `pas
    /// mal`).
    NegatorAfter,
    /// Strengthens the sentiment word next to it, before or after (`so
    /// slow`, `lemot banget`).
    Intensifier,
    /// A sign that praise in the same comment is meant the other way
    /// (`another`, `опять`, 🙄), with its own weights.
    Sarcasm,
    /// `but`, `tapi`, `но`: praise and complaint side by side are both meant.
    Contrast,
    /// A question word (`how`, `gimana`, `где`): confusion, stronger when it
    /// opens a clause, where it asks even without a `?`.
    Wh,
    /// A word that makes a question an either-or one (`or`, `atau`, `или`,
    /// `ли`): confusion only in a comment with a question mark.
    Either,
    /// A yes/no question opener (`does`, `is`): confusion only at the start
    /// of a clause in a comment with a question mark.
    Ask,
    /// A fixed phrase that means nothing here and must not be read word by
    /// word (`no thanks`, `so far so good`, `is there`).
    Stop,
}

/// A cue: its kind and its weight towards each flag. A flag is shown when
/// its summed weight reaches 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Cue {
    pub kind: Kind,
    pub f: f32,
    pub d: f32,
    pub c: f32,
}

const fn cue(kind: Kind, f: f32, d: f32, c: f32) -> Cue {
    Cue { kind, f, d, c }
}

/// Frustration.
pub(super) const fn f(w: f32) -> Cue {
    cue(Kind::Plain, w, 0.0, 0.0)
}
/// Delight.
pub(super) const fn d(w: f32) -> Cue {
    cue(Kind::Plain, 0.0, w, 0.0)
}
/// Confusion.
pub(super) const fn c(w: f32) -> Cue {
    cue(Kind::Plain, 0.0, 0.0, w)
}
/// Frustration and some confusion at once (`gimana sih`).
pub(super) const fn fc(fw: f32, cw: f32) -> Cue {
    cue(Kind::Plain, fw, 0.0, cw)
}
pub(super) const fn bad(w: f32) -> Cue {
    cue(Kind::Bad, w, 0.0, 0.0)
}
pub(super) const fn able(w: f32) -> Cue {
    cue(Kind::Able, w, 0.0, 0.0)
}
pub(super) const fn grasp(w: f32) -> Cue {
    cue(Kind::Grasp, 0.0, 0.0, w)
}
pub(super) const fn ask(w: f32) -> Cue {
    cue(Kind::Ask, 0.0, 0.0, w)
}
pub(super) const fn wh(w: f32) -> Cue {
    cue(Kind::Wh, 0.0, 0.0, w)
}
pub(super) const fn either(w: f32) -> Cue {
    cue(Kind::Either, 0.0, 0.0, w)
}
pub(super) const fn sarcasm(fw: f32) -> Cue {
    cue(Kind::Sarcasm, fw, 0.0, 0.0)
}
pub(super) const NEG: Cue = cue(Kind::Negator, 0.0, 0.0, 0.0);
pub(super) const NEG_AFTER: Cue = cue(Kind::NegatorAfter, 0.0, 0.0, 0.0);
pub(super) const INT: Cue = cue(Kind::Intensifier, 0.0, 0.0, 0.0);
pub(super) const BUT: Cue = cue(Kind::Contrast, 0.0, 0.0, 0.0);
pub(super) const STOP: Cue = cue(Kind::Stop, 0.0, 0.0, 0.0);

/// The word lists' languages; the interface locale picks one of them when
/// two lists give the same phrase different cues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    /// Emoji, emoticons and chat words every language uses.
    Any,
    En,
    Id,
    Ms,
    Ru,
    De,
    Es,
    Fr,
    Pt,
}

impl Lang {
    /// The language of a locale such as `id-ID` or `ru_RU`.
    pub fn of_locale(locale: &str) -> Option<Lang> {
        let primary = locale.split(['-', '_']).next()?.trim();
        match primary.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "id" | "in" => Some(Lang::Id),
            "ms" => Some(Lang::Ms),
            "ru" => Some(Lang::Ru),
            "de" => Some(Lang::De),
            "es" => Some(Lang::Es),
            "fr" => Some(Lang::Fr),
            "pt" => Some(Lang::Pt),
            _ => None,
        }
    }
}

/// The longest stem, in characters, a word list may use.
const MAX_STEM: usize = 24;

struct Entry {
    rest: Vec<String>,
    lang: Lang,
    cue: Cue,
}

pub(super) struct Lexicon {
    /// Phrases by their first word.
    exact: HashMap<String, Vec<Entry>>,
    /// Stems (`разочаров*`), by the stem.
    stems: HashMap<String, Vec<(Lang, Cue)>>,
    longest_stem: usize,
}

/// Every language's list, merged once.
pub(super) fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut lex = Lexicon {
            exact: HashMap::new(),
            stems: HashMap::new(),
            longest_stem: 0,
        };
        let lists: [(Lang, &[(&str, Cue)]); 9] = [
            (Lang::Any, super::signs::WORDS),
            (Lang::En, super::en::WORDS),
            (Lang::Id, super::id::WORDS),
            (Lang::Ms, super::ms::WORDS),
            (Lang::Ru, super::ru::WORDS),
            (Lang::Es, super::es::WORDS),
            (Lang::Fr, super::fr::WORDS),
            (Lang::Pt, super::pt::WORDS),
            // Last: its look-alikes (`mal`, `Handy`) mean something else in
            // more of the other lists.
            (Lang::De, super::de::WORDS),
        ];
        for (lang, list) in lists {
            for &(phrase, cue) in list {
                lex.add(lang, phrase, cue);
            }
        }
        // People often type without accents (`pessimo`, `facil`, `decu`):
        // every accented entry is also filed without them, unless that
        // spelling is already a word of its own (`que`, `ou`, `mas`, `nao`)
        // or shorter than three letters (`se` for `sé`).
        let mut bare = Vec::new();
        for (lang, list) in lists {
            for &(phrase, cue) in list {
                let folded = fold_accents(phrase);
                let first = folded.trim_end_matches('*');
                let first = first.split_whitespace().next().unwrap_or_default();
                let taken = lex.exact.contains_key(first) || lex.stems.contains_key(first);
                if folded != phrase && !taken && first.chars().count() >= 3 {
                    bare.push((lang, folded, cue));
                }
            }
        }
        for (lang, phrase, cue) in bare {
            lex.add(lang, &phrase, cue);
        }
        lex
    })
}

impl Lexicon {
    fn add(&mut self, lang: Lang, phrase: &str, cue: Cue) {
        if let Some(stem) = phrase.strip_suffix('*') {
            let stem = normalize(stem);
            debug_assert!(stem.chars().count() <= MAX_STEM, "stem too long: {stem}");
            self.longest_stem = self.longest_stem.max(stem.chars().count());
            self.stems.entry(stem).or_default().push((lang, cue));
            return;
        }
        // Folded like a comment's words, so `mmm` and `эээ` meet `mmmm`.
        let mut words = phrase
            .split_whitespace()
            .map(|w| fold_runs(&normalize(w).chars().collect::<Vec<_>>(), 1).0);
        let Some(first) = words.next() else { return };
        let rest = words.collect();
        self.exact
            .entry(first)
            .or_default()
            .push(Entry { rest, lang, cue });
    }

    /// The cue of the longest phrase starting at token `i`, and how many
    /// tokens it covers. Among equally long phrases the hinted language's
    /// wins, then the first listed.
    pub fn lookup(&self, tokens: &[Token], i: usize, hint: Option<Lang>) -> Option<(Cue, usize)> {
        let token = &tokens[i];
        for form in forms(token) {
            if let Some(found) = self.phrase_at(form, tokens, i, hint) {
                return Some(found);
            }
        }
        if token.kind != TokenKind::Word {
            return None;
        }
        for form in forms(token) {
            if let Some(cue) = self.stem_of(form, hint) {
                return Some((cue, 1));
            }
        }
        None
    }

    fn phrase_at(
        &self,
        first: &str,
        tokens: &[Token],
        i: usize,
        hint: Option<Lang>,
    ) -> Option<(Cue, usize)> {
        let entries = self.exact.get(first)?;
        let mut best: Option<(&Entry, usize)> = None;
        for entry in entries {
            let len = entry.rest.len() + 1;
            let fits = entry.rest.iter().enumerate().all(|(k, word)| {
                tokens.get(i + 1 + k).is_some_and(|t| {
                    t.kind == TokenKind::Word && !t.clause_start && forms(t).any(|f| f == word)
                })
            });
            if !fits {
                continue;
            }
            let better = match best {
                None => true,
                Some((b, blen)) => {
                    len > blen || (len == blen && b.lang != entry.lang && Some(entry.lang) == hint)
                }
            };
            if better {
                best = Some((entry, len));
            }
        }
        best.map(|(e, len)| (e.cue, len))
    }

    /// The cue of the longest stem `word` begins with (stems are at least
    /// three letters, and shorter than the word or equal to it).
    fn stem_of(&self, word: &str, hint: Option<Lang>) -> Option<Cue> {
        // Byte ends of the word's first characters, longest stem first; no
        // allocation, as this runs for every word no phrase matched.
        let mut ends = [0_usize; MAX_STEM];
        let mut n = 0;
        for (k, ch) in word.char_indices().take(self.longest_stem.min(MAX_STEM)) {
            ends[n] = k + ch.len_utf8();
            n += 1;
        }
        for (count, &end) in ends[..n].iter().enumerate().rev() {
            if count + 1 < 3 {
                break;
            }
            if let Some(cands) = self.stems.get(&word[..end]) {
                let pick = cands
                    .iter()
                    .find(|(l, _)| Some(*l) == hint)
                    .unwrap_or(&cands[0]);
                return Some(pick.1);
            }
        }
        None
    }
}

/// `text` with the accents of Latin letters dropped (`é` → `e`, `ç` → `c`).
fn fold_accents(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

/// The spellings a token is looked up under: as folded, with long runs
/// kept double, and without the Indonesian and Malay enclitics `-nya`,
/// `-lah` and `-kah`.
fn forms(token: &Token) -> impl Iterator<Item = &str> {
    let text = token.text.as_str();
    let word = token.kind == TokenKind::Word;
    let stripped = ["nya", "lah", "kah"]
        .iter()
        .filter(|_| word)
        .find_map(|s| text.strip_suffix(s).filter(|r| r.chars().count() >= 3));
    // French elision: `l'appli`, `m'énerve`, `qu'il` are also read as the
    // word after the apostrophe.
    let elided = text
        .split_once('\'')
        .filter(|(head, _)| word && (head.chars().count() <= 2 || *head == "qu"))
        .map(|(_, tail)| tail)
        .filter(|tail| tail.chars().count() >= 2);
    std::iter::once(text)
        .chain(token.alt.as_deref())
        .chain(stripped)
        .chain(elided)
}
