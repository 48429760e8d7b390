//! Small text helpers for the ISP layouts: homoglyph folding, page furniture, identifiers,
//! numbers written as words, dates.

use crate::import::text::squash;

/// Fold the Cyrillic and Greek look-alikes the PDF conversion puts into Latin text
/// ("тот" and "τατ" for TQT, "К/650/7914", "К10", "КЅВ").
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'А' | 'Α' => 'A',
            'В' | 'Β' => 'B',
            'С' => 'C',
            'Е' | 'Ε' => 'E',
            'Н' | 'Η' => 'H',
            'І' | 'Ι' => 'I',
            'К' | 'Κ' => 'K',
            'М' | 'Μ' => 'M',
            'О' | 'Ο' => 'O',
            'Р' | 'Ρ' => 'P',
            'Ѕ' => 'S',
            'Т' | 'Τ' => 'T',
            'Х' | 'Χ' => 'X',
            'а' | 'α' => 'a',
            'е' | 'ε' => 'e',
            'о' | 'ο' => 'o',
            'р' | 'ρ' => 'p',
            'с' => 'c',
            'т' | 'τ' => 't',
            'х' => 'x',
            'у' => 'y',
            'ι' => 'i',
            other => other,
        })
        .collect()
}

/// Page furniture repeated on every page: running headers and footers.
pub fn is_page_furniture(line: &str) -> bool {
    let t = line.trim();
    t.starts_with("Specifications for Level")
        || t.contains("Next Review")
        // The short needle first: the standard searcher is vectorised up to 32 bytes.
        || (t.contains("be reproduced wit")
            && t.contains("cannot be reproduced without prior approval"))
        || (t.starts_with("Page ") && t.contains(" of ") && t.len() < 30)
}

