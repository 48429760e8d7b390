//! Appendix 1: the unit specifications. Each unit is a header table (title, Ofqual reference,
//! level, credit, GLH), the learning outcome / assessment criteria table, "Additional
//! Information" (purpose, apprenticeship standards, sector), indicative content and assessor
//! guidance per learning outcome.

use std::collections::BTreeSet;

use super::Ctx;
use super::tables::{TableKind, Tables, UnitRow};
use super::util::{
    ao_ref, compact, fold, has_dangling_hyphen, sector_text, strip_bullets, strip_html, tidy,
};
use crate::ident::UnitRef;
use crate::import::text::{cells, raw_cells, squash};
use crate::import::{FindingKind, unit_target};
use crate::model::{AssessmentCriterion, ContentItem, LearningOutcome, Simulation};

/// One unit specification as printed, with the lines its values came from.
#[derive(Debug, Clone)]
pub struct UnitSpec {
    pub anchor: usize,
    pub key: String,
    pub ofqual_ref: Option<String>,
    pub ao: String,
    pub title: String,
    /// The L3 layout prints the unit's reference and title as a heading too.
    pub heading: Option<(String, usize)>,
    pub level: Option<u8>,
    pub credit: Option<u32>,
    pub glh: Option<u32>,
    /// Lines of the header rows (title, reference, level, credit, GLH).
    pub lines: HeaderLines,
    pub los: Vec<LearningOutcome>,
    pub purpose: Option<String>,
    pub apprenticeship_text: Option<String>,
    pub sector: Option<String>,
    pub simulation: Simulation,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct HeaderLines {
    pub title: usize,
    pub reference: usize,
    pub level: usize,
    pub credit: usize,
    pub glh: usize,
}

/// A unit heading line of the L3 layout: "L3B1 Understand Sales Communication".
fn heading(line: &str) -> Option<(String, String)> {
    if line.len() > 120 || line.contains('\t') {
        return None;
    }
    ao_ref(line.split_whitespace().next()?)?;
    let t = squash(line);
    let (first, rest) = t.split_once(' ')?;
    let ao = ao_ref(first)?;
    if rest.is_empty() || t.len() > 100 || !rest.starts_with(|c: char| c.is_uppercase()) {
        return None;
    }
    Some((ao, rest.to_string()))
}

/// A "Unit Title" row, the label possibly split across cells ("Un→it Title"). Returns the
/// AO reference and the rest of the row.
fn anchor(line: &str) -> Option<(String, String)> {
    let head = line.get(..line.len().min(60)).unwrap_or(line);
    if !head.contains("itle") {
        return None;
    }
    let raw = raw_cells(line);
    let mut label = String::new();
    for (i, c) in raw.iter().enumerate().take(3) {
        label.push_str(&compact(c));
        if label.ends_with("title") && (label.ends_with("unittitle") || label.ends_with("ittitle"))
        {
            let rest = squash(&raw[i + 1..].join(" "));
            let (first, tail) = rest.split_once(' ').unwrap_or((rest.as_str(), ""));
            let ao = ao_ref(first)?;
            return Some((ao, tail.to_string()));
        }
    }
    None
}

/// First words of the numbered assessment criteria of the whole document ("Explain",
/// "Describe", "Analyse"...): the command verbs this document starts a criterion with.
pub fn command_verbs(ctx: &Ctx, from: usize, to: usize) -> BTreeSet<String> {
    let mut verbs = BTreeSet::new();
    for n in from..to {
        let cs = cells(ctx.line(n));
        for (i, c) in cs.iter().enumerate() {
            let word = match ac_cell(c) {
                Some(AcCell::One(_) | AcCell::Many(_)) => cs
                    .get(i + 1)
                    .and_then(|t| t.split_whitespace().next())
                    .map(str::to_string),
                Some(AcCell::Merged(_, t)) => t.split_whitespace().next().map(str::to_string),
                _ => None,
            };
            if let Some(w) = word
                && w.starts_with(|c: char| c.is_ascii_uppercase())
                && w.len() > 2
            {
                verbs.insert(w);
            }
        }
    }
    verbs
}

#[derive(Debug, Clone)]
enum AcCell {
    One(String),
    Many(Vec<String>),
    Lost,
    Merged(String, String),
}

fn is_ac_number(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            (1..=2).contains(&a.len())
                && (1..=2).contains(&b.len())
                && a.bytes().all(|d| d.is_ascii_digit())
                && b.bytes().all(|d| d.is_ascii_digit())
        }
        None => false,
    }
}

fn ac_cell(c: &str) -> Option<AcCell> {
    let c = c.trim();
    if !(c.starts_with(|ch: char| ch.is_ascii_digit()) || c == "-" || c == "–") {
        return None;
    }
    if is_ac_number(c) {
        return Some(AcCell::One(c.to_string()));
    }
    if c == "-" || c == "–" {
        return Some(AcCell::Lost);
    }
    let words: Vec<&str> = c.split_whitespace().collect();
    if words.len() >= 2 && words.iter().all(|w| is_ac_number(w)) {
        return Some(AcCell::Many(words.iter().map(|w| w.to_string()).collect()));
    }
    if let Some((first, rest)) = c.split_once(' ')
        && is_ac_number(first)
        && rest.starts_with(|ch: char| ch.is_uppercase())
    {
        return Some(AcCell::Merged(first.to_string(), rest.to_string()));
    }
    None
}

fn major_minor(n: &str) -> (u32, u32) {
    let (a, b) = n.split_once('.').unwrap_or((n, "0"));
    (a.parse().unwrap_or(0), b.parse().unwrap_or(0))
}

/// Split a leading LO number off the LO column: "1. Understand effective" → (1, ...).
fn lo_number(s: &str) -> (Option<u32>, String) {
    let t = s.trim();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return (None, t.to_string());
    }
    let rest = &t[digits.len()..];
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return (None, t.to_string());
    }
    (digits.parse().ok(), rest.trim().to_string())
}

struct Seg {
    lo: u32,
    text: Vec<String>,
    line: usize,
    declared: bool,
    confirmed: bool,
}

struct Ac {
    major: u32,
    minor: u32,
    text: Vec<String>,
    line: usize,
}

/// The LO/AC table of one unit.
struct LoTable<'v> {
    key: String,
    verbs: &'v BTreeSet<String>,
    segs: Vec<Seg>,
    acs: Vec<Ac>,
    cur: Option<usize>,
    last_ac: Option<usize>,
    cols: Option<(usize, usize)>,
}

