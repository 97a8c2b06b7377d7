//! From tokens to flags: every cue adds weight to the flags it speaks for,
//! scaled by what surrounds it; a flag is shown when its weight reaches 1.
//!
//! - Negation reaches the next sentiment word within three words of the
//!   same clause: it turns praise into complaint (`not happy`), a `Bad`
//!   word into mild praise (`not bad`), and gives `Able` and `Grasp` words
//!   their meaning (`doesn't work`, `don't understand`). German `nicht` and
//!   spoken French `pas` negate the verb before them when no word follows
//!   for them to qualify (`geht nicht`, `je comprends pas`).
//! - Intensifiers, elongated words and a word in capitals in an otherwise
//!   lower-case comment strengthen the cue they touch.
//! - A `?` is half a confusion cue; a run of them a little more. A
//!   question word (`how`, `gimana`, `где`) with a `?` makes confusion;
//!   without one it does when it opens a clause (`как удалить аккаунт`).
//!   An availability question (`shipping to Canada?`) stays neutral.
//! - A failure put as a question with no complaint word (`why can't I edit
//!   my profile?`) is confusion, not frustration.
//! - `!!` and more strengthen whatever frustration or delight is there; a
//!   shouted comment is frustration unless it only praises.
//! - Praise next to a sarcasm sign (`another`, `опять`, 🙄) and a complaint,
//!   with no `but` between them, is counted as complaint.

use super::Flags;
use super::lexicon::{Cue, Kind, Lang, lexicon};
use super::token::{Kind as TokenKind, Shape, Token};

/// Weight at which a flag is shown.
const SHOWN: f32 = 0.999;
/// How far (in words) a negator reaches.
const NEGATION_REACH: usize = 3;
const INTENSIFIED: f32 = 1.7;
const ELONGATED: f32 = 1.7;
const CAPITALISED: f32 = 1.3;
/// What a question word adds when it opens a clause.
const WH_OPENING: f32 = 0.3;

/// The sentiment cue read last, kept so a word behind it can still change
/// it: an intensifier (`lemot banget`) or a negator that follows its verb
/// (`geht nicht`, `ça marche pas`).
#[derive(Clone, Copy)]
struct Last {
    /// The token after the cue.
    end: usize,
    clause: usize,
    cue: Cue,
    scale: f32,
    clause_start: bool,
    negated: bool,
    added: [f32; 3],
}

pub(super) fn score(tokens: &[Token], shape: Shape, hint: Option<Lang>) -> Flags {
    let lex = lexicon();
    let shouting = shape.shouting();
    let mut w = [0.0_f32; 3];
    let mut ask = 0.0_f32;
    let mut either = 0.0_f32;
    // Frustration from words that complain by themselves, as against a
    // negated ability (`can't edit`) or a sarcasm sign.
    let mut complaint = 0.0_f32;
    let mut questions = 0;
    let mut question_run = false;
    let mut exclaim_run = false;
    let mut sarcasm = false;
    let mut contrast = false;
    let mut negated = 0_usize;
    let mut intensify = 0_usize;
    let mut clause = 0_usize;
    let mut last: Option<Last> = None;
    // The last `Able` or `Grasp` word: a clause-final `nicht` or `pas`
    // negates the verb however far back it is (`ich verstehe den
    // Unterschied nicht`).
    let mut last_verb: Option<Last> = None;

    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        if token.clause_start {
            clause += 1;
            negated = 0;
            intensify = 0;
        }
        match token.kind {
            TokenKind::Question(n) => {
                questions += n;
                question_run |= n >= 2;
                i += 1;
                continue;
            }
            TokenKind::Exclaim(n) => {
                exclaim_run |= n >= 2;
                i += 1;
                continue;
            }
            TokenKind::Word | TokenKind::Sign => {}
        }
        let Some((cue, len)) = lex
            .lookup(tokens, i, hint)
            .or_else(|| x_negator(tokens, i, hint))
        else {
            negated = negated.saturating_sub(1);
            intensify = intensify.saturating_sub(1);
            i += 1;
            continue;
        };
        let span = &tokens[i..i + len];
        match cue.kind {
            Kind::Negator => negated = NEGATION_REACH + 1,
            Kind::NegatorAfter => {
                let behind = last
                    .filter(|l| {
                        l.clause == clause && !l.negated && i - l.end <= 2 && negatable(l.cue)
                    })
                    .or(last_verb.filter(|l| l.clause == clause && !l.negated));
                match behind {
                    Some(l) if !sentiment_ahead(tokens, i + len, hint) => {
                        // Take back what the cue added and count it negated.
                        let before = weigh(l.cue, false, l.clause_start);
                        let after = weigh(l.cue, true, l.clause_start);
                        for k in 0..3 {
                            w[k] += (after[k] - before[k]) * l.scale;
                        }
                        if complains(l.cue.kind) {
                            complaint += (after[0] - before[0]) * l.scale;
                        }
                        last = Some(Last {
                            negated: true,
                            added: after.map(|x| x * l.scale),
                            ..l
                        });
                        last_verb = None;
                    }
                    _ => negated = NEGATION_REACH + 1,
                }
            }
            Kind::Intensifier => {
                // Behind its word it strengthens a feeling, not a question
                // (`почему так долго`: `так` goes with `долго`).
                if let Some(l) = last.as_mut().filter(|l| l.end == i) {
                    let extra = INTENSIFIED - 1.0;
                    w[0] += l.added[0] * extra;
                    w[1] += l.added[1] * extra;
                    if complains(l.cue.kind) {
                        complaint += l.added[0] * extra;
                    }
                    l.scale *= INTENSIFIED;
                    l.added = [
                        l.added[0] * INTENSIFIED,
                        l.added[1] * INTENSIFIED,
                        l.added[2],
                    ];
                    l.end = i + len;
                }
                intensify = 3;
            }
            Kind::Contrast => {
                contrast = true;
                negated = 0;
            }
            Kind::Stop => {}
            Kind::Ask => {
                if token.clause_start {
                    ask = ask.max(cue.c);
                }
            }
            Kind::Either => either = either.max(cue.c),
            Kind::Plain | Kind::Bad | Kind::Able | Kind::Grasp | Kind::Sarcasm | Kind::Wh => {
                sarcasm |= cue.kind == Kind::Sarcasm;
                let mut scale = 1.0;
                if intensify > 0 {
                    scale *= INTENSIFIED;
                }
                if span.iter().any(|t| t.elongated) {
                    scale *= ELONGATED;
                }
                if !shouting && span.iter().any(|t| t.upper && t.text.chars().count() >= 3) {
                    scale *= CAPITALISED;
                }
                let neg = negated > 0 && token.kind == TokenKind::Word;
                let added = weigh(cue, neg, token.clause_start).map(|x| x * scale);
                for k in 0..3 {
                    w[k] += added[k];
                }
                if complains(cue.kind) {
                    complaint += added[0];
                }
                last = Some(Last {
                    end: i + len,
                    clause,
                    cue,
                    scale,
                    clause_start: token.clause_start,
                    negated: neg,
                    added,
                });
                if matches!(cue.kind, Kind::Able | Kind::Grasp) {
                    last_verb = last;
                }
                if neg && added != [0.0; 3] {
                    negated = 0;
                }
            }
        }
        negated = negated.saturating_sub(len);
        intensify = intensify.saturating_sub(len);
        i += len;
    }

    let [mut f, mut d, mut c] = w;
    if questions > 0 {
        c += 0.5 + ask + either;
        if question_run {
            c += 0.3;
            if f > 0.0 {
                f += 0.3;
            }
        }
    }
    if exclaim_run {
        if f > 0.0 {
            f += 0.3;
        }
        if d > 0.0 {
            d += 0.3;
        }
    }
    // A failure asked about rather than complained of (`why can't I edit
    // my profile?`, `can't log in, what does "pending" mean`) is confusion.
    if complaint <= 0.0 && c >= SHOWN && !exclaim_run && !question_run && !shouting {
        f = 0.0;
    }
    if shouting {
        if d >= SHOWN && f == 0.0 {
            d += 0.5;
        } else {
            f += 1.0;
        }
    }
    if sarcasm && !contrast && complaint > 0.0 && d > 0.0 {
        f += d;
        d = 0.0;
    }
    Flags {
        frustration: f >= SHOWN,
        delight: d >= SHOWN,
        confusion: c >= SHOWN,
    }
}

