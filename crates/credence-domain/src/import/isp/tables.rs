//! The tables before Appendix 1 (Key Facts, Award structures, Apprenticeship Diploma units,
//! the unit overview by group) and the KSB mapping table of Appendix 3.
//!
//! Columns are read from each table's header, not assumed: the Apprenticeship Diploma table
//! (L3 seed line 302) puts TQT before GLH, headers spell TQT "тот" or "τατ" (lines 246, 302)
//! and two overview headers leave the Level column unnamed (lines 336, 348).

use super::Ctx;
use super::util::{ao_ref, compact, fold, looks_like_qan, looks_like_unit_ref};
use crate::import::text::{cells, number, raw_cells, squash};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableKind {
    /// "Level 3 Award in ..." structure tables.
    Award,
    /// "BUSINESS units" ... overview tables.
    Group,
    /// The units prescribed for the Apprenticeship Diploma.
    Apprenticeship,
    /// Appendix 3: KSB mapping.
    Ksb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Ref,
    Ao,
    Title,
    Level,
    Glh,
    Tqt,
    Credit,
    Ksb,
    Other,
}

/// One row of a unit table.
#[derive(Debug, Clone)]
pub struct UnitRow {
    pub kind: TableKind,
    /// Award title, group name, or the table's heading.
    pub context: String,
    pub line: usize,
    /// The Ofqual reference as printed (homoglyphs folded).
    pub ref_raw: String,
    /// The AO reference as printed.
    pub ao: String,
    pub title: String,
    pub level: Option<u8>,
    /// The level had slid into the title cell ("derstand Customer Behaviours 3").
    pub level_in_title: bool,
    pub glh: Option<u32>,
    pub tqt: Option<u32>,
    pub credit: Option<u32>,
    pub ksb: String,
}

impl UnitRow {
    /// Where the row is, in words, for findings.
    pub fn source(&self) -> String {
        match self.kind {
            TableKind::Award => format!("'{}' table, line {}", self.context, self.line),
            TableKind::Group => {
                format!("{} units overview table, line {}", self.context, self.line)
            }
            TableKind::Apprenticeship => {
                format!("Apprenticeship Diploma unit table, line {}", self.line)
            }
            TableKind::Ksb => format!("KSB mapping table (Appendix 3), line {}", self.line),
        }
    }
}

/// One row of the Key Facts table (or a qualification row elsewhere before Appendix 1).
#[derive(Debug, Clone)]
pub struct QualRow {
    pub line: usize,
    pub title: String,
    /// Line of a title continuation the PDF put on the next line.
    pub continued_on: Option<usize>,
    pub qan_raw: String,
    pub credit: String,
    pub glh: String,
    pub tqt: String,
}

#[derive(Debug, Default)]
pub struct Tables {
    pub units: Vec<UnitRow>,
    pub quals: Vec<QualRow>,
    /// Award headings with their lines ("Level 3 Award in Solving Problems").
    pub award_headings: Vec<(String, usize)>,
    /// Group names in the order of the overview ("BUSINESS", "CORE"...).
    pub groups: Vec<String>,
}

fn column(name: &str) -> Col {
    let c = compact(&fold(name)).to_uppercase();
    if c.starts_with("OFQUALUNITREF") {
        Col::Ref
    } else if c.starts_with("ISPUNITREF") || c.starts_with("UNITREF") {
        Col::Ao
    } else if c.contains("TITLE") {
        Col::Title
    } else if c == "LEVEL" {
        Col::Level
    } else if c == "GLH" {
        Col::Glh
    } else if c.len() == 3 && c.starts_with('T') && c.ends_with('T') {
        // "TQT", and the look-alikes "тот" / "τατ" fold to TOT / TAT.
        Col::Tqt
    } else if c.starts_with("CREDIT") {
        Col::Credit
    } else if c == "KSB" {
        Col::Ksb
    } else {
        Col::Other
    }
}

fn header(line: &str) -> Option<Vec<Col>> {
    if !line.trim_start().starts_with("Ofqual") {
        return None;
    }
    let raw = raw_cells(line);
    if column(raw.first()?) != Col::Ref {
        return None;
    }
    let mut cols: Vec<Col> = raw.iter().map(|c| column(c)).collect();
    // An unnamed column after the title is the Level column (lines 336, 348).
    if !cols.contains(&Col::Level)
        && let Some(t) = cols.iter().position(|c| *c == Col::Title)
        && let Some(slot) = cols.get_mut(t + 1)
        && *slot == Col::Other
        && raw.get(t + 1).is_some_and(|c| c.is_empty())
    {
        *slot = Col::Level;
    }
    Some(cols)
}

fn cell<'a>(raw: &[&'a str], cols: &[Col], want: Col) -> &'a str {
    cols.iter()
        .position(|c| *c == want)
        .and_then(|i| raw.get(i))
        .copied()
        .unwrap_or("")
}