impl LoTable<'_> {
    fn seg_lo(&self) -> Option<u32> {
        self.cur.map(|i| self.segs[i].lo)
    }

    fn start(&mut self, lo: u32, line: usize, declared: bool) {
        self.segs.push(Seg {
            lo,
            text: Vec::new(),
            line,
            declared,
            confirmed: false,
        });
        self.cur = Some(self.segs.len() - 1);
    }

    fn next_minor(&self, major: u32) -> u32 {
        self.acs
            .iter()
            .filter(|a| a.major == major)
            .map(|a| a.minor)
            .max()
            .unwrap_or(0)
            + 1
    }

    fn push_ac(&mut self, ctx: &mut Ctx, number: &str, text: &str, line: usize) {
        let (major, mut minor) = major_minor(number);
        if self
            .acs
            .iter()
            .any(|a| a.major == major && a.minor == minor)
        {
            let next = self.next_minor(major);
            ctx.findings.repaired(
                FindingKind::InferredNumber,
                line,
                ctx.line(line),
                format!(
                    "Assessment criterion number {number} is printed twice in unit {}; the second one, \"{}\", is read as {major}.{next} (the next number in LO {major}).",
                    self.key,
                    squash(text)
                ),
                unit_target(&self.key, "learning_outcomes"),
                vec![format!("{major}.{next}"), number.to_string()],
            );
            minor = next;
        }
        self.acs.push(Ac {
            major,
            minor,
            text: vec![text.to_string()],
            line,
        });
        self.last_ac = Some(self.acs.len() - 1);
        if let Some(i) = self.cur
            && self.segs[i].lo == major
        {
            self.segs[i].confirmed = true;
        }
    }

    fn push_inferred(&mut self, ctx: &mut Ctx, text: &str, line: usize, why: &str) {
        let major = self.seg_lo().unwrap_or(1);
        let minor = self.next_minor(major);
        let number = format!("{major}.{minor}");
        ctx.findings.repaired(
            FindingKind::InferredNumber,
            line,
            ctx.line(line),
            format!(
                "Unit {}: the criterion \"{}\" has no number ({why}); numbered {number}, the next criterion of LO {major}.",
                self.key,
                squash(text)
            ),
            unit_target(&self.key, "learning_outcomes"),
            vec![number.clone()],
        );
        self.push_ac(ctx, &number, text, line);
    }

    fn row(&mut self, ctx: &mut Ctx, n: usize) {
        let line = ctx.line(n);
        let raw = raw_cells(line);
        let found = raw.iter().enumerate().find_map(|(i, c)| {
            let a = ac_cell(c)?;
            if matches!(a, AcCell::Lost) && raw[i + 1..].iter().all(|c| c.is_empty()) {
                return None;
            }
            Some((i, a))
        });
        let mut lo_side: Vec<&str> = Vec::new();
        let mut ac_side: Vec<&str> = Vec::new();
        match &found {
            Some((i, a)) => {
                let text_col = if matches!(a, AcCell::Merged(..)) {
                    *i
                } else {
                    i + 1
                };
                self.cols = Some((*i, text_col));
                for (j, c) in raw.iter().enumerate() {
                    if c.is_empty() || j == *i {
                        continue;
                    }
                    if j < *i {
                        lo_side.push(c);
                    } else {
                        ac_side.push(c);
                    }
                }
            }
            None => {
                let filled: Vec<(usize, &str)> = raw
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.is_empty())
                    .map(|(j, c)| (j, *c))
                    .collect();
                match self.cols {
                    Some((_, text_col)) => {
                        for (j, c) in filled {
                            if j >= text_col {
                                ac_side.push(c);
                            } else {
                                lo_side.push(c);
                            }
                        }
                    }
                    None => {
                        let last = filled.len().saturating_sub(1);
                        for (k, (_, c)) in filled.into_iter().enumerate() {
                            if k == last && k > 0 {
                                ac_side.push(c);
                            } else {
                                lo_side.push(c);
                            }
                        }
                    }
                }
            }
        }
        let major = match &found {
            Some((_, AcCell::One(x) | AcCell::Merged(x, _))) => Some(major_minor(x).0),
            Some((_, AcCell::Many(xs))) => xs.first().map(|x| major_minor(x).0),
            _ => None,
        };
        let (declared, lo_text) = lo_number(&lo_side.join(" "));
        let mut new_lo_row = false;
        if let Some(mut d) = declared {
            if let Some(m) = major
                && d < m
                && self.segs.iter().any(|s| s.lo == d && s.confirmed)
            {
                ctx.findings.repaired(
                    FindingKind::InferredNumber,
                    n,
                    line,
                    format!(
                        "Unit {}: learning outcome number printed '{d}' beside criterion {m}.x after LO {d} was complete; read as LO {m}.",
                        self.key
                    ),
                    unit_target(&self.key, "learning_outcomes"),
                    vec![m.to_string(), d.to_string()],
                );
                d = m;
            }
            let cont = match self.cur.map(|i| &self.segs[i]) {
                Some(s) if s.lo == d => match major {
                    Some(m) if m == d => s.confirmed || s.text.is_empty(),
                    _ => true,
                },
                _ => false,
            };
            if !cont {
                self.start(d, n, true);
                new_lo_row = true;
            } else if let Some(i) = self.cur {
                self.segs[i].declared = true;
            }
        } else if let Some(m) = major {
            let known = self.segs.iter().any(|s| s.lo == m);
            if self.cur.is_none() || (self.seg_lo() != Some(m) && !known) {
                self.start(m, n, false);
                new_lo_row = true;
            }
        } else if self.cur.is_none() && !lo_text.is_empty() {
            self.start(1, n, false);
            new_lo_row = true;
        }
        if !lo_text.is_empty()
            && let Some(i) = self.cur
        {
            self.segs[i].text.push(lo_text);
        }
        let ac_text = ac_side.join(" ");
        match found.map(|f| f.1) {
            Some(AcCell::One(num)) => self.push_ac(ctx, &num, &ac_text, n),
            Some(AcCell::Merged(num, first)) => {
                let text = squash(&format!("{first} {ac_text}"));
                self.push_ac(ctx, &num, &text, n);
            }
            Some(AcCell::Many(nums)) => self.many(ctx, &nums, &ac_text, n),
            Some(AcCell::Lost) => {
                self.push_inferred(ctx, &ac_text, n, "the number cell holds only '-'")
            }
            None if !ac_text.is_empty() => {
                let first = ac_text.split_whitespace().next().unwrap_or("");
                let upper = first.starts_with(|c: char| c.is_uppercase());
                if upper && self.verbs.contains(first) {
                    self.push_inferred(
                        ctx,
                        &ac_text,
                        n,
                        "it starts with a command verb, so it is a new criterion, not the rest of the one above",
                    );
                } else if upper && new_lo_row {
                    self.push_inferred(ctx, &ac_text, n, "it is the first criterion of its LO");
                } else if let Some(a) = self.last_ac {
                    self.acs[a].text.push(ac_text);
                } else {
                    self.push_inferred(ctx, &ac_text, n, "no criterion precedes it");
                }
            }
            None => {}
        }
    }

    /// "1.2 1.3 1.4" in one cell with the three criteria run together (L3 seed line 823):
    /// split the text where a command verb starts a new criterion.
    fn many(&mut self, ctx: &mut Ctx, nums: &[String], text: &str, n: usize) {
        let words: Vec<&str> = text.split_whitespace().collect();
        let cuts: Vec<usize> = words
            .iter()
            .enumerate()
            .skip(1)
            .filter(|(_, w)| self.verbs.contains(**w))
            .map(|(i, _)| i)
            .collect();
        if cuts.len() + 1 == nums.len() {
            let mut bounds = vec![0];
            bounds.extend(cuts);
            bounds.push(words.len());
            let parts: Vec<String> = bounds
                .windows(2)
                .map(|w| words[w[0]..w[1]].join(" "))
                .collect();
            ctx.findings.repaired(
                FindingKind::RejoinedText,
                n,
                ctx.line(n),
                format!(
                    "Unit {}: criteria {} are printed in one cell; the text is split where each command verb starts a criterion.",
                    self.key,
                    nums.join(", ")
                ),
                unit_target(&self.key, "learning_outcomes"),
                parts.clone(),
            );
            for (num, part) in nums.iter().zip(parts) {
                self.push_ac(ctx, num, &part, n);
            }
        } else {
            ctx.findings.open(
                FindingKind::RejoinedText,
                n,
                ctx.line(n),
                format!(
                    "Unit {}: criteria {} are printed in one cell and the text could not be split into {} criteria; all of it is under {} in the draft.",
                    self.key,
                    nums.join(", "),
                    nums.len(),
                    nums[0]
                ),
                unit_target(&self.key, "learning_outcomes"),
                vec![text.to_string()],
            );
            if let Some(first) = nums.first() {
                self.push_ac(ctx, first, text, n);
            }
        }
    }

    fn finish(self, ctx: &mut Ctx) -> (Vec<LearningOutcome>, Vec<usize>) {
        let mut numbers: BTreeSet<u32> = self.acs.iter().map(|a| a.major).collect();
        numbers.extend(self.segs.iter().filter(|s| s.confirmed).map(|s| s.lo));
        let mut out = Vec::new();
        let mut lines = Vec::new();
        for lo in &numbers {
            let confirmed: Vec<&Seg> = self
                .segs
                .iter()
                .filter(|s| s.lo == *lo && s.confirmed)
                .collect();
            let chosen: Vec<&Seg> = if confirmed.is_empty() {
                self.segs.iter().filter(|s| s.lo == *lo).take(1).collect()
            } else {
                confirmed
            };
            let text = tidy(
                &chosen
                    .iter()
                    .flat_map(|s| s.text.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            let line = chosen.first().map_or(0, |s| s.line);
            if text.is_empty() {
                let at = self
                    .acs
                    .iter()
                    .find(|a| a.major == *lo)
                    .map_or(line, |a| a.line);
                ctx.findings.open(
                    FindingKind::MissingValue,
                    at,
                    ctx.line(at),
                    format!(
                        "Unit {}: learning outcome {lo} has no text in the table.",
                        self.key
                    ),
                    unit_target(&self.key, "learning_outcomes"),
                    vec![],
                );
            }
            let mut acs: Vec<&Ac> = self.acs.iter().filter(|a| a.major == *lo).collect();
            acs.sort_by_key(|a| a.minor);
            let criteria = acs
                .iter()
                .map(|a| {
                    let joined = a.text.join(" ");
                    if has_dangling_hyphen(&joined) {
                        ctx.findings.repaired(
                            FindingKind::RejoinedText,
                            a.line,
                            ctx.line(a.line),
                            format!(
                                "Unit {}: criterion {lo}.{} has a word broken at a hyphen (\"- \"); re-joined.",
                                self.key, a.minor
                            ),
                            unit_target(&self.key, "learning_outcomes"),
                            vec![tidy(&joined)],
                        );
                    }
                    AssessmentCriterion {
                        number: format!("{lo}.{}", a.minor),
                        text: tidy(&joined),
                    }
                })
                .collect();
            lines.push(line);
            out.push(LearningOutcome {
                number: lo.to_string(),
                text,
                criteria,
                indicative_content: Vec::new(),
                assessor_guidance: None,
            });
        }
        let undeclared: Vec<String> = numbers
            .iter()
            .filter(|lo| !self.segs.iter().any(|s| s.lo == **lo && s.declared))
            .map(u32::to_string)
            .collect();
        if let Some(first) = self.segs.first()
            && !undeclared.is_empty()
        {
            ctx.findings.repaired(
                FindingKind::InferredNumber,
                first.line,
                ctx.line(first.line),
                format!(
                    "Unit {}: the number of learning outcome(s) {} is not printed; taken from the numbers of their criteria.",
                    self.key,
                    undeclared.join(", ")
                ),
                unit_target(&self.key, "learning_outcomes"),
                undeclared,
            );
        }
        for s in self
            .segs
            .iter()
            .filter(|s| !s.confirmed && !s.text.is_empty())
        {
            let has_other = self.segs.iter().any(|o| o.lo == s.lo && o.confirmed);
            let has_acs = self.acs.iter().any(|a| a.major == s.lo);
            if has_other || !has_acs {
                ctx.findings.open(
                    FindingKind::Other,
                    s.line,
                    ctx.line(s.line),
                    format!(
                        "Unit {}: the text \"{}\" is printed as learning outcome {} beside another outcome's criteria and has no criteria of its own; it is left out of the draft. Check whether it is a stray copy.",
                        self.key,
                        tidy(&s.text.join(" ")),
                        s.lo
                    ),
                    unit_target(&self.key, "learning_outcomes"),
                    vec![tidy(&s.text.join(" "))],
                );
            }
        }
        (out, lines)
    }
}

const LABELS: [&str; 8] = [
    "Additional Information",
    "Unit purpose and aims",
    "Details of the relationship between the unit and relevant apprenticeship standards",
    "Details of the relationship between the unit and apprenticeship standards",
    "Location of the unit within the Ofqual subject/sector classification system",
    "Location of the unit within the subject/sector classification system",
    "Indicative Content",
    "Indicative content",
];

const LABEL_WORDS: [&str; 25] = [
    "unit",
    "purpose",
    "and",
    "aims",
    "details",
    "of",
    "the",
    "relationship",
    "between",
    "apprenticeship",
    "standards",
    "location",
    "within",
    "ofqual",
    "subject/sector",
    "classification",
    "system",
    "additional",
    "information",
    "indicative",
    "content",
    "relevant",
    "in",
    "sector",
    "subject",
];

/// Does any of the [`LABELS`] occur in `s`? One pass over the text.
fn has_label(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, c)| {
        matches!(c, b'A' | b'U' | b'D' | b'L' | b'I')
            && LABELS.iter().any(|l| b[i..].starts_with(l.as_bytes()))
    })
}

