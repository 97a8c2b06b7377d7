//! Built-in interface strings. Question texts come from the site's config.

pub struct Strings {
    pub close: &'static str,
    pub thanks: &'static str,
    pub low: &'static str,
    pub high: &'static str,
    /// "out of": `9 out of 10`.
    pub of: &'static str,
}

pub fn strings(lang: &str) -> &'static Strings {
    match lang.split('-').next().unwrap_or("en") {
        "id" => &ID,
        "ms" => &MS,
        "ru" => &RU,
        _ => &EN,
    }
}

static EN: Strings = Strings {
    close: "Close",
    thanks: "Thank you for your feedback!",
    low: "Not likely",
    high: "Very likely",
    of: "out of",
};
static ID: Strings = Strings {
    close: "Tutup",
    thanks: "Terima kasih atas masukan Anda!",
    low: "Tidak mungkin",
    high: "Sangat mungkin",
    of: "dari",
};
static MS: Strings = Strings {
    close: "Tutup",
    thanks: "Terima kasih atas maklum balas anda!",
    low: "Tidak mungkin",
    high: "Sangat mungkin",
    of: "daripada",
};
static RU: Strings = Strings {
    close: "Закрыть",
    thanks: "Спасибо за ваш отзыв!",
    low: "Маловероятно",
    high: "Очень вероятно",
    of: "из",
};
