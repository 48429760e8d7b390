//! Apprenticeship KSB codes in running text: "Level 3 IT Technical Salesperson
//! ApprenticeshipK7Understands how to communicate ...S1Communication: ...B8Ability to ..."
//! (L3 seed line 614), where the PDF glued codes to the words around them.

use super::util::fold;
use crate::import::text::squash;
use crate::model::KsbMapping;

/// `(start, end)` of each "Level N ... Apprenticeship" marker, with the standard's name.
fn standards(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(p) = text[from..].find("Level ") {
        let start = from + p;
        let after = &text[start + 6..];
        from = start + 6;
        if !after.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let window: String = after.chars().take(90).collect();
        if let Some(a) = window.find("Apprenticeship") {
            let name = squash(&format!("Level {}", &after[..a]));
            let end = start + 6 + a + "Apprenticeship".len();
            out.push((start, end, name));
            from = end;
        }
    }
    out
}

/// `(start, end, code)` of each KSB code.
fn codes(text: &str) -> Vec<(usize, usize, String)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let prev_ok = i == 0 || !(b[i - 1].is_ascii_uppercase() || b[i - 1].is_ascii_digit());
        if matches!(c, b'K' | b'S' | b'B') && prev_ok {
            let mut j = i + 1;
            while j < b.len() && j - i <= 2 && b[j].is_ascii_digit() {
                j += 1;
            }
            let digits = j - i - 1;
            let next_ok = match b.get(j) {
                None => true,
                Some(n) if n.is_ascii_whitespace() || matches!(n, b':' | b'.' | b',' | b';') => {
                    true
                }
                Some(n) if n.is_ascii_uppercase() => {
                    b.get(j + 1).is_some_and(u8::is_ascii_lowercase)
                }
                _ => false,
            };
            if (1..=2).contains(&digits) && next_ok {
                out.push((i, j, text[i..j].to_string()));
                i = j;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// KSB mappings in `text`; codes before any "Level N ... Apprenticeship" marker belong to
/// `default_standard` (the KSB appendix cells name no standard).
pub fn parse(text: &str, default_standard: Option<&str>) -> Vec<KsbMapping> {
    let text = fold(&squash(text));
    let stds = standards(&text);
    let cs = codes(&text);
    let mut out: Vec<KsbMapping> = Vec::new();
    for (k, (start, end, code)) in cs.iter().enumerate() {
        // The standard in force: the last marker ending before this code.
        let standard = stds
            .iter()
            .rev()
            .find(|s| s.1 <= *start)
            .map(|s| s.2.clone())
            .or_else(|| default_standard.map(str::to_string));
        let Some(standard) = standard else { continue };
        if stds.iter().any(|s| s.0 <= *start && *start < s.1) {
            continue; // inside a marker ("Level 6 Business to Business ...")
        }
        let mut stop = cs.get(k + 1).map_or(text.len(), |n| n.0);
        if let Some(s) = stds.iter().find(|s| s.0 >= *end && s.0 < stop) {
            stop = s.0;
        }
        let body = text[*end..stop]
            .trim()
            .trim_start_matches([':', '-', '–'])
            .trim();
        if out
            .iter()
            .any(|m| m.code == *code && m.standard == standard)
        {
            continue;
        }
        out.push(KsbMapping {
            standard,
            code: code.clone(),
            text: body.to_string(),
        });
    }
    out
}

/// The first apprenticeship standard named in the text.
pub fn first_standard(text: &str) -> Option<String> {
    standards(&fold(&squash(text)))
        .into_iter()
        .next()
        .map(|s| s.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glued_codes_are_split() {
        let t = "Level 3 IT Technical Salesperson ApprenticeshipK7Understands how to communicate\
                 S1Communication: works both ways.B8Ability to communicate in B2B settings";
        let m = parse(t, None);
        let codes: Vec<&str> = m.iter().map(|k| k.code.as_str()).collect();
        assert_eq!(codes, ["K7", "S1", "B8"]);
        assert_eq!(m[0].standard, "Level 3 IT Technical Salesperson");
        assert_eq!(m[0].text, "Understands how to communicate");
        assert_eq!(m[2].text, "Ability to communicate in B2B settings");
        let n = parse("К10 Understands how to negotiate", Some("X"));
        assert_eq!(n[0].code, "K10");
    }
}