/// Lower-case letters and digits only (plus `/`), for matching labels split by tabs.
pub fn compact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() || c == '/' {
                out.push(c.to_ascii_lowercase());
            }
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Remove HTML tags (`<ul style=...>`, `<p>`, `<u>`) the converter left in the text.
pub fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('<') {
        let tail = &rest[start..];
        let is_tag = tail
            .chars()
            .nth(1)
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/');
        match (is_tag, tail.find('>')) {
            (true, Some(end)) => {
                out.push_str(&rest[..start]);
                out.push(' ');
                rest = &tail[end + 1..];
            }
            _ => {
                out.push_str(&rest[..=start]);
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Join PDF line pieces: squash white space and close "decision- making" to
/// "decision-making" (a hyphen the line break left dangling).
pub fn tidy(s: &str) -> String {
    // Only a word ending in '-' can be glued to the next: without one, tidy is squash.
    if !s.contains('-') {
        return squash(s);
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        // "decision-" followed by "making": close the gap.
        let glue = out.ends_with('-')
            && out[..out.len() - 1].ends_with(char::is_alphabetic)
            && word.starts_with(char::is_lowercase);
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// True when `tidy` would close a dangling hyphen in `s`.
pub fn has_dangling_hyphen(s: &str) -> bool {
    s.contains('-') && tidy(s) != squash(s)
}

/// An AO unit reference token: `L3B1`, `L4S3`, `L5L7`; `LSB4` (S for 5) is accepted here and
/// repaired by the caller; `ISP/501` and `ISP501` become `ISP501`.
pub fn ao_ref(token: &str) -> Option<String> {
    let t = token.trim_matches(|c: char| !c.is_alphanumeric());
    let b = t.as_bytes();
    if b.len() >= 4
        && b.len() <= 5
        && b[0] == b'L'
        && (b[1].is_ascii_digit() || b[1] == b'S')
        && matches!(b[2], b'B' | b'C' | b'L' | b'S')
        && b[3..].iter().all(u8::is_ascii_digit)
    {
        return Some(t.to_string());
    }
    let up = t.to_ascii_uppercase();
    if let Some(rest) = up.strip_prefix("ISP") {
        let digits = rest.trim_start_matches(['/', ' ']);
        if (3..=4).contains(&digits.len()) && digits.bytes().all(|d| d.is_ascii_digit()) {
            return Some(format!("ISP{digits}"));
        }
    }
    None
}

/// Does this text have the shape of an Ofqual unit reference, possibly damaged
/// (`H/651/601`, `T/651,`)? Used to find the reference cell of a table row.
pub fn looks_like_unit_ref(s: &str) -> bool {
    let f = fold(s.trim());
    let b = f.as_bytes();
    b.len() >= 6
        && b[0].is_ascii_alphabetic()
        && b[1] == b'/'
        && b[2..].iter().all(|c| c.is_ascii_digit() || *c == b'/')
}

/// Does this text have the shape of a QAN (`610/3788/6`), possibly with a wrong check
/// character?
pub fn looks_like_qan(s: &str) -> bool {
    let parts: Vec<&str> = s.trim().split('/').collect();
    parts.len() == 3
        && parts[0].len() == 3
        && parts[0].bytes().all(|d| d.is_ascii_digit())
        && (3..=5).contains(&parts[1].len())
        && parts[1].bytes().all(|d| d.is_ascii_digit())
        && (1..=2).contains(&parts[2].len())
        && parts[2].bytes().all(|d| d.is_ascii_alphanumeric())
}

/// "one" .. "twenty" or digits.
pub fn count_word(w: &str) -> Option<u32> {
    let w = w
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if let Ok(n) = w.parse() {
        return Some(n);
    }
    const WORDS: [&str; 21] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    WORDS
        .iter()
        .position(|x| *x == w)
        .and_then(|p| u32::try_from(p).ok())
}

/// The first whole number in the text (`"Guided Learning Hou r s 15"` gives 15).
pub fn first_number(s: &str) -> Option<u32> {
    s.split(|c: char| !c.is_ascii_digit())
        .find(|t| !t.is_empty())
        .and_then(|t| t.parse().ok())
}

/// A UK date `dd/mm/yyyy` or `d/m/yy` as ISO 8601. The flag says a two-digit year was
/// read as 20yy.
pub fn uk_date(s: &str) -> Option<(String, bool)> {
    let parts: Vec<&str> = s.trim().split('/').collect();
    if parts.len() != 3 {
        return None;
    }
    let d: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let (y, short): (u32, bool) = match parts[2].len() {
        2 => (2000 + parts[2].parse::<u32>().ok()?, true),
        4 => (parts[2].parse().ok()?, false),
        _ => return None,
    };
    if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
        return None;
    }
    Some((format!("{y:04}-{m:02}-{d:02}"), short))
}

/// Normalise a sector cell: "15.4 - Marketing and Sales" / "15.4 – Marketing and Sales" →
/// "15.4 Marketing and Sales".
pub fn sector_text(s: &str) -> Option<String> {
    let t = squash(s);
    let mut words = t.split(' ');
    let code = words.next()?;
    let (a, b) = code.split_once('.')?;
    if a.is_empty()
        || b.is_empty()
        || !a.bytes().all(|d| d.is_ascii_digit())
        || !b.bytes().all(|d| d.is_ascii_digit())
    {
        return None;
    }
    let name: Vec<&str> = words.filter(|w| *w != "-" && *w != "–").collect();
    if name.is_empty() {
        return None;
    }
    Some(format!("{code} {}", name.join(" ")))
}

/// Compare titles ignoring case, hyphens and spacing ("Self Management" = "Self-Management").
pub fn title_key(s: &str) -> String {
    squash(&s.to_lowercase().replace(['-', '–'], " "))
}

/// Strip bullet characters and stray punctuation from the front of a content line.
pub fn strip_bullets(s: &str) -> &str {
    s.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '•' | '·' | '-' | '–' | '\u{f0b7}' | '_' | '*')
    })
    .trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(fold("тот"), "tot");
        assert_eq!(fold("К/650/7914"), "K/650/7914");
        assert_eq!(
            tidy("analysis and decision- making"),
            "analysis and decision-making"
        );
        assert_eq!(tidy("A - B"), "A - B");
        assert_eq!(ao_ref("L3B1"), Some("L3B1".into()));
        assert_eq!(ao_ref("ISP/501"), Some("ISP501".into()));
        assert_eq!(ao_ref("LSB4"), Some("LSB4".into()));
        assert_eq!(ao_ref("Level"), None);
        assert_eq!(count_word("two"), Some(2));
        assert_eq!(count_word("13"), Some(13));
        assert_eq!(uk_date("06/05/2025"), Some(("2025-05-06".into(), false)));
        assert_eq!(uk_date("2/5/25"), Some(("2025-05-02".into(), true)));
        assert_eq!(
            sector_text("15.4 – Marketing and Sales").as_deref(),
            Some("15.4 Marketing and Sales")
        );
        assert_eq!(
            strip_html("<p>a</p> <p>b</p>").split_whitespace().count(),
            2
        );
        assert!(looks_like_qan("610/3788/6"));
        assert!(looks_like_unit_ref("H/651/601"));
        assert_eq!(first_number("r s 15"), Some(15));
    }
}
