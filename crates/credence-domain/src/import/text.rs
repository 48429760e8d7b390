//! Text helpers shared by the layout modules: numbered lines and table cells.

/// The source text as numbered lines. Line numbers are 1-based, as a person sees them in an
/// editor, and are what every [`super::Finding`] reports.
#[derive(Debug)]
pub struct Source<'a> {
    lines: Vec<&'a str>,
}

impl<'a> Source<'a> {
    pub fn new(text: &'a str) -> Self {
        Source {
            lines: text.lines().collect(),
        }
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Line `n` (1-based); empty past the end.
    pub fn line(&self, n: usize) -> &'a str {
        n.checked_sub(1)
            .and_then(|i| self.lines.get(i))
            .copied()
            .unwrap_or("")
    }

    /// `(line number, text)` for every line.
    pub fn numbered(&self) -> impl Iterator<Item = (usize, &'a str)> + '_ {
        self.lines.iter().enumerate().map(|(i, l)| (i + 1, *l))
    }

    /// First line at or after `from` (1-based) whose text contains `needle`.
    pub fn find_from(&self, from: usize, needle: &str) -> Option<usize> {
        let start = from.max(1) - 1;
        self.lines
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, l)| l.contains(needle))
            .map(|(i, _)| i + 1)
    }
}

/// The non-empty, trimmed, tab-separated cells of a line.
pub fn cells(line: &str) -> Vec<&str> {
    line.split('\t')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

/// All tab-separated cells of a line, trimmed, empty ones kept (column positions matter).
pub fn raw_cells(line: &str) -> Vec<&str> {
    line.split('\t').map(str::trim).collect()
}

/// Collapse runs of white space to one space and trim (as
/// `s.split_whitespace().collect::<Vec<_>>().join(" ")`, in one pass).
pub fn squash(s: &str) -> String {
    let s = s.trim();
    if is_squashed(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

/// True when a trimmed text is already squashed: ASCII, its only white space single spaces.
/// (Non-ASCII text takes the slow path: it may hold Unicode white space.)
#[inline]
fn is_squashed(s: &str) -> bool {
    let mut prev_space = false;
    for &b in s.as_bytes() {
        match b {
            b' ' => {
                if prev_space {
                    return false;
                }
                prev_space = true;
            }
            b'\t' | b'\n' | b'\r' | 0x0b | 0x0c | 0x80.. => return false,
            _ => prev_space = false,
        }
    }
    true
}

/// A specification key from its AO's code, its level and the subject its title names:
/// `("isp", 3, "ISP Level 3 Qualifications in Professional Sales")` gives
/// `isp-l3-professional-sales` (the subject is what follows the title's last " in "; a title
/// without one is used whole). The same document always gets the same key; another suite of
/// the family (another subject or level) gets its own.
pub fn spec_key(ao: &str, level: u8, subject_of: &str) -> String {
    let subject = subject_of
        .rsplit_once(" in ")
        .map_or(subject_of, |(_, tail)| tail);
    format!("{ao}-l{level}-{}", slug(subject))
}

/// The level a title names: the number after its first "Level".
pub fn level_named(title: &str) -> Option<u8> {
    let ws: Vec<&str> = title.split_whitespace().collect();
    ws.windows(2)
        .find(|w| w[0] == "Level")
        .and_then(|w| w[1].parse().ok())
}

/// Lower case ASCII letters and digits, every other run of characters one `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Parse a whole number, tolerating surrounding white space.
pub fn number(s: &str) -> Option<u32> {
    s.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_from_one() {
        let s = Source::new("a\nb\tc\n\nd");
        assert_eq!(s.len(), 4);
        assert_eq!(s.line(1), "a");
        assert_eq!(s.line(5), "");
        assert_eq!(s.line(0), "");
        assert_eq!(s.find_from(1, "d"), Some(4));
        assert_eq!(cells(s.line(2)), vec!["b", "c"]);
        assert_eq!(squash("  a \t b\n c "), "a b c");
        assert_eq!(squash("a\u{a0} b"), "a b");
        assert_eq!(squash("ab"), "ab");
        assert_eq!(
            spec_key("isp", 3, "ISP Level 3 Qualifications in Professional Sales"),
            "isp-l3-professional-sales"
        );
        assert_eq!(
            spec_key(
                "isp",
                5,
                "ISP Level 5 Certificate & Diploma in Advanced Sales Professionalism"
            ),
            "isp-l5-advanced-sales-professionalism"
        );
        assert_eq!(slug("  Executive Award! "), "executive-award");
    }
}