/// Each of the [`LABELS`] in turn replaced by `with`, as
/// `for l in LABELS { t = t.replace(l, with) }` does; borrowed when none occurs.
fn without_labels<'s>(s: &'s str, with: &str) -> std::borrow::Cow<'s, str> {
    if !has_label(s) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut t = s.to_string();
    for l in LABELS {
        if t.contains(l) {
            t = t.replace(l, with);
        }
    }
    std::borrow::Cow::Owned(t)
}

/// Is this word a label word or a fragment of one ("pur", "iceship", "betweer")?
fn label_word(w: &str) -> bool {
    let w: String = w
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '/')
        .flat_map(char::to_lowercase)
        .collect();
    if w.is_empty() {
        return true;
    }
    let n = w.chars().count();
    LABEL_WORDS.iter().any(|l| {
        l.contains(w.as_str())
            || (n >= 4
                && w.char_indices()
                    .last()
                    .is_some_and(|(i, _)| l.contains(&w[..i])))
            || (n >= 3
                && w.char_indices()
                    .nth(1)
                    .is_some_and(|(i, _)| l.contains(&w[i..])))
    })
}

fn labelish(piece: &str) -> bool {
    piece.split_whitespace().all(label_word)
}

/// Where the apprenticeship-standards text starts in a piece: "Not linked ..." or
/// "Level N ... Apprenticeship".
fn appr_marker(piece: &str) -> Option<usize> {
    let a = piece.find("Not linked");
    let mut b = None;
    let mut from = 0;
    while let Some(p) = piece[from..].find("Level ") {
        let at = from + p;
        let tail = &piece[at..];
        let window = tail
            .char_indices()
            .nth(100)
            .map_or(tail, |(i, _)| &tail[..i]);
        if piece[at + 6..].starts_with(|c: char| c.is_ascii_digit())
            && window.contains("Apprenticeship")
        {
            b = Some(at);
            break;
        }
        from = at + 6;
    }
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Where a sector ("15.4 - Marketing and Sales") starts in a piece.
fn sector_at(piece: &str) -> Option<usize> {
    let mut offset = 0;
    for w in piece.split(' ') {
        if let Some((a, b)) = w.split_once('.')
            && !a.is_empty()
            && a.len() <= 2
            && !b.is_empty()
            && b.len() <= 2
            && a.bytes().all(|d| d.is_ascii_digit())
            && b.bytes().all(|d| d.is_ascii_digit())
        {
            let rest = piece[offset + w.len()..].trim_start_matches([' ', '-', '–']);
            if rest.starts_with(|c: char| c.is_uppercase()) && rest.len() < 40 {
                return Some(offset);
            }
        }
        offset += w.len() + 1;
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Info {
    Purpose,
    Appr,
    Location,
}

#[derive(Default)]
struct AdditionalInfo {
    purpose: Vec<String>,
    appr: Vec<String>,
    sectors: Vec<(String, usize)>,
    /// Purpose text of a second copy of the block (L5 seed line 1217).
    seen: Vec<String>,
}

impl AdditionalInfo {
    fn add(&mut self, ctx: &mut Ctx, key: &str, piece: &str, line: usize, label: Option<Info>) {
        let piece = squash(piece);
        if piece.is_empty() || labelish(&piece) || self.seen.contains(&piece) {
            return;
        }
        self.seen.push(piece.clone());
        if let Some(at) = sector_at(&piece) {
            let (before, sector) = piece.split_at(at);
            if !before.trim().is_empty() {
                self.add(ctx, key, before, line, label);
            }
            if let Some(s) = sector_text(sector) {
                self.sectors.push((s, line));
            }
            return;
        }
        if !self.sectors.is_empty() || label == Some(Info::Location) {
            ctx.findings.repaired(
                FindingKind::Other,
                line,
                ctx.line(line),
                format!(
                    "Unit {key}: the sector cell holds \"{piece}\", which is not a sector classification; it is left out and the unit's sector is taken from the document."
                ),
                unit_target(key, "sector"),
                vec![],
            );
            return;
        }
        let in_appr = !self.appr.is_empty();
        match appr_marker(&piece) {
            Some(at) if !in_appr => {
                let (before, rest) = piece.split_at(at);
                self.push_purpose(before);
                self.appr.push(rest.to_string());
            }
            _ if in_appr || label == Some(Info::Appr) && self.purpose.is_empty() => {
                self.appr.push(piece)
            }
            _ => self.push_purpose(&piece),
        }
    }

    fn push_purpose(&mut self, piece: &str) {
        let piece = piece.trim();
        if piece.is_empty() {
            return;
        }
        // The L3 seed repeats the end of a wrapped purpose in the next cell (line 1289:
        // "... and avaluate their sales activity plans." / "evaluate their sales activity
        // plans."): skip a piece the purpose already ends with, first word aside.
        let joined = self.purpose.join(" ");
        if let Some((_, tail)) = piece.split_once(' ')
            && tail.len() > 10
            && joined.ends_with(tail)
        {
            return;
        }
        self.purpose.push(piece.to_string());
    }
}

fn info_label(first_cell: &str) -> Option<Info> {
    let c = compact(first_cell);
    if c.starts_with("unitpur") {
        Some(Info::Purpose)
    } else if c.starts_with("details") {
        Some(Info::Appr)
    } else if c.starts_with("location") {
        Some(Info::Location)
    } else {
        None
    }
}

fn is_indicative_start(line: &str) -> bool {
    if line.len() > 120 {
        return false;
    }
    let c = compact(&fold(line));
    c.len() < 40
        && (c.ends_with("content")
            || c.ends_with("conte")
            || c.ends_with("conteent")
            || c.ends_with("indicativ"))
}

fn is_guidance_start(line: &str) -> bool {
    if line.len() > 80 {
        return false;
    }
    let c = compact(line);
    c.len() < 40 && c.starts_with("assess") && c.contains("guidance")
}

fn section_number(first_cell: &str) -> Option<(u32, String)> {
    let t = first_cell.trim();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    let rest = &t[digits.len()..];
    let rest = rest.strip_prefix('.')?;
    if rest.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, rest.trim().to_string()))
}

/// Is a cell noise (a lone bullet, a stray letter, `--`)?
fn noise_cell(c: &str) -> bool {
    let t = strip_bullets(c);
    t.chars().filter(|c| c.is_alphanumeric()).count() <= 2
}

/// The text of one content or guidance line from its cells. The PDF splits a line into
/// cells in three ways: a word cut at the cell edge ("Different theories r" | "elated to ...",
/// L3 seed line 1863), a garbled start repeated by the clean cell ("improves orga" |
/// "improves organisational ...", line 1770), or a garbled copy of a column laid beside the
/// clean text (lines 1043, 2232, 2283), where the clean text is the cell at least twice as
/// long as every other.
fn line_text(parts: &[&str]) -> String {
    let parts: Vec<&str> = parts
        .iter()
        .map(|c| c.trim())
        .filter(|c| !noise_cell(c))
        .collect();
    let mut out = String::new();
    let mut glued = false;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            out.push_str(p);
        } else if p.starts_with(out.as_str()) {
            out = p.to_string();
            glued = true;
        } else if out.len() <= 40
            && out.ends_with(char::is_alphabetic)
            && p.starts_with(char::is_lowercase)
        {
            out.push_str(p);
            glued = true;
        } else {
            out.push(' ');
            out.push_str(p);
        }
    }
    if !glued
        && parts.len() >= 2
        && let Some(longest) = parts.iter().max_by_key(|p| p.len())
        && longest.len() >= 60
        && parts
            .iter()
            .filter(|p| !std::ptr::eq(**p, *longest))
            .all(|p| p.len() * 2 <= longest.len())
    {
        return longest.to_string();
    }
    out
}

