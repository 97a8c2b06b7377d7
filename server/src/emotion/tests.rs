use super::eval::{F1_FLOOR, check_floor, evaluate, markdown};
use super::{Flags, flags};

/// The flags' names for `comment` read with no locale hint.
fn check(comment: &str, expected: &[&str]) {
    assert_eq!(flags(comment, None).names(), expected, "{comment:?}");
}

#[test]
fn every_flag_holds_its_floor() {
    let scores = evaluate().expect("the fixtures parse");
    let table = markdown(&scores);
    for s in &scores {
        assert!(
            s.comments[2] >= 220,
            "{}: {} comments; at least 220 are needed",
            s.language,
            s.comments[2]
        );
        assert!(
            s.neutral[2] * 3 >= s.comments[2],
            "{}: {} of {} comments are neutral; at least a third should be",
            s.language,
            s.neutral[2],
            s.comments[2]
        );
        for (k, flag) in super::eval::FLAG_NAMES.iter().enumerate() {
            let c = s.get(super::eval::Part::All, k);
            assert!(
                c.true_pos + c.false_neg >= 40,
                "{} {flag}: labelled {} times; at least 40 are needed",
                s.language,
                c.true_pos + c.false_neg
            );
        }
    }
    if let Err(failures) = check_floor(&scores) {
        panic!("F1 below {F1_FLOOR}:\n{}\n\n{table}", failures.join("\n"));
    }
}

/// Writes the measurement to `$TOUCHPOINT_QUALITY_OUT` (or prints it):
/// `cargo xtask quality` runs this.
#[test]
#[ignore = "run by `cargo xtask quality`"]
fn write_emotion_quality() {
    let scores = evaluate().expect("the fixtures parse");
    let md = markdown(&scores);
    match std::env::var_os("TOUCHPOINT_QUALITY_OUT") {
        Some(path) => std::fs::write(path, md).expect("writing the measurement"),
        None => print!("{md}"),
    }
}

#[test]
fn names_keep_their_order_and_empty_means_none() {
    let all = Flags {
        frustration: true,
        delight: true,
        confusion: true,
    };
    assert_eq!(all.names(), ["frustration", "delight", "confusion"]);
    let some = Flags {
        delight: true,
        confusion: true,
        ..Flags::default()
    };
    assert_eq!(some.names(), ["delight", "confusion"]);
    assert!(Flags::default().is_empty());
    assert!(Flags::default().names().is_empty());
    assert!(!some.is_empty());
}

#[test]
fn empty_and_blank_comments_show_nothing() {
    for comment in ["", " ", "\n\t  ", "...", "[email]", "[phone] [email]"] {
        assert!(flags(comment, Some("en")).is_empty(), "{comment:?}");
    }
}

#[test]
fn negation_turns_complaint_into_praise_and_praise_into_complaint() {
    check("not bad", &["delight"]);
    check("tidak buruk", &["delight"]);
    check("tak teruk", &["delight"]);
    check("неплохо", &["delight"]);
    check("не плохо", &["delight"]);
    check("not happy", &["frustration"]);
    check("tidak puas", &["frustration"]);
    check("не нравится", &["frustration"]);
    check("bad", &["frustration"]);
}

#[test]
fn negated_ability_is_a_complaint_and_negated_understanding_confusion() {
    check("it doesn't work", &["frustration"]);
    check("gk bisa login", &["frustration"]);
    check("ga bisa bayar", &["frustration"]);
    check("x boleh masuk", &["frustration"]);
    check("tak boleh login", &["frustration"]);
    check("не работает", &["frustration"]);
    check("I don't understand", &["confusion"]);
    check("saya gak ngerti", &["confusion"]);
    check("tak faham", &["confusion"]);
    check("не понимаю", &["confusion"]);
    // The words alone say nothing.
    check("it works", &[]);
    check("bisa kirim ke Bali", &[]);
}

#[test]
fn a_negator_after_its_verb_negates_the_verb() {
    check("Login geht nicht", &["frustration"]);
    check("ich verstehe den Unterschied nicht", &["confusion"]);
    check("ça marche pas", &["frustration"]);
    check("je comprends pas", &["confusion"]);
    // Before a word it qualifies, it negates that word.
    check("nicht schlecht", &["delight"]);
    check("pas mal", &["delight"]);
    check("pas clair", &["confusion"]);
}

#[test]
fn elided_and_unaccented_words_are_read() {
    check("cette appli m'énerve", &["frustration"]);
    check("péssimo", &["frustration"]);
    check("pessimo", &["frustration"]);
    check("muy facil de usar", &["delight"]);
    // A bare spelling that is a word of its own keeps its own meaning:
    // `ou` is "or", not `où`.
    check("ou", &[]);
}

