//! Splits a comment into the tokens the rules read: words (lower-cased,
//! elongations folded), emoji, emoticons and runs of `?` or `!`, each word
//! knowing whether it opens a clause. One pass over the characters.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Letters and digits, with inner apostrophes (`don't`).
    Word,
    /// One emoji or one emoticon (`:)` is stored as `:)`).
    Sign,
    /// A run of question marks; `n` is its length.
    Question(usize),
    /// A run of exclamation marks; `n` is its length.
    Exclaim(usize),
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub kind: Kind,
    /// Lower case, `ё` as `е`, runs of three or more equal letters as one
    /// (`slowww` → `slow`), a trailing reduplication `2` dropped (`masuk2`).
    pub text: String,
    /// The same with long runs kept as two letters (`gooood` → `good`),
    /// when that differs from `text`.
    pub alt: Option<String>,
    /// A letter was repeated three or more times.
    pub elongated: bool,
    /// Written in capitals (two letters or more).
    pub upper: bool,
    /// First token after the start or a clause boundary (`.,;:!?`, a line
    /// break, brackets).
    pub clause_start: bool,
}

/// Counts the rules read from the whole comment.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Shape {
    /// Letters that have a case, and how many of them were capitals.
    pub cased: usize,
    pub capitals: usize,
    /// Words of two letters or more, and how many were in capitals.
    pub words: usize,
    pub upper_words: usize,
}

impl Shape {
    /// The whole comment is shouted: enough letters, nearly all capitals.
    pub fn shouting(self) -> bool {
        self.cased >= 8 && self.capitals * 10 >= self.cased * 8 && self.upper_words >= 2
    }
}

/// Tokens of `comment`; masking placeholders (`[email]`, `[phone]`, …) are
/// skipped.
pub(super) fn tokenize(comment: &str) -> (Vec<Token>, Shape) {
    let chars: Vec<char> = comment.chars().collect();
    let mut tokens = Vec::new();
    let mut shape = Shape::default();
    let mut clause_start = true;
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch == '['
            && let Some(end) = placeholder_end(&chars, i)
        {
            i = end;
            continue;
        }
        if let Some((sign, len)) = emoticon(&chars, i) {
            tokens.push(sign_token(sign, clause_start));
            clause_start = false;
            i += len;
            continue;
        }
        if ch.is_alphanumeric() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || (is_apostrophe(chars[i])
                        && chars.get(i + 1).is_some_and(|c| c.is_alphabetic())))
            {
                i += 1;
            }
            let word = &chars[start..i];
            if matches!(word, ['x' | 'X', 'D']) {
                tokens.push(sign_token(":)", clause_start));
            } else {
                tokens.push(word_token(word, clause_start, &mut shape));
            }
            clause_start = false;
            continue;
        }
        if matches!(ch, '?' | '？' | '!' | '！' | '¿' | '¡') {
            let start = i;
            let mut q = 0;
            while i < chars.len() && matches!(chars[i], '?' | '？' | '!' | '！' | '¿' | '¡') {
                q += usize::from(matches!(chars[i], '?' | '？' | '¿'));
                i += 1;
            }
            let n = i - start;
            // `?!` and `!?` count as both.
            if q > 0 {
                tokens.push(punct(Kind::Question(q)));
            }
            if n > q {
                tokens.push(punct(Kind::Exclaim(n - q)));
            }
            clause_start = true;
            continue;
        }
        if is_emoji(ch) {
            tokens.push(sign_token(&ch.to_string(), clause_start));
            clause_start = false;
        } else if matches!(
            ch,
            '.' | ',' | ';' | ':' | '\n' | '…' | '(' | ')' | '—' | '–' | '/' | '|' | '•'
        ) {
            clause_start = true;
        }
        i += 1;
    }
    (tokens, shape)
}

fn punct(kind: Kind) -> Token {
    Token {
        kind,
        text: String::new(),
        alt: None,
        elongated: false,
        upper: false,
        clause_start: true,
    }
}

fn sign_token(sign: &str, clause_start: bool) -> Token {
    Token {
        kind: Kind::Sign,
        text: sign.to_owned(),
        alt: None,
        elongated: false,
        upper: false,
        clause_start,
    }
}