struct Section {
    printed: Option<u32>,
    line: usize,
    text: Vec<String>,
    soft: bool,
}

fn sections(ctx: &Ctx, from: usize, to: usize, blank_breaks: bool) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    let mut prev_blank = false;
    for n in from..to {
        let line = ctx.line(n);
        if ctx.is_furniture(n) {
            continue;
        }
        if line.trim().is_empty() {
            prev_blank = true;
            continue;
        }
        let html = strip_html(line);
        let raw = raw_cells(&html);
        let mut parts: Vec<&str> = raw.iter().copied().filter(|c| !c.is_empty()).collect();
        let mut number = None;
        if let Some(first) = raw.first()
            && let Some((k, rest)) = section_number(first)
        {
            number = Some(k);
            parts.remove(0);
            if !rest.is_empty() {
                parts.insert(
                    0,
                    raw[0].trim().split_at(raw[0].trim().len() - rest.len()).1,
                );
            }
        }
        let text = line_text(&parts);
        let soft = blank_breaks && prev_blank && number.is_none() && !line.starts_with('\t');
        prev_blank = false;
        match number {
            Some(k) if out.last().is_none_or(|s| s.printed != Some(k)) => out.push(Section {
                printed: Some(k),
                line: n,
                text: vec![text],
                soft: false,
            }),
            _ if soft && !out.is_empty() => out.push(Section {
                printed: None,
                line: n,
                text: vec![text],
                soft: true,
            }),
            _ => match out.last_mut() {
                Some(s) => s.text.push(text),
                None => out.push(Section {
                    printed: None,
                    line: n,
                    text: vec![text],
                    soft: false,
                }),
            },
        }
    }
    out
}