#[test]
fn negation_stops_at_the_clause() {
    check("no. happy", &["delight"]);
    check("not the fastest, but happy", &["delight"]);
}

#[test]
fn intensifiers_lift_weak_words_over_the_line() {
    check("good", &[]);
    check("so good", &["delight"]);
    check("really good", &["delight"]);
    check("oke", &[]);
    check("oke banget", &["delight"]);
    check("ok sangat", &["delight"]);
    check("долго", &[]);
    check("очень долго", &["frustration"]);
}

#[test]
fn elongated_words_are_read_and_count_as_emphasis() {
    check("sooo slowww", &["frustration"]);
    check("lambaaat", &["frustration"]);
    check("меееедленно", &["frustration"]);
    check("gooood", &["delight"]);
}

#[test]
fn emoji_and_emoticons_speak_for_their_flag() {
    for sign in ["😡", "🤬", "😤", "😠", ":("] {
        check(sign, &["frustration"]);
    }
    for sign in [
        "😍", "🥰", "❤️", "👍", "🙂", "😊", ":)", ":-)", ":D", "thanks:)",
    ] {
        check(sign, &["delight"]);
    }
    for sign in ["🤔", "😕", "❓"] {
        check(sign, &["confusion"]);
    }
    // Not emoticons: a time, a link, a word after a colon.
    check("open 10:30 to 18:00", &[]);
    check("see https://example.com/a", &[]);
    check("note:Delivery on Monday", &[]);
}

#[test]
fn a_question_mark_is_evidence_and_a_question_word_makes_it_confusion() {
    check("shipping to Canada?", &[]);
    check("is there an API?", &[]);
    check("where is the download link?", &["confusion"]);
    check("how do i cancel", &["confusion"]);
    check("??? where is everything", &["confusion"]);
    check("где кнопка?", &["confusion"]);
    check("cara bayar gimana?", &["confusion"]);
}

#[test]
fn shouting_and_repeated_punctuation_are_frustration() {
    check("WHY IS THIS SO SLOW", &["frustration"]);
    check("NOT WORKING", &["frustration"]);
    check("НЕ ЗАГРУЖАЕТСЯ ФОТО", &["frustration"]);
    check("LOVE IT!!!", &["delight"]);
    // A capitalised acronym is not shouting.
    check("the API docs mention CSV export", &[]);
}

#[test]
fn slang_and_typos_are_read() {
    check("wtf", &["frustration"]);
    check("ugh", &["frustration"]);
    check("ппц", &["frustration"]);
    check("бесит", &["frustration"]);
    check("lemot bgt", &["frustration"]);
    check("thx", &["delight"]);
    check("mantul", &["delight"]);
}

#[test]
fn sarcastic_praise_is_a_complaint() {
    check("great, another error", &["frustration"]);
    check("ну супер, опять ошибка", &["frustration"]);
    check("bagus banget, error lagi 🙄", &["frustration"]);
    // With a `but`, praise and complaint are both meant.
    check(
        "great app but another error today",
        &["frustration", "delight"],
    );
}

#[test]
fn placeholders_are_not_words() {
    check("[email]", &[]);
    check("send it to [email] please", &[]);
    // `[bad]` is not a placeholder a masker leaves, but the rule is the
    // bracketed lower-case word, so it is skipped like one.
    check("[bad]", &[]);
    check("[phone] sooo slowww", &["frustration"]);
}

#[test]
fn the_locale_breaks_ties_between_lists() {
    // `asyik` is "fun" in Indonesian and "keeps on" in Malay.
    assert!(flags("asyik", Some("id-ID")).delight);
    assert!(!flags("asyik", Some("ms")).delight);
    // `Handy` is a German phone, `show` is Brazilian praise.
    assert!(flags("Handy", Some("en")).delight);
    assert!(flags("Handy", Some("de")).is_empty());
    assert!(flags("show", Some("en")).is_empty());
    assert!(flags("show", Some("pt-BR")).delight);
    // A lone `x` is Malay for `tak` only when the interface is Malay.
    assert!(flags("x berfungsi", Some("ms-MY")).frustration);
    assert!(!flags("x berfungsi", Some("en")).frustration);
}

#[test]
fn a_long_comment_is_fine() {
    let long: String = "the checkout is so smooth, thanks! ".repeat(60);
    assert!(long.chars().count() >= 2000);
    let got = flags(&long, Some("en"));
    assert!(got.delight && !got.frustration, "{got:?}");
    let noise: String = "?!🤔[email]:)".repeat(250);
    let _ = flags(&noise, None);
}
