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

/// `hay.contains(needle)`, tuned for one line of text: scans for the needle's first byte
/// (the standard searcher's set-up costs more than the search on a short line).
pub fn has(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let Some((&first, rest)) = n.split_first() else {
        return true;
    };
    if h.len() < n.len() {
        return false;
    }
    let last = h.len() - n.len();
    let mut i = 0;
    while i <= last {
        match h[i..=last].iter().position(|&b| b == first) {
            Some(p) => {
                let at = i + p;
                if h[at + 1..at + n.len()] == *rest {
                    return true;
                }
                i = at + 1;
            }
            None => return false,
        }
    }
    false
}

/// A fast, non-cryptographic hasher (FxHash) for the importer's own word tables: the keys
/// are words of the document, not attacker-chosen in any way that matters here.
#[derive(Debug, Default, Clone, Copy)]
pub struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl std::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// `BuildHasher` for [`FxHasher`].
pub type FastHash = std::hash::BuildHasherDefault<FxHasher>;

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
        assert!(has("abcabd", "abd"));
        assert!(has("abc", ""));
        assert!(!has("abcab", "abd"));
        assert!(!has("ab", "abc"));
    }
}