fn context_of(line: &str) -> Option<(TableKind, String)> {
    let t = line.trim();
    if t.is_empty() || line.contains('\t') {
        return None;
    }
    if t.contains(" Award in ") && (t.starts_with("Level") || t.starts_with("ISP")) && t.len() < 120
    {
        return Some((TableKind::Award, squash(t)));
    }
    if let Some(group) = t.strip_suffix(" units")
        && !group.is_empty()
        && group.bytes().all(|b| b.is_ascii_uppercase())
    {
        return Some((TableKind::Group, group.to_string()));
    }
    if t.contains("(Apprenticeship Diploma)") && !t.starts_with("To ") && t.len() < 80 {
        return Some((TableKind::Apprenticeship, squash(t)));
    }
    if t.starts_with("Appendix 3") {
        return Some((TableKind::Ksb, squash(t)));
    }
    None
}

/// Scan lines `1..body_end` (everything before Appendix 1) and `ksb_from..` for tables.
pub fn scan(ctx: &Ctx, body_end: usize, ksb_from: Option<usize>) -> Tables {
    let mut out = Tables::default();
    let mut context: Option<(TableKind, String)> = None;
    let mut cols: Option<Vec<Col>> = None;
    let ranges = [
        (1, body_end),
        (ksb_from.unwrap_or(usize::MAX), ctx.len() + 1),
    ];
    for (from, to) in ranges {
        for n in from..to {
            let line = ctx.line(n);
            if ctx.is_furniture(n) || line.trim().is_empty() {
                continue;
            }
            if let Some(c) = context_of(line) {
                if c.0 == TableKind::Award {
                    out.award_headings.push((c.1.clone(), n));
                }
                if c.0 == TableKind::Group && !out.groups.contains(&c.1) {
                    out.groups.push(c.1.clone());
                }
                context = Some(c);
                cols = None;
                continue;
            }
            if let Some(h) = header(line) {
                cols = Some(h);
                continue;
            }
            if n < body_end && qual_row(ctx, n, &mut out.quals) {
                continue;
            }
            let (Some(cs), Some((kind, name))) = (&cols, &context) else {
                continue;
            };
            let raw = raw_cells(line);
            let ref_raw = fold(cell(&raw, cs, Col::Ref));
            let ao_raw = cell(&raw, cs, Col::Ao);
            if ao_ref(ao_raw).is_some() || looks_like_unit_ref(&ref_raw) {
                out.units
                    .push(unit_row(*kind, name, n, &raw, cs, ref_raw, ao_raw));
                continue;
            }
            // A KSB cell continued on its own line (L3 line 2345).
            let ksb = cell(&raw, cs, Col::Ksb);
            if *kind == TableKind::Ksb
                && !ksb.is_empty()
                && cells(line).len() == 1
                && let Some(last) = out.units.last_mut()
            {
                last.ksb.push(' ');
                last.ksb.push_str(ksb);
                continue;
            }
            // Anything else (a TOTAL row, prose) ends the table.
            cols = None;
        }
    }
    out
}

fn unit_row(
    kind: TableKind,
    context: &str,
    n: usize,
    raw: &[&str],
    cs: &[Col],
    ref_raw: String,
    ao_raw: &str,
) -> UnitRow {
    let mut title = squash(cell(raw, cs, Col::Title));
    let level_cell = cell(raw, cs, Col::Level);
    let mut level = number(level_cell).and_then(|l| u8::try_from(l).ok());
    let mut level_in_title = false;
    if level.is_none()
        && let Some((head, tail)) = title.rsplit_once(' ')
        && tail.len() == 1
        && tail.bytes().all(|b| b.is_ascii_digit())
    {
        level = tail.parse().ok();
        title = head.to_string();
        level_in_title = true;
    }
    UnitRow {
        kind,
        context: context.to_string(),
        line: n,
        ref_raw: ref_raw.trim().to_string(),
        ao: ao_ref(ao_raw).unwrap_or_else(|| ao_raw.trim().to_string()),
        title,
        level,
        level_in_title,
        glh: number(cell(raw, cs, Col::Glh)),
        tqt: number(cell(raw, cs, Col::Tqt)),
        credit: number(cell(raw, cs, Col::Credit)),
        ksb: squash(cell(raw, cs, Col::Ksb)),
    }
}

/// A qualification row: a cell shaped like a QAN with the title before it and credit, GLH and
/// TQT after it (the Key Facts column order).
fn qual_row(ctx: &Ctx, n: usize, out: &mut Vec<QualRow>) -> bool {
    let line = ctx.line(n);
    let cs = cells(line);
    let Some(q) = cs.iter().position(|c| looks_like_qan(c)) else {
        return false;
    };
    if q == 0 {
        return false;
    }
    let mut title = squash(&cs[..q].join(" "));
    let mut continued_on = None;
    if title.matches('(').count() > title.matches(')').count() {
        // "ISP L3 Diploma in Sales (Apprenticeship" + next line "Diploma)" (L3 lines 166-167).
        let mut m = n + 1;
        while m <= ctx.len() && ctx.line(m).trim().is_empty() {
            m += 1;
        }
        let next = cells(ctx.line(m));
        if next.len() == 1 && next[0].ends_with(')') {
            title = format!("{title} {}", next[0]);
            continued_on = Some(m);
        }
    }
    let get = |i: usize| cs.get(q + i).map(|s| squash(s)).unwrap_or_default();
    out.push(QualRow {
        line: n,
        title,
        continued_on,
        qan_raw: cs[q].trim().to_string(),
        credit: get(1),
        glh: get(2),
        tqt: get(3),
    });
    true
}
