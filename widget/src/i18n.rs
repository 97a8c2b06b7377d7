//! Built-in interface strings. Question texts come from the site's config;
//! these follow the language the question is shown in.

use touchpoint_wire::Metric;

pub struct Strings {
    pub close: &'static str,
    pub thanks: &'static str,
    pub send: &'static str,
    pub placeholder: &'static str,
    /// "out of": `9 out of 10`.
    pub of: &'static str,
    /// Ends of the scales: NPS low/high, CSAT and emoji low/high, CES low/high.
    pub ends: [&'static str; 6],
    /// Thumbs down, thumbs up.
    pub no_yes: [&'static str; 2],
    /// The feedback tab's label.
    pub feedback: &'static str,
    /// Written right to left.
    pub rtl: bool,
}

impl Strings {
    /// The words at the low and high end of a metric's scale.
    pub fn ends(&self, metric: Metric) -> (&'static str, &'static str) {
        let i = match metric {
            Metric::Csat | Metric::Emoji => 2,
            Metric::Ces => 4,
            _ => 0,
        };
        (self.ends[i], self.ends[i + 1])
    }
}

pub fn strings(lang: &str) -> &'static Strings {
    match lang.split('-').next().unwrap_or("en") {
        "id" => &ID,
        "ms" => &MS,
        "ru" => &RU,
        "es" => &ES,
        "de" => &DE,
        "fr" => &FR,
        "pt" => &PT,
        "ar" => &AR,
        "he" | "iw" => &HE,
        "ja" => &JA,
        "zh" => &ZH,
        _ => &EN,
    }
}

static EN: Strings = Strings {
    close: "Close",
    thanks: "Thank you for your feedback!",
    send: "Send",
    placeholder: "Type your answer",
    of: "out of",
    ends: [
        "Not likely",
        "Very likely",
        "Very dissatisfied",
        "Very satisfied",
        "Very difficult",
        "Very easy",
    ],
    no_yes: ["No", "Yes"],
    feedback: "Feedback",
    rtl: false,
};
static ID: Strings = Strings {
    close: "Tutup",
    thanks: "Terima kasih atas masukan Anda!",
    send: "Kirim",
    placeholder: "Ketik jawaban Anda",
    of: "dari",
    ends: [
        "Tidak mungkin",
        "Sangat mungkin",
        "Sangat tidak puas",
        "Sangat puas",
        "Sangat sulit",
        "Sangat mudah",
    ],
    no_yes: ["Tidak", "Ya"],
    feedback: "Masukan",
    rtl: false,
};
static MS: Strings = Strings {
    close: "Tutup",
    thanks: "Terima kasih atas maklum balas anda!",
    send: "Hantar",
    placeholder: "Taip jawapan anda",
    of: "daripada",
    ends: [
        "Tidak mungkin",
        "Sangat mungkin",
        "Sangat tidak berpuas hati",
        "Sangat berpuas hati",
        "Sangat sukar",
        "Sangat mudah",
    ],
    no_yes: ["Tidak", "Ya"],
    feedback: "Maklum balas",
    rtl: false,
};
static RU: Strings = Strings {
    close: "Закрыть",
    thanks: "Спасибо за ваш отзыв!",
    send: "Отправить",
    placeholder: "Введите ответ",
    of: "из",
    ends: [
        "Маловероятно",
        "Очень вероятно",
        "Совсем не доволен",
        "Очень доволен",
        "Очень сложно",
        "Очень легко",
    ],
    no_yes: ["Нет", "Да"],
    feedback: "Отзыв",
    rtl: false,
};
static ES: Strings = Strings {
    close: "Cerrar",
    thanks: "¡Gracias por tu opinión!",
    send: "Enviar",
    placeholder: "Escribe tu respuesta",
    of: "de",
    ends: [
        "Nada probable",
        "Muy probable",
        "Muy insatisfecho",
        "Muy satisfecho",
        "Muy difícil",
        "Muy fácil",
    ],
    no_yes: ["No", "Sí"],
    feedback: "Opinión",
    rtl: false,
};
static DE: Strings = Strings {
    close: "Schließen",
    thanks: "Vielen Dank für Ihr Feedback!",
    send: "Senden",
    placeholder: "Ihre Antwort",
    of: "von",
    ends: [
        "Unwahrscheinlich",
        "Sehr wahrscheinlich",
        "Sehr unzufrieden",
        "Sehr zufrieden",
        "Sehr schwierig",
        "Sehr einfach",
    ],
    no_yes: ["Nein", "Ja"],
    feedback: "Feedback",
    rtl: false,
};
static FR: Strings = Strings {
    close: "Fermer",
    thanks: "Merci pour votre avis !",
    send: "Envoyer",
    placeholder: "Votre réponse",
    of: "sur",
    ends: [
        "Peu probable",
        "Très probable",
        "Très insatisfait",
        "Très satisfait",
        "Très difficile",
        "Très facile",
    ],
    no_yes: ["Non", "Oui"],
    feedback: "Votre avis",
    rtl: false,
};
static PT: Strings = Strings {
    close: "Fechar",
    thanks: "Obrigado pelo seu feedback!",
    send: "Enviar",
    placeholder: "Escreva a sua resposta",
    of: "de",
    ends: [
        "Nada provável",
        "Muito provável",
        "Muito insatisfeito",
        "Muito satisfeito",
        "Muito difícil",
        "Muito fácil",
    ],
    no_yes: ["Não", "Sim"],
    feedback: "Feedback",
    rtl: false,
};
static AR: Strings = Strings {
    close: "إغلاق",
    thanks: "شكرًا لملاحظاتك!",
    send: "إرسال",
    placeholder: "اكتب إجابتك",
    of: "من",
    ends: [
        "غير محتمل",
        "محتمل جدًا",
        "غير راضٍ إطلاقًا",
        "راضٍ جدًا",
        "صعب جدًا",
        "سهل جدًا",
    ],
    no_yes: ["لا", "نعم"],
    feedback: "ملاحظات",
    rtl: true,
};
static HE: Strings = Strings {
    close: "סגירה",
    thanks: "תודה על המשוב!",
    send: "שליחה",
    placeholder: "הקלידו את תשובתכם",
    of: "מתוך",
    ends: [
        "לא סביר",
        "סביר מאוד",
        "לא מרוצה בכלל",
        "מרוצה מאוד",
        "קשה מאוד",
        "קל מאוד",
    ],
    no_yes: ["לא", "כן"],
    feedback: "משוב",
    rtl: true,
};
static JA: Strings = Strings {
    close: "閉じる",
    thanks: "ご意見ありがとうございました！",
    send: "送信",
    placeholder: "回答を入力",
    of: "/",
    ends: [
        "可能性は低い",
        "可能性は高い",
        "非常に不満",
        "非常に満足",
        "とても難しい",
        "とても簡単",
    ],
    no_yes: ["いいえ", "はい"],
    feedback: "フィードバック",
    rtl: false,
};
static ZH: Strings = Strings {
    close: "关闭",
    thanks: "感谢您的反馈！",
    send: "提交",
    placeholder: "请输入您的回答",
    of: "/",
    ends: [
        "不太可能",
        "非常可能",
        "非常不满意",
        "非常满意",
        "非常困难",
        "非常容易",
    ],
    no_yes: ["否", "是"],
    feedback: "反馈",
    rtl: false,
};