/// What a cue adds to frustration, delight and confusion, negated or not.
fn weigh(cue: Cue, negated: bool, clause_start: bool) -> [f32; 3] {
    match (cue.kind, negated) {
        (Kind::Wh, false) if clause_start => [0.0, 0.0, cue.c + WH_OPENING],
        (Kind::Plain | Kind::Sarcasm | Kind::Wh, false) => [cue.f, cue.d, cue.c],
        (Kind::Plain | Kind::Sarcasm | Kind::Wh, true) => [cue.d, 0.0, 0.0],
        (Kind::Bad, false) => [cue.f, 0.0, 0.0],
        (Kind::Bad, true) => [0.0, cue.f, 0.0],
        (Kind::Able, true) => [cue.f, 0.0, 0.0],
        (Kind::Grasp, true) => [0.0, 0.0, cue.c],
        _ => [0.0; 3],
    }
}

/// Whether a cue's frustration is a complaint in its own words.
fn complains(kind: Kind) -> bool {
    matches!(kind, Kind::Plain | Kind::Bad | Kind::Wh)
}

/// Whether negation changes what a cue says: praise and complaint do, a
/// bare confusion word does not (`not confusing` is no flag either way).
fn negatable(cue: Cue) -> bool {
    match cue.kind {
        Kind::Plain => cue.f > 0.0 || cue.d > 0.0,
        Kind::Bad | Kind::Able | Kind::Grasp => true,
        _ => false,
    }
}

/// Whether a sentiment word follows within the negation's reach in the same
/// clause: then a negator that can stand on either side (`nicht`, `pas`)
/// negates it (`nicht schlecht`, `pas mal`) rather than the word before.
fn sentiment_ahead(tokens: &[Token], from: usize, hint: Option<Lang>) -> bool {
    let lex = lexicon();
    (from..tokens.len().min(from + NEGATION_REACH))
        .take_while(|&k| tokens[k].kind == TokenKind::Word && !tokens[k].clause_start)
        .any(|k| {
            lex.lookup(tokens, k, hint)
                .is_some_and(|(cue, _)| negatable(cue))
        })
}

/// Malay chat writes `tak` as `x` (`x boleh`, `x faham`): a lone `x`
/// negates when the visitor's interface is Malay or the next word is one of
/// the Malay words it is written before.
fn x_negator(tokens: &[Token], i: usize, hint: Option<Lang>) -> Option<(Cue, usize)> {
    const BEFORE: [&str; 10] = [
        "boleh", "bole", "faham", "jadi", "jumpa", "sampai", "suka", "puas", "masuk", "dapat",
    ];
    if tokens[i].text != "x" {
        return None;
    }
    let next_is_malay = tokens
        .get(i + 1)
        .is_some_and(|t| BEFORE.contains(&t.text.as_str()));
    (hint == Some(Lang::Ms) || next_is_malay).then_some((super::lexicon::NEG, 1))
}