/// Assign sections to LOs: by order, folding "soft" sections (an unnumbered paragraph after a
/// blank line) into the one before unless the LOs need them.
fn assign(
    ctx: &mut Ctx,
    key: &str,
    what: &str,
    mut secs: Vec<Section>,
    lo_count: usize,
) -> Vec<Section> {
    let hard = secs.iter().filter(|s| !s.soft).count();
    if hard >= lo_count || secs.len() != lo_count {
        let mut merged: Vec<Section> = Vec::new();
        for s in secs {
            match merged.last_mut() {
                Some(last) if s.soft => last.text.extend(s.text),
                _ => merged.push(s),
            }
        }
        secs = merged;
    } else if let Some(s) = secs.iter().find(|s| s.soft) {
        ctx.findings.repaired(
            FindingKind::InferredNumber,
            s.line,
            ctx.line(s.line),
            format!(
                "Unit {key}: the {what} has {hard} numbered section(s) for {lo_count} learning outcomes; the unnumbered paragraph here is read as the section of the next LO."
            ),
            unit_target(key, "learning_outcomes"),
            vec![],
        );
    }
    let printed: Vec<u32> = secs.iter().filter_map(|s| s.printed).collect();
    let expected: Vec<u32> = (1..=u32::try_from(secs.len()).unwrap_or(0)).collect();
    if !printed.is_empty() && printed != expected[..printed.len().min(expected.len())] {
        let at = secs
            .iter()
            .find(|s| s.printed.is_some())
            .map_or(0, |s| s.line);
        ctx.findings.repaired(
            FindingKind::InferredNumber,
            at,
            ctx.line(at),
            format!(
                "Unit {key}: the {what} sections are numbered {} for learning outcomes {}; assigned in order.",
                printed.iter().map(u32::to_string).collect::<Vec<_>>().join(", "),
                expected.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
            unit_target(key, "learning_outcomes"),
            vec![],
        );
    }
    if secs.len() > lo_count && lo_count > 0 {
        let extra = secs.split_off(lo_count);
        if let Some(last) = secs.last_mut() {
            for e in extra {
                last.text.extend(e.text);
            }
        }
    }
    secs
}

fn content_items(sec: &Section) -> Vec<ContentItem> {
    let mut items: Vec<String> = Vec::new();
    for t in &sec.text {
        let bulleted = strip_bullets(t).len() != t.trim().len();
        for (k, piece) in t.split(['•', '·', '\u{f0b7}']).enumerate() {
            let p = tidy(strip_bullets(piece));
            if p.is_empty() {
                continue;
            }
            let open_end = items.last().is_some_and(|last| {
                last.ends_with([',', ';', '-'])
                    || last.rsplit(' ').next().is_some_and(|w| {
                        matches!(
                            w,
                            "and"
                                | "or"
                                | "of"
                                | "to"
                                | "the"
                                | "a"
                                | "an"
                                | "on"
                                | "in"
                                | "for"
                                | "with"
                                | "by"
                                | "that"
                                | "as"
                        )
                    })
            });
            let new_item = k > 0
                || bulleted
                || items.is_empty()
                || (!open_end && !p.starts_with(|c: char| c.is_lowercase()));
            match items.last_mut() {
                Some(last) if !new_item => {
                    last.push(' ');
                    last.push_str(&p);
                }
                _ => items.push(p),
            }
        }
    }
    items
        .into_iter()
        .map(|text| ContentItem { number: None, text })
        .collect()
}

/// Parse every unit specification between `from` (Appendix 1) and `to` (Appendix 2 or end).
pub fn parse_all(ctx: &mut Ctx, tables: &Tables, from: usize, to: usize) -> Vec<UnitSpec> {
    let verbs = command_verbs(ctx, from, to);
    let mut pending: Vec<PendingLos> = Vec::new();
    // Boundaries: headings, "Unit Title" rows, group headings.
    // (line, "Unit Title" row, heading line): each an AO reference and a title.
    type Boundary = (usize, Option<(String, String)>, Option<(String, String)>);
    let mut bounds: Vec<Boundary> = Vec::new();
    for n in from..to {
        if ctx.is_furniture(n) {
            continue;
        }
        let line = ctx.line(n);
        if let Some(a) = anchor(line) {
            bounds.push((n, Some(a), None));
        } else if let Some(h) = heading(line) {
            bounds.push((n, None, Some(h)));
        } else if line
            .trim_start()
            .starts_with("Qualification Unit Specifications")
        {
            bounds.push((n, None, None));
        }
    }
    let mut out = Vec::new();
    let mut last_heading: Option<(String, String, usize)> = None;
    for (k, (n, a, h)) in bounds.iter().enumerate() {
        if let Some((ao, title)) = h {
            last_heading = Some((ao.clone(), title.clone(), *n));
            continue;
        }
        let Some((ao, title)) = a else {
            last_heading = None;
            continue;
        };
        let end = bounds.get(k + 1).map_or(to, |b| b.0);
        let heading = last_heading
            .take()
            .filter(|h| h.0 == *ao)
            .map(|h| (h.1, h.2));
        out.push(parse_unit(
            ctx,
            tables,
            (&verbs, &mut pending),
            (*n, end),
            ao,
            title,
            heading,
        ));
    }
    resolve_damaged_lo_text(ctx, from, to, pending);
    out
}

#[allow(clippy::too_many_arguments)]
fn parse_unit(
    ctx: &mut Ctx,
    tables: &Tables,
    (verbs, pending): (&BTreeSet<String>, &mut Vec<PendingLos>),
    (start, end): (usize, usize),
    ao_printed: &str,
    title_cell: &str,
    heading: Option<(String, usize)>,
) -> UnitSpec {
    let mut lines = HeaderLines {
        title: start,
        ..HeaderLines::default()
    };
    // Header rows up to the LO table.
    let mut n = start + 1;
    let mut ref_cells: Vec<String> = Vec::new();
    let (mut level, mut credit, mut glh) = (None, None, None);
    while n < end {
        let line = ctx.line(n);
        if ctx.is_furniture(n) || line.trim().is_empty() {
            n += 1;
            continue;
        }
        let c = compact(line);
        if c.contains("outcomes") {
            n += 1;
            break;
        }
        let value = super::util::first_number(
            &cells(line)
                .iter()
                .filter(|x| x.chars().any(|ch| ch.is_ascii_digit()))
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
        );
        if c.contains("ofqualref") || c.starts_with("uan") || c.contains("refno") {
            lines.reference = n;
            ref_cells = cells(line)
                .iter()
                .filter(|x| x.contains('/') || x.chars().any(|ch| ch.is_ascii_digit()))
                .map(|x| fold(x))
                .filter(|x| !compact(x).contains("refno"))
                .collect();
        } else if c.contains("learninghou") || c.contains("idedlearning") {
            lines.glh = n;
            glh = value;
        } else if c.contains("value") {
            lines.credit = n;
            credit = value;
        } else if c.contains("vel") || c.starts_with("lev") || c.contains("/el") {
            lines.level = n;
            level = value.and_then(|v| u8::try_from(v).ok());
        }
        n += 1;
    }
    let lo_start = n;
    let (key, ofqual_ref, ao) =
        resolve_ref(ctx, tables, ao_printed, start, &ref_cells, lines.reference);
    let title = unit_title(ctx, &key, title_cell, start);

    // The LO / AC table.
    let mut table = LoTable {
        key: key.clone(),
        verbs,
        segs: Vec::new(),
        acs: Vec::new(),
        cur: None,
        last_ac: None,
        cols: None,
    };
    let mut n = lo_start;
    while n < end {
        let line = ctx.line(n);
        let c = compact(line);
        if c.starts_with("additio") || c.contains("unitpur") {
            break;
        }
        if !(ctx.is_furniture(n)
            || line.trim().is_empty()
            || c.contains("ofqualref")
            || c.contains("learningoutcomes"))
        {
            table.row(ctx, n);
        }
        n += 1;
    }
    let (mut los, lo_lines) = table.finish(ctx);

    // Additional Information.
    let mut info = AdditionalInfo::default();
    let mut label = None;
    while n < end {
        let line = ctx.line(n);
        if ctx.is_furniture(n) || line.trim().is_empty() {
            n += 1;
            continue;
        }
        if is_indicative_start(line) && !compact(line).contains("purpose") {
            n += 1;
            break;
        }
        let raw = raw_cells(line);
        let line_label = raw
            .iter()
            .find(|c| !c.is_empty())
            .and_then(|c| info_label(c));
        // Content without an "Indicative Content" row (L3 seed line 1043): once the sector
        // is known, a line of prose starts the content.
        if !info.sectors.is_empty()
            && line_label.is_none()
            && cells(line).iter().any(|c| {
                let t = without_labels(c, " ");
                t.len() > 60 && !labelish(&t)
            })
        {
            break;
        }
        if line_label.is_some() {
            label = line_label;
        }
        let text = strip_html(line);
        let text = without_labels(&text, "\t");
        for piece in text.split('\t') {
            info.add(ctx, &key, piece, n, label);
        }
        n += 1;
    }
    // Indicative content, then assessor guidance.
    let ic_start = n;
    while n < end && !is_guidance_start(ctx.line(n)) {
        n += 1;
    }
    let ic_end = n;
    let g_start = (n + 1).min(end);
    let mut g_end = end;
    for m in g_start..end {
        if ctx
            .line(m)
            .trim_start()
            .starts_with("Additional Information")
        {
            g_end = m;
            duplicate_block(ctx, &key, m, end, &info.purpose.join(" "));
            break;
        }
    }
    let lo_count = los.len();
    let ic = assign(
        ctx,
        &key,
        "indicative content",
        sections(ctx, ic_start, ic_end, false),
        lo_count,
    );
    let guidance = assign(
        ctx,
        &key,
        "assessor guidance",
        sections(ctx, g_start, g_end, true),
        lo_count,
    );
    for (lo, s) in los.iter_mut().zip(ic.iter()) {
        lo.indicative_content = content_items(s);
    }
    let bare: Vec<String> = los
        .iter()
        .filter(|lo| lo.indicative_content.is_empty())
        .map(|lo| lo.number.clone())
        .collect();
    if !bare.is_empty() && bare.len() < los.len() {
        ctx.findings.repaired(
            FindingKind::MissingValue,
            ic_start,
            ctx.line(ic_start),
            format!(
                "Unit {key}: the indicative content has no section for learning outcome(s) {} ; the PDF lost the section numbers, so their content stays under the LO before it, as printed. Check and move it if needed.",
                bare.join(", ")
            ),
            unit_target(&key, "learning_outcomes"),
            bare,
        );
    }
    // Simulation: the specification's "Simulation" section (L3 seed line 445, L5 seed line
    // 378) says evidence may come from simulation only "where this is clearly stated in the
    // assessor guidance for the unit". So a unit permits simulation exactly when its assessor
    // guidance says so (L3 seed lines 1523 and 1823: "as part of a realistic simulated
    // activity"); every other unit is NotPermitted.
    let mut simulation = Simulation::NotPermitted;
    for (lo, s) in los.iter_mut().zip(guidance.iter()) {
        let text = tidy(&s.text.join(" "));
        if text.to_lowercase().contains("simulat") {
            simulation = Simulation::Permitted;
        }
        if !text.is_empty() {
            lo.assessor_guidance = Some(text);
        }
    }
    let purpose = Some(tidy(&info.purpose.join(" "))).filter(|p| !p.is_empty());
    // Checked once every unit is read (one pass over the words of the appendix); the
    // findings go here in the list, as if made now.
    pending.push(PendingLos {
        at: ctx.findings.0.len(),
        key: key.clone(),
        los: los
            .iter()
            .zip(&lo_lines)
            .map(|(lo, line)| (lo.number.clone(), lo.text.clone(), *line))
            .collect(),
    });
    let apprenticeship_text = Some(tidy(&info.appr.join(" "))).filter(|p| !p.is_empty());
    let sector = info
        .sectors
        .iter()
        .find(|s| s.0.ends_with("Sales"))
        .or(info.sectors.first())
        .map(|s| s.0.clone());
    UnitSpec {
        anchor: start,
        key,
        ofqual_ref,
        ao,
        title,
        heading,
        level,
        credit,
        glh,
        lines,
        los,
        purpose,
        apprenticeship_text,
        sector,
        simulation,
    }
}

/// Learning outcome text the PDF cut ("Understand contin professional deve (CPD)", L3 seed
/// line 2124): a word that appears nowhere else in the unit but starts a longer word that
/// does, or an unclosed bracket. Such text cannot be repaired from this document: open.
fn damaged_lo_text(
    ctx: &Ctx,
    findings: &mut crate::import::Findings,
    key: &str,
    los: &[(String, String, usize)],
    words: &LoWords,
) {
    for (number, text, line) in los {
        let own = lowercase_words(text);
        let cut: Vec<String> = own
            .iter()
            .filter(|w| w.len() >= 3)
            .filter(|w| {
                let here = own.iter().filter(|o| o == w).count();
                words.count(w) <= here && words.has_longer(w)
            })
            .cloned()
            .collect();
        let unclosed = text.matches('(').count() != text.matches(')').count();
        if cut.is_empty() && !unclosed {
            continue;
        }
        findings.open(
            FindingKind::Other,
            *line,
            ctx.line(*line),
            format!(
                "Unit {key}: learning outcome {} reads \"{}\", which the PDF seems to have cut ({}); the document gives no other copy of it. Correct the text.",
                number,
                text,
                if cut.is_empty() {
                    "an unclosed bracket".to_string()
                } else {
                    format!("words cut short: {}", cut.join(", "))
                }
            ),
            unit_target(key, &format!("outcome {}", number)),
            vec![text.clone()],
        );
    }
}

/// The learning outcomes of one unit, to check for cut words once the whole appendix is
/// read; their findings belong at index `at` of the findings list.
pub struct PendingLos {
    at: usize,
    key: String,
    /// (number, text, line) per learning outcome.
    los: Vec<(String, String, usize)>,
}

/// Run [`damaged_lo_text`] for every unit, counting only the words the learning outcomes
/// use, in one pass over lines `from..to`, and put the findings where they would have been
/// made.
fn resolve_damaged_lo_text(ctx: &mut Ctx, from: usize, to: usize, pending: Vec<PendingLos>) {
    let mut words = LoWords::new(
        pending
            .iter()
            .flat_map(|p| p.los.iter())
            .flat_map(|lo| lowercase_words(&lo.1)),
    );
    words.scan((from..to).map(|n| ctx.line(n)));
    for p in pending.iter().rev() {
        let mut found = crate::import::Findings::default();
        damaged_lo_text(ctx, &mut found, &p.key, &p.los, &words);
        if !found.0.is_empty() {
            ctx.findings.0.splice(p.at..p.at, found.0);
        }
    }
}

fn lowercase_words(t: &str) -> Vec<String> {
    t.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// For a set of lower-case query words (the words of the learning outcomes, three bytes or
/// more): how often each occurs among the words of some lines (as [`lowercase_words`] cuts
/// them), and whether a longer word starts with it. Only these words are looked for: a
/// document word is matched through an index by its first three letters.
struct LoWords {
    /// The query words, sorted and distinct.
    queries: Vec<String>,
    count: Vec<usize>,
    longer: Vec<bool>,
    /// For three ASCII lower-case letters: the range of `queries` starting with them.
    by_prefix: Vec<(u32, u32)>,
    /// Per query: its length and its first eight bytes (big-endian, zero-padded).
    heads: Vec<(usize, u64)>,
}

/// Eight bytes of `b` from `at`, big-endian; `b` must hold them (callers pad).
#[inline]
fn chunk8(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(w)
}

/// Mask keeping the first `r` bytes (at most eight) of a big-endian chunk.
#[inline]
fn keep(r: usize) -> u64 {
    if r >= 8 {
        u64::MAX
    } else {
        !(u64::MAX >> (8 * r))
    }
}

/// Index of three ASCII letters (lower-cased by the caller) in [`LoWords::by_prefix`].
#[inline]
fn tri(a: u8, b: u8, c: u8) -> Option<usize> {
    let f = |x: u8| x.wrapping_sub(b'a');
    let (a, b, c) = (f(a), f(b), f(c));
    (a < 26 && b < 26 && c < 26)
        .then(|| usize::from(a) * 676 + usize::from(b) * 26 + usize::from(c))
}

impl LoWords {
    fn new(words: impl Iterator<Item = String>) -> LoWords {
        let mut queries: Vec<String> = words.filter(|w| w.len() >= 3).collect();
        queries.sort_unstable();
        queries.dedup();
        let mut by_prefix = vec![(0u32, 0u32); 26 * 26 * 26];
        for (i, q) in queries.iter().enumerate() {
            let b = q.as_bytes();
            if let Some(t) = tri(b[0], b[1], b[2]) {
                let i = u32::try_from(i).unwrap_or(u32::MAX);
                let r = &mut by_prefix[t];
                if r.1 == 0 {
                    *r = (i, i + 1);
                } else {
                    r.1 = i + 1;
                }
            }
        }
        let n = queries.len();
        let heads = queries
            .iter()
            .map(|q| {
                let mut w = [0u8; 8];
                let k = q.len().min(8);
                w[..k].copy_from_slice(&q.as_bytes()[..k]);
                (q.len(), u64::from_be_bytes(w))
            })
            .collect();
        LoWords {
            heads,
            queries,
            count: vec![0; n],
            longer: vec![false; n],
            by_prefix,
        }
    }

    fn scan<'a>(&mut self, lines: impl Iterator<Item = &'a str>) {
        if self.queries.is_empty() {
            return;
        }
        let mut buf: Vec<u8> = Vec::new();
        for line in lines {
            // Non-ASCII characters that are not letters (bullets, dashes) end words: cut the
            // line there, and take the pure-ASCII pieces the fast way.
            if line.is_ascii() {
                self.piece(line, false, &mut buf);
                continue;
            }
            let bytes = line.as_bytes();
            let (mut piece, mut slow, mut i) = (0, false, 0);
            while let Some(p) = bytes[i..].iter().position(|&b| b >= 0x80) {
                let at = i + p;
                let c = line[at..].chars().next().unwrap_or(' ');
                if c.is_alphabetic() {
                    slow = true;
                } else {
                    self.piece(&line[piece..at], slow, &mut buf);
                    piece = at + c.len_utf8();
                    slow = false;
                }
                i = at + c.len_utf8();
            }
            self.piece(&line[piece..], slow, &mut buf);
        }
    }

    /// The words of a piece of a line; `slow` when it holds non-ASCII letters.
    fn piece(&mut self, t: &str, slow: bool, buf: &mut Vec<u8>) {
        if slow {
            for_each_word(t, |w| self.word(&w.to_lowercase()));
            return;
        }
        buf.clear();
        buf.extend_from_slice(t.as_bytes());
        buf.extend_from_slice(&[0; 8]);
        ascii_words(buf, t.len(), |s, e| {
            if e - s < 3 {
                return;
            }
            let w = &buf[s..e];
            let Some(t) = tri(w[0] | 0x20, w[1] | 0x20, w[2] | 0x20) else {
                return;
            };
            let (lo, hi) = self.by_prefix[t];
            if lo == hi {
                return;
            }
            let head = chunk8(buf, s) | 0x2020_2020_2020_2020;
            for k in lo as usize..hi as usize {
                let q = self.queries[k].as_bytes();
                let (qlen, qhead) = self.heads[k];
                if qlen <= w.len()
                    && head & keep(qlen) == qhead
                    && (qlen <= 8 || q[8..].iter().zip(&w[8..]).all(|(x, y)| *x == *y | 0x20))
                {
                    if q.len() == w.len() {
                        self.count[k] += 1;
                    } else {
                        self.longer[k] = true;
                    }
                }
            }
        });
    }

    /// One lower-cased word, any characters: compared with every query.
    fn word(&mut self, w: &str) {
        if w.len() < 3 {
            return;
        }
        for (k, q) in self.queries.iter().enumerate() {
            if w == q {
                self.count[k] += 1;
            } else if w.len() > q.len() && w.starts_with(q.as_str()) {
                self.longer[k] = true;
            }
        }
    }

    fn index(&self, w: &str) -> Option<usize> {
        self.queries.binary_search_by(|q| q.as_str().cmp(w)).ok()
    }

    /// How many times the lower-case query word `w` occurs.
    fn count(&self, w: &str) -> usize {
        self.index(w).map_or(0, |k| self.count[k])
    }

    /// Does a longer word start with the lower-case query word `w`?
    fn has_longer(&self, w: &str) -> bool {
        self.index(w).is_some_and(|k| self.longer[k])
    }
}

/// Call `f(start, end)` for every maximal run of ASCII letters in `b[..n]`, where `b` is
/// ASCII and holds at least eight zero bytes after `n`: a bit mask per 64 bytes (eight bytes
/// classified at a time), then one step per word rather than a branch per byte.
fn ascii_words(b: &[u8], n: usize, mut f: impl FnMut(usize, usize)) {
    const LOW: u64 = 0x2020_2020_2020_2020;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut pending: Option<usize> = None;
    let mut base = 0;
    while base < n {
        let mut m = 0u64;
        let mut k = 0;
        while k < 8 && base + 8 * k < n {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[base + 8 * k..base + 8 * k + 8]);
            // Bytes below 0x80: the high bit of `y + 0x1f` says y >= 'a', of `y + 0x05`
            // says y > 'z'; no carry crosses a byte.
            let y = u64::from_le_bytes(w) | LOW;
            let hits = y.wrapping_add(0x1f1f_1f1f_1f1f_1f1f)
                & !y.wrapping_add(0x0505_0505_0505_0505)
                & HIGH;
            m |= ((hits >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) << (8 * k);
            k += 1;
        }
        let prev = (m << 1) | u64::from(pending.is_some());
        let mut starts = m & !prev;
        let mut ends = !m & prev;
        if n - base < 64 {
            ends &= (1u64 << (n - base)) - 1;
        }
        loop {
            if pending.is_none() {
                if starts == 0 {
                    break;
                }
                pending = Some(base + starts.trailing_zeros() as usize);
                starts &= starts - 1;
            }
            if ends == 0 {
                break;
            }
            let e = base + ends.trailing_zeros() as usize;
            ends &= ends - 1;
            if let Some(s) = pending.take() {
                f(s, e);
            }
        }
        base += 64;
    }
    if let Some(s) = pending {
        f(s, n);
    }
}

/// Call `f` with every maximal run of alphabetic characters in `t`, as
/// `t.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty())` gives them.
fn for_each_word(t: &str, mut f: impl FnMut(&str)) {
    let mut start: Option<usize> = None;
    for (i, c) in t.char_indices() {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                f(&t[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        f(&t[s..]);
    }
}

/// The unit specification printed a second time (L5 seed lines 1216-1230).
fn duplicate_block(ctx: &mut Ctx, key: &str, at: usize, end: usize, purpose: &str) {
    let second = (at..end)
        .find(|m| info_label(ctx.line(*m)) == Some(Info::Purpose))
        .map(|m| {
            let raw = cells(ctx.line(m));
            squash(&raw[1..].join(" "))
        })
        .unwrap_or_default();
    let same = squash(purpose) == second;
    let message = format!(
        "Unit {key}: Additional Information, Indicative Content and Assessor Guidance are printed a second time from this line; {}",
        if same {
            "the purpose is the same, so the first copy is used and the second ignored."
        } else {
            "the second copy differs from the first; the first copy is in the draft, check the second."
        }
    );
    if same {
        ctx.findings.repaired(
            FindingKind::Other,
            at,
            ctx.line(at),
            message,
            unit_target(key, "learning_outcomes"),
            vec![],
        );
    } else {
        ctx.findings.open(
            FindingKind::Other,
            at,
            ctx.line(at),
            message,
            unit_target(key, "learning_outcomes"),
            vec![second],
        );
    }
}

fn unit_title(ctx: &mut Ctx, key: &str, cell: &str, line: usize) -> String {
    let mut t = squash(cell);
    // "L4S3 L4S3 Continuing ..." (L3 seed line 2118): the reference printed twice.
    if let Some((first, rest)) = t.split_once(' ')
        && ao_ref(first).is_some()
    {
        t = rest.to_string();
    }
    let clean = t
        .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '(')
        .to_string();
    if clean != t {
        ctx.findings.repaired(
            FindingKind::RejoinedText,
            line,
            ctx.line(line),
            format!("Unit {key}: stray punctuation before the title removed."),
            unit_target(key, "title"),
            vec![clean.clone()],
        );
    }
    clean
}

/// Resolve the unit's Ofqual reference and AO reference against the tables.
fn resolve_ref(
    ctx: &mut Ctx,
    tables: &Tables,
    ao_printed: &str,
    title_line: usize,
    ref_cells: &[String],
    ref_line: usize,
) -> (String, Option<String>, String) {
    let valid_cell = ref_cells.iter().find_map(|c| UnitRef::parse(c).ok());
    let joined = ref_cells.concat();
    let rows_for = |ao: &str| -> Vec<&UnitRow> {
        tables
            .units
            .iter()
            .filter(|r| r.ao == ao && r.kind != TableKind::Ksb)
            .collect()
    };
    let mut chosen = valid_cell.clone();
    if chosen.is_none()
        && let Ok(r) = UnitRef::parse(&joined)
    {
        ctx.findings.repaired(
            FindingKind::RejoinedText,
            ref_line,
            ctx.line(ref_line),
            format!(
                "Unit {ao_printed}: the Ofqual reference is split across cells ({}); re-joined as {r}.",
                ref_cells.join(" | ")
            ),
            unit_target(r.as_str(), "ofqual_ref"),
            vec![r.to_string()],
        );
        chosen = Some(r);
    }
    // The AO reference: "LSB4" (L5 seed line 566) is not in any table; the tables give the AO
    // reference of the same Ofqual reference.
    let mut ao = ao_printed.to_string();
    if rows_for(&ao).is_empty()
        && let Some(r) = &chosen
        && let Some(row) = tables
            .units
            .iter()
            .find(|x| UnitRef::parse(&x.ref_raw).is_ok_and(|u| u == *r) && ao_ref(&x.ao).is_some())
    {
        ctx.findings.repaired(
            FindingKind::InvalidIdentifier,
            title_line,
            ctx.line(title_line),
            format!(
                "The AO unit reference is printed '{ao_printed}'; the {} gives {} for the same Ofqual reference {r}.",
                row.source(),
                row.ao
            ),
            unit_target(r.as_str(), "ao_ref"),
            vec![row.ao.clone(), ao_printed.to_string()],
        );
        ao = row.ao.clone();
    }
    if ao != ao_printed {
        // already recorded
    } else if ao_printed.starts_with("ISP") && ctx.line(title_line).contains("ISP/") {
        ctx.findings.repaired(
            FindingKind::InvalidIdentifier,
            title_line,
            ctx.line(title_line),
            format!("The AO unit reference is printed with a slash; normalised to {ao}."),
            None,
            vec![ao.clone()],
        );
    }
    if chosen.is_none() {
        let seen = if ref_line > 0 {
            ctx.line(ref_line)
        } else {
            ctx.line(title_line)
        };
        let from_tables: BTreeSet<String> = rows_for(&ao)
            .iter()
            .filter_map(|r| UnitRef::parse(&r.ref_raw).ok())
            .map(|r| r.to_string())
            .collect();
        let fallback = format!("ISP:{ao}");
        let printed = if joined.is_empty() {
            "nothing".to_string()
        } else {
            format!("'{}'", ref_cells.join(" "))
        };
        if from_tables.len() == 1 {
            let r = from_tables.iter().next().cloned().unwrap_or_default();
            let src: Vec<String> = rows_for(&ao).iter().map(|x| x.source()).collect();
            ctx.findings.repaired(
                FindingKind::InvalidIdentifier,
                if ref_line > 0 { ref_line } else { title_line },
                seen,
                format!(
                    "Unit {ao}: the Ofqual reference is printed {printed}, not a valid unit reference; the {} give {r} for {ao}.",
                    src.join("; ")
                ),
                unit_target(&r, "ofqual_ref"),
                vec![r.clone(), ref_cells.join(" ")],
            );
            chosen = UnitRef::parse(&r).ok();
        } else {
            let mut cands: Vec<String> = ref_cells.to_vec();
            cands.extend(from_tables.iter().cloned());
            cands.extend(rows_for(&ao).iter().map(|r| r.ref_raw.clone()));
            cands.dedup();
            let table_lines: Vec<String> = rows_for(&ao)
                .iter()
                .map(|r| format!("{} ('{}')", r.source(), r.ref_raw))
                .collect();
            ctx.findings.open(
                FindingKind::InvalidIdentifier,
                if ref_line > 0 { ref_line } else { title_line },
                seen,
                format!(
                    "Unit {ao}: the Ofqual reference is printed {printed}, which is not a valid unit reference (L/NNN/NNNN), and no table of the document gives a valid one{}. The draft keys the unit as {fallback} with no Ofqual reference until the reference is corrected.",
                    if table_lines.is_empty() { String::new() } else { format!(" ({})", table_lines.join("; ")) }
                ),
                unit_target(&fallback, "ofqual_ref"),
                cands,
            );
            return (fallback, None, ao);
        }
    }
    match chosen {
        Some(r) => (r.to_string(), Some(r.to_string()), ao),
        None => (format!("ISP:{ao}"), None, ao),
    }
}

/// Does the whole header hold a sector at all? (used by the caller for the spec's sector)
pub fn sector_of(units: &[UnitSpec]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in units.iter().filter_map(|u| u.sector.clone()) {
        match counts.iter_mut().find(|c| c.0 == s) {
            Some(c) => c.1 += 1,
            None => counts.push((s, 1)),
        }
    }
    counts.into_iter().max_by_key(|c| c.1).map(|c| c.0)
}

/// Clean an apprenticeship-standards text for display: the words of the specification.
pub fn display(s: &str) -> String {
    tidy(&strip_html(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`LoWords`] agrees with counting every word in a map.
    #[test]
    fn lo_words_match_a_full_count() {
        let lines = [
            "Understand contin professional deve (CPD)\tcontinuing DEVELOPMENT",
            "• Continuing\tprofessional – development, deve-lopment and тот Тот",
            "a ab abc abcd abcdefghijklmnop abcdefghijklmnopq ABCDEFGHIJKLMNOP",
            "straße STRASSE ünder under undermine Ünderstand",
            "x",
            "",
        ];
        let mut full: std::collections::BTreeMap<String, usize> = Default::default();
        for l in lines {
            for w in lowercase_words(l) {
                *full.entry(w).or_insert(0) += 1;
            }
        }
        let queries: Vec<String> = full.keys().cloned().collect();
        let mut words = LoWords::new(queries.iter().cloned().chain(["zzz".to_string()]));
        words.scan(lines.iter().copied());
        for w in queries.iter().chain(&["zzz".to_string()]) {
            if w.len() < 3 {
                continue;
            }
            let longer = full
                .range(w.clone()..)
                .take_while(|(v, _)| v.starts_with(w.as_str()))
                .any(|(v, _)| v.len() > w.len());
            assert_eq!(words.count(w), full.get(w).copied().unwrap_or(0), "{w}");
            assert_eq!(words.has_longer(w), longer, "{w}");
        }
    }

    #[test]
    fn cells_and_labels() {
        assert!(matches!(ac_cell("1.1"), Some(AcCell::One(_))));
        assert!(matches!(ac_cell("1.2 1.3 1.4"), Some(AcCell::Many(v)) if v.len() == 3));
        assert!(matches!(
            ac_cell("1.1 Explain why"),
            Some(AcCell::Merged(..))
        ));
        assert!(ac_cell("1.").is_none());
        assert_eq!(
            lo_number("1. Understand effective"),
            (Some(1), "Understand effective".into())
        );
        assert_eq!(lo_number("2"), (Some(2), String::new()));
        assert_eq!(lo_number("communication"), (None, "communication".into()));
        assert!(labelish("of the un ubject/sec ation syste"));
        assert!(labelish("Details o"));
        assert!(!labelish("Not linked to the apprenticeship standard."));
        assert!(!labelish("15.4 - Marketing and Sales"));
        assert_eq!(sector_at("processes 15.4 - Marketing and Sales"), Some(10));
        assert_eq!(appr_marker("organisation. Not linked to it"), Some(14));
        assert!(anchor("Un\tit Title\tL3S1 Personal Motivation").is_some());
        assert!(anchor("11.0\tit Title\t1202 1\tlogatists").is_none());
        assert!(heading("L3B1 Understand Sales Communication").is_some());
    }
}