fn word_token(word: &[char], clause_start: bool, shape: &mut Shape) -> Token {
    let mut cased = 0;
    let mut capitals = 0;
    let mut lower: Vec<char> = Vec::with_capacity(word.len());
    for &c in word {
        if c.is_uppercase() {
            capitals += 1;
            cased += 1;
        } else if c.is_lowercase() {
            cased += 1;
        }
        for l in c.to_lowercase() {
            lower.push(match l {
                'ё' => 'е',
                '’' | 'ʼ' => '\'',
                other => other,
            });
        }
    }
    // `masuk2`, `ga2`: Indonesian and Malay write a repeated word as `2`.
    if lower.len() > 2 && lower.last() == Some(&'2') && lower[lower.len() - 2].is_alphabetic() {
        lower.pop();
    }
    shape.cased += cased;
    shape.capitals += capitals;
    let upper = cased >= 2 && capitals == cased;
    if cased >= 2 {
        shape.words += 1;
        shape.upper_words += usize::from(upper);
    }
    let (text, elongated) = fold_runs(&lower, 1);
    let alt = elongated.then(|| fold_runs(&lower, 2).0);
    Token {
        kind: Kind::Word,
        text,
        alt,
        elongated,
        upper,
        clause_start,
    }
}

/// `chars` with every run of three or more equal letters cut to `keep`;
/// whether there was such a run.
pub(super) fn fold_runs(chars: &[char], keep: usize) -> (String, bool) {
    let mut out = String::with_capacity(chars.len());
    let mut folded = false;
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        let mut n = 1;
        while k + n < chars.len() && chars[k + n] == c {
            n += 1;
        }
        let keep_n = if n >= 3 && c.is_alphabetic() {
            folded = true;
            keep
        } else {
            n
        };
        out.extend(std::iter::repeat_n(c, keep_n));
        k += n;
    }
    (out, folded)
}

/// Normalises one lexicon word the way [`tokenize`] normalises a comment's.
pub(super) fn normalize(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'ё' => 'е',
            '’' | 'ʼ' => '\'',
            other => other,
        })
        .collect()
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ')
}

/// The end of a masking placeholder starting at `i`: `[` lower-case ASCII
/// letters (and `_`) `]`.
fn placeholder_end(chars: &[char], i: usize) -> Option<usize> {
    let mut k = i + 1;
    while k < chars.len() && k - i <= 16 && (chars[k].is_ascii_lowercase() || chars[k] == '_') {
        k += 1;
    }
    (k > i + 1 && chars.get(k) == Some(&']')).then_some(k + 1)
}

/// An emoticon starting at `i`, as the sign it stands for and its length.
fn emoticon(chars: &[char], i: usize) -> Option<(&'static str, usize)> {
    let at = |k: usize| chars.get(k).copied();
    match at(i)? {
        ':' | ';' | '=' => {
            let nose = usize::from(matches!(at(i + 1), Some('-' | '\'' | '^')));
            let mouth = at(i + 1 + nose)?;
            let after = at(i + 2 + nose);
            let free = !after.is_some_and(char::is_alphanumeric);
            let sign = match mouth {
                ')' | ']' => ":)",
                'D' | 'P' | 'p' if free => ":)",
                '(' | '[' => ":(",
                '/' | '\\' | 'S' | 's' if free && after != Some('/') => ":/",
                _ => return None,
            };
            Some((sign, 2 + nose))
        }
        '<' if at(i + 1) == Some('3') => Some((":)", 2)),
        '^' if at(i + 1) == Some('^') => Some((":)", 2)),
        '^' if at(i + 1) == Some('_') && at(i + 2) == Some('^') => Some((":)", 3)),
        _ => None,
    }
}

/// Pictographs and the symbols used like them (`❤`, `❓`), not the
/// modifiers and joiners that ride along (those are dropped).
fn is_emoji(c: char) -> bool {
    let u = u32::from(c);
    matches!(u,
        0x1F300..=0x1F3FA | 0x1F400..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F900..=0x1FAFF
        | 0x2600..=0x27BF | 0x2B50 | 0x2B55)
}
