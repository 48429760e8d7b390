//! The achievement log as a PDF to print or send.
//!
//! The log is laid out by hand on A4 portrait pages with the PDF built-in fonts
//! Helvetica and Helvetica-Bold, so no font file is embedded and the text stays
//! extractable (`pdftotext`, copy and paste, screen readers).
//!
//! The built-in fonts use WinAnsi (Windows-1252) encoding. Text is first folded
//! into that set by [`sanitize`]: Latin-1 letters such as "ë" or "í" are kept,
//! typographic dashes and quotes become their ASCII forms, other Latin letters
//! lose their accents ("ő" becomes "o") and anything else becomes "?".

use printpdf::{
    BuiltinFont, Color, Greyscale, Line, LinePoint, Op, PaintMode, PdfDocument, PdfFontHandle,
    PdfPage, PdfSaveOptions, Point, Pt, Rect, TextItem,
};

impl AchievementLog {
    /// The log with its dates and times as people in the UK read them ("30 November 2026 at
    /// 14:05", London time), for the page and the PDF alike.
    pub fn in_uk_words(mut self) -> Self {
        use crate::format::{uk_date, uk_date_time};
        self.generated_at = uk_date_time(&self.generated_at);
        for u in &mut self.units {
            if let Some((when, rest)) = u
                .status
                .strip_prefix("Signed off ")
                .and_then(|s| s.split_once(';'))
            {
                u.status = format!("Signed off {};{rest}", uk_date(when));
            }
            for c in &mut u.criteria {
                if !c.date.trim().is_empty() {
                    c.date = uk_date(&c.date);
                }
            }
            for d in &mut u.declarations {
                if !d.at.trim().is_empty() {
                    d.at = uk_date_time(&d.at);
                }
            }
        }
        self
    }
}

/// An achievement log, ready to render.
#[derive(Debug, Clone, Default)]
pub struct AchievementLog {
    /// "Achievement log: Certificate and Diploma" or "Achievement log: Award".
    pub title: String,
    pub learner_name: String,
    pub learner_uln: Option<String>,
    pub centre_name: String,
    /// e.g. "610/3788/6 ISP Level 3 Diploma in Professional Sales"
    pub qualification: String,
    /// RFC 3339 text or a plain date, printed as is.
    pub generated_at: String,
    pub units: Vec<LogUnit>,
}

/// One unit of the qualification.
#[derive(Debug, Clone, Default)]
pub struct LogUnit {
    /// e.g. "L3B1 (L/650/7899)"
    pub reference: String,
    pub title: String,
    pub level: u8,
    pub credit: Option<u32>,
    /// false: an optional unit the learner has not taken; print "Optional unit not taken" and no criteria table.
    pub taken: bool,
    /// e.g. "12 of 14 criteria met" or "Signed off 2026-11-20T14:05:00Z; 14 of 14 criteria
    /// met" (see [`AchievementLog::in_uk_words`])
    pub status: String,
    pub criteria: Vec<LogCriterion>,
    pub declarations: Vec<LogDeclaration>,
}

/// One assessment criterion of a unit.
#[derive(Debug, Clone, Default)]
pub struct LogCriterion {
    /// "1.1"
    pub number: String,
    pub text: String,
    /// date met, or "" when not met
    pub date: String,
    /// where the evidence is, e.g. "Sales call recording (page 3); Witness testimony"
    pub location: String,
    /// assessor's name, or ""
    pub assessor: String,
    /// met by recognised prior learning: print "RPL" marker next to it
    pub rpl: bool,
}

/// A signed declaration on a unit.
#[derive(Debug, Clone, Default)]
pub struct LogDeclaration {
    /// "Assessor" or "Learner"
    pub role: String,
    pub name: String,
    pub at: String,
    pub comments: String,
    /// SHA-256 hex of the evidence set signed
    pub evidence_hash: String,
}

/// Renders the log; never panics on any input (long words, empty lists, non-ASCII text such as "Zoë Ní Bhriain" or "—").
pub fn render(log: &AchievementLog) -> Vec<u8> {
    let mut w = Writer::new();
    header_block(&mut w, log);
    if log.units.is_empty() {
        w.gap(6.0);
        w.paragraph(
            "No units recorded.",
            Face::Regular,
            BODY,
            MARGIN_LEFT,
            CONTENT_WIDTH,
        );
    }
    for unit in &log.units {
        unit_block(&mut w, unit);
    }
    let footer_left = sanitize(&log.learner_name);
    let pages = w.finish(&footer_left);

    let mut doc = PdfDocument::new(&log.title);
    doc.with_pages(pages);
    let mut warnings = Vec::new();
    doc.save(&PdfSaveOptions::default(), &mut warnings)
}

// ---------------------------------------------------------------------------
// Page geometry (points; 1 pt = 1/72 in). A4 is 210 mm x 297 mm.

const PAGE_WIDTH: f32 = 595.2756;
const PAGE_HEIGHT: f32 = 841.8898;
const MARGIN_LEFT: f32 = 50.0;
const MARGIN_RIGHT: f32 = 50.0;
const MARGIN_TOP: f32 = 56.0;
/// Lowest baseline body text may use; the footer sits below it.
const MARGIN_BOTTOM: f32 = 64.0;
const FOOTER_BASELINE: f32 = 34.0;
const CONTENT_WIDTH: f32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;

const TITLE: f32 = 16.0;
const HEADING: f32 = 12.0;
const BODY: f32 = 10.0;
const SMALL: f32 = 9.0;
const FOOTER: f32 = 8.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.25;

/// Criteria table columns: (header, width in points). Widths add up to
/// [`CONTENT_WIDTH`] (495.3 pt).
const COLUMNS: [(&str, f32); 5] = [
    ("No.", 30.0),
    ("Criterion", 180.0),
    ("Met", 72.0),
    ("Evidence", 123.0),
    ("Assessor", 90.2756),
];
/// Space between a column's left edge and its text, and on the right.
const CELL_PAD: f32 = 3.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

impl Face {
    fn builtin(self) -> BuiltinFont {
        match self {
            Face::Regular => BuiltinFont::Helvetica,
            Face::Bold => BuiltinFont::HelveticaBold,
        }
    }
}

// ---------------------------------------------------------------------------
// Content blocks.

fn header_block(w: &mut Writer, log: &AchievementLog) {
    let title = if log.title.trim().is_empty() {
        "Achievement log"
    } else {
        log.title.as_str()
    };
    w.paragraph(title, Face::Bold, TITLE, MARGIN_LEFT, CONTENT_WIDTH);
    w.gap(4.0);
    let uln = match &log.learner_uln {
        Some(uln) if !uln.trim().is_empty() => uln.as_str(),
        _ => "Not recorded",
    };
    let rows = [
        ("Learner", log.learner_name.as_str()),
        ("ULN", uln),
        ("Centre", log.centre_name.as_str()),
        ("Qualification", log.qualification.as_str()),
        ("Generated", log.generated_at.as_str()),
    ];
    for (label, value) in rows {
        w.labelled(label, value, 80.0);
    }
    w.gap(4.0);
    w.rule(0.8, 0.0);
    w.gap(6.0);
}

fn unit_block(w: &mut Writer, unit: &LogUnit) {
    let mut heading = format!("Unit {}", unit.reference.trim());
    if !unit.title.trim().is_empty() {
        heading.push_str(": ");
        heading.push_str(unit.title.trim());
    }
    heading.push_str(&format!(", level {}", unit.level));
    match unit.credit {
        Some(1) => heading.push_str(", 1 credit"),
        Some(n) => heading.push_str(&format!(", {n} credits")),
        None => {}
    }

    // Keep the heading together with the status line and the first rows.
    w.gap(8.0);
    w.ensure(HEADING * LEADING + BODY * LEADING * 4.0);
    w.paragraph(&heading, Face::Bold, HEADING, MARGIN_LEFT, CONTENT_WIDTH);
    w.gap(2.0);

    if unit.taken {
        if !unit.status.trim().is_empty() {
            w.paragraph(
                &unit.status,
                Face::Regular,
                BODY,
                MARGIN_LEFT,
                CONTENT_WIDTH,
            );
        }
        w.gap(4.0);
        if unit.criteria.is_empty() {
            w.paragraph(
                "No assessment criteria recorded.",
                Face::Regular,
                BODY,
                MARGIN_LEFT,
                CONTENT_WIDTH,
            );
        } else {
            criteria_table(w, &unit.criteria);
        }
    } else {
        w.paragraph(
            "Optional unit not taken",
            Face::Regular,
            BODY,
            MARGIN_LEFT,
            CONTENT_WIDTH,
        );
    }

    if !unit.declarations.is_empty() {
        w.gap(6.0);
        for declaration in &unit.declarations {
            declaration_block(w, declaration);
        }
    }
    w.gap(4.0);
    w.rule(0.4, 0.6);
}

fn criteria_table(w: &mut Writer, criteria: &[LogCriterion]) {
    let lead = SMALL * LEADING;
    w.ensure(lead * 3.0);
    table_header(w);
    for criterion in criteria {
        let met = if criterion.date.trim().is_empty() {
            "Not met".to_string()
        } else {
            criterion.date.trim().to_string()
        };
        let met = if criterion.rpl {
            format!("{met} [RPL]")
        } else {
            met
        };
        let cells = [
            criterion.number.as_str(),
            criterion.text.as_str(),
            met.as_str(),
            criterion.location.as_str(),
            criterion.assessor.as_str(),
        ];
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(COLUMNS.iter())
            .map(|(cell, (_, width))| {
                wrap(
                    &sanitize(cell),
                    Face::Regular,
                    SMALL,
                    width - 2.0 * CELL_PAD,
                )
            })
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);

        // Start the row on a new page unless its first lines (up to 3) fit.
        let min_lines = lines.min(3) as f32;
        if w.y - lead * min_lines - 3.0 < MARGIN_BOTTOM {
            w.new_page();
            table_header(w);
        }
        w.gap(3.0);
        for i in 0..lines {
            if w.y - lead < MARGIN_BOTTOM {
                w.new_page();
                table_header(w);
            }
            let baseline = w.y - SMALL;
            let mut x = MARGIN_LEFT;
            for (cell, (_, width)) in wrapped.iter().zip(COLUMNS.iter()) {
                if let Some(text) = cell.get(i) {
                    w.text(x + CELL_PAD, baseline, Face::Regular, SMALL, text);
                }
                x += width;
            }
            w.y -= lead;
        }
        w.gap(2.0);
        w.rule(0.3, 0.75);
    }
    w.gap(2.0);
}

fn table_header(w: &mut Writer) {
    let lead = SMALL * LEADING;
    let height = lead + 4.0;
    w.fill_rect(MARGIN_LEFT, w.y - height, CONTENT_WIDTH, height, 0.88);
    let baseline = w.y - 2.0 - SMALL;
    let mut x = MARGIN_LEFT;
    for (label, width) in COLUMNS {
        w.text(x + CELL_PAD, baseline, Face::Bold, SMALL, label);
        x += width;
    }
    w.y -= height;
}

fn declaration_block(w: &mut Writer, d: &LogDeclaration) {
    let role = d.role.trim();
    let statement = match role.to_ascii_lowercase().as_str() {
        "assessor" => {
            "I confirm that I have assessed the evidence listed above, that it is the learner's \
             own work and that it meets the assessment criteria recorded as met."
        }
        "learner" => {
            "I confirm that the evidence listed above is my own work and was produced under the \
             conditions required."
        }
        "iqa" => {
            "I sampled the assessment decisions on this unit and agree with them (internal \
             quality assurance)."
        }
        _ => "I confirm the record above.",
    };
    let heading = if role.is_empty() {
        "Declaration".to_string()
    } else {
        format!("{role} declaration")
    };
    let lead = BODY * LEADING;
    w.ensure(lead * 4.0);
    w.paragraph(&heading, Face::Bold, BODY, MARGIN_LEFT, CONTENT_WIDTH);
    w.paragraph(statement, Face::Regular, BODY, MARGIN_LEFT, CONTENT_WIDTH);

    let mut signed = d.name.trim().to_string();
    if !d.at.trim().is_empty() {
        if signed.is_empty() {
            signed = d.at.trim().to_string();
        } else {
            signed = format!("{signed}, {}", d.at.trim());
        }
    }
    w.labelled("Signed", &signed, 110.0);
    if !d.comments.trim().is_empty() {
        w.labelled("Comments", &d.comments, 110.0);
    }
    w.labelled("Evidence SHA-256", &d.evidence_hash, 110.0);
    w.gap(6.0);
}

// ---------------------------------------------------------------------------
// Page writer.

struct Writer {
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// Top of the next line, measured from the bottom of the page.
    y: f32,
}

impl Writer {
    fn new() -> Self {
        Self {
            pages: Vec::new(),
            ops: Vec::new(),
            y: PAGE_HEIGHT - MARGIN_TOP,
        }
    }

    fn new_page(&mut self) {
        let ops = std::mem::take(&mut self.ops);
        self.pages.push(ops);
        self.y = PAGE_HEIGHT - MARGIN_TOP;
    }

    /// Starts a new page unless `height` more points fit on this one.
    fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN_BOTTOM && self.y < PAGE_HEIGHT - MARGIN_TOP {
            self.new_page();
        }
    }

    /// Vertical space; never carries over to a new page.
    fn gap(&mut self, height: f32) {
        self.y = (self.y - height).max(MARGIN_BOTTOM);
    }

    /// Draws one line of already sanitized text with its baseline at `y`.
    fn text(&mut self, x: f32, y: f32, face: Face, size: f32, text: &str) {
        if text.is_empty() {
            return;
        }
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::Builtin(face.builtin()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point { x: Pt(x), y: Pt(y) },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    /// Sanitizes, wraps and draws `text`, breaking pages as needed.
    fn paragraph(&mut self, text: &str, face: Face, size: f32, x: f32, width: f32) {
        let lead = size * LEADING;
        for line in wrap(&sanitize(text), face, size, width) {
            self.ensure(lead);
            let baseline = self.y - size;
            self.text(x, baseline, face, size, &line);
            self.y -= lead;
        }
    }

    /// A bold label with its value wrapped in a column `label_width` to the right.
    fn labelled(&mut self, label: &str, value: &str, label_width: f32) {
        let lead = BODY * LEADING;
        let value_width = CONTENT_WIDTH - label_width;
        let mut lines = wrap(&sanitize(value), Face::Regular, BODY, value_width);
        if lines.is_empty() {
            lines.push("-".to_string());
        }
        let label = format!("{label}:");
        for (i, line) in lines.iter().enumerate() {
            self.ensure(lead);
            let baseline = self.y - BODY;
            if i == 0 {
                self.text(MARGIN_LEFT, baseline, Face::Bold, BODY, &label);
            }
            self.text(
                MARGIN_LEFT + label_width,
                baseline,
                Face::Regular,
                BODY,
                line,
            );
            self.y -= lead;
        }
    }

    /// A horizontal rule across the content width at the cursor.
    fn rule(&mut self, thickness: f32, grey: f32) {
        let y = self.y;
        self.ops.extend([
            Op::SaveGraphicsState,
            Op::SetOutlineColor {
                col: Color::Greyscale(Greyscale::new(grey, None)),
            },
            Op::SetOutlineThickness { pt: Pt(thickness) },
            Op::DrawLine {
                line: Line {
                    points: vec![
                        LinePoint {
                            p: Point {
                                x: Pt(MARGIN_LEFT),
                                y: Pt(y),
                            },
                            bezier: false,
                        },
                        LinePoint {
                            p: Point {
                                x: Pt(MARGIN_LEFT + CONTENT_WIDTH),
                                y: Pt(y),
                            },
                            bezier: false,
                        },
                    ],
                    is_closed: false,
                },
            },
            Op::RestoreGraphicsState,
        ]);
    }

    fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, grey: f32) {
        self.ops.extend([
            Op::SaveGraphicsState,
            Op::SetFillColor {
                col: Color::Greyscale(Greyscale::new(grey, None)),
            },
            Op::DrawRectangle {
                rectangle: Rect {
                    x: Pt(x),
                    y: Pt(y),
                    width: Pt(width),
                    height: Pt(height),
                    mode: Some(PaintMode::Fill),
                    winding_order: None,
                },
            },
            Op::RestoreGraphicsState,
        ]);
    }

    /// Closes the last page and adds "Page N of M" footers.
    fn finish(mut self, footer_left: &str) -> Vec<PdfPage> {
        if !self.ops.is_empty() || self.pages.is_empty() {
            self.new_page();
        }
        let total = self.pages.len();
        let footer_left = wrap(footer_left, Face::Regular, FOOTER, CONTENT_WIDTH - 100.0)
            .into_iter()
            .next()
            .unwrap_or_default();
        let pages = std::mem::take(&mut self.pages);
        pages
            .into_iter()
            .enumerate()
            .map(|(i, ops)| {
                self.ops = ops;
                self.text(
                    MARGIN_LEFT,
                    FOOTER_BASELINE,
                    Face::Regular,
                    FOOTER,
                    &footer_left,
                );
                let number = format!("Page {} of {}", i + 1, total);
                let x = MARGIN_LEFT + CONTENT_WIDTH - text_width(&number, Face::Regular, FOOTER);
                self.text(x, FOOTER_BASELINE, Face::Regular, FOOTER, &number);
                let ops = std::mem::take(&mut self.ops);
                PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), ops)
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------
// Text: WinAnsi folding, widths and wrapping.

/// Folds `text` into characters the built-in fonts can show (WinAnsi), so
/// that what is printed is also what `pdftotext` extracts.
///
/// Keeps ASCII, Latin-1 letters and symbols and the WinAnsi letters
/// Š š Ž ž Œ œ Ÿ; turns dashes and smart quotes into ASCII, strips accents
/// from other Latin letters, drops zero-width and combining characters and
/// control characters other than newline, and replaces the rest with "?".
fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push('\n'),
            '\t' => out.push(' '),
            ' '..='~' => out.push(c),
            '\u{a0}' => out.push(' '),
            '\u{ad}' => {}
            '\u{a1}'..='\u{ff}' => out.push(c),
            'Š' | 'š' | 'Ž' | 'ž' | 'Œ' | 'œ' | 'Ÿ' | '€' | '™' | '•' | '†' | '‡' | '‰' => {
                out.push(c)
            }
            'ƒ' => out.push('f'),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2043}' => out.push('-'),
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '\u{02bc}' => {
                out.push('\'')
            }
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' => out.push('"'),
            '\u{2039}' => out.push('<'),
            '\u{203a}' => out.push('>'),
            '\u{2026}' => out.push_str("..."),
            '\u{02c6}' => out.push('^'),
            '\u{02dc}' => out.push('~'),
            '\u{2022}'..='\u{2025}' => out.push('-'),
            '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}' => out.push(' '),
            '\u{200b}'..='\u{200f}' | '\u{2060}' | '\u{feff}' | '\u{2028}' | '\u{2029}' => {}
            '\u{0300}'..='\u{036f}' => {}
            'Ĳ' => out.push_str("IJ"),
            'ĳ' => out.push_str("ij"),
            'ŉ' => out.push_str("'n"),
            '\u{0100}'..='\u{017f}' => {
                let index = c as usize - 0x100;
                out.push(
                    LATIN_EXT_A
                        .as_bytes()
                        .get(index)
                        .map_or('?', |b| *b as char),
                );
            }
            'Ș' => out.push('S'),
            'ș' => out.push('s'),
            'Ț' => out.push('T'),
            'ț' => out.push('t'),
            c if c.is_control() => {}
            _ => out.push('?'),
        }
    }
    out
}

/// Base letters for U+0100..=U+017F (Latin Extended-A), one per code point.
const LATIN_EXT_A: &str = concat!(
    "AaAaAaCcCcCcCcDd",
    "DdEeEeEeEeEeGgGg",
    "GgGgHhHhIiIiIiIi",
    "IiIiJjKkkLlLlLlL",
    "lLlNnNnNnnNnOoOo",
    "OoOoRrRrRrSsSsSs",
    "SsTtTtTtUuUuUuUu",
    "UuUuWwYyYZzZzZzs",
);

/// Helvetica advance widths for ASCII 0x20..=0x7E, in 1/1000 em (Adobe AFM).
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, // 0..?
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, // P.._
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, // `..o
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // p..~
];

/// Helvetica-Bold advance widths for ASCII 0x20..=0x7E, in 1/1000 em.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, // ' '../
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, // 0..?
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, // @..O
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, // P.._
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, // `..o
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, // p..~
];

/// Advance width of one character in 1/1000 em. Exact for ASCII; a slight
/// overestimate for other WinAnsi characters, so lines never run long.
fn char_width(c: char, face: Face) -> f32 {
    let table = match face {
        Face::Regular => &HELVETICA,
        Face::Bold => &HELVETICA_BOLD,
    };
    let code = c as usize;
    if (0x20..=0x7e).contains(&code) {
        return table.get(code - 0x20).copied().map_or(611.0, f32::from);
    }
    match c {
        'Æ' | 'Œ' | '™' | '‰' => 1000.0,
        'æ' | 'œ' => 944.0,
        'ß' => 611.0,
        c if c.is_uppercase() => 778.0,
        _ => 611.0,
    }
}

fn text_width(text: &str, face: Face, size: f32) -> f32 {
    text.chars().map(|c| char_width(c, face)).sum::<f32>() * size / 1000.0
}

/// Greedy word wrap to `max_width` points. Newlines start a new line; words
/// wider than a line are broken between characters. Empty input gives no
/// lines.
fn wrap(text: &str, face: Face, size: f32, max_width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let space = char_width(' ', face) * size / 1000.0;
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut line_width = 0.0_f32;
        for word in paragraph.split_whitespace() {
            let width = text_width(word, face, size);
            if line.is_empty() && width <= max_width {
                line.push_str(word);
                line_width = width;
            } else if !line.is_empty() && line_width + space + width <= max_width {
                line.push(' ');
                line.push_str(word);
                line_width += space + width;
            } else if width <= max_width {
                lines.push(std::mem::take(&mut line));
                line.push_str(word);
                line_width = width;
            } else {
                // A word longer than a whole line: break it between characters.
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                line_width = 0.0;
                for c in word.chars() {
                    let cw = char_width(c, face) * size / 1000.0;
                    if !line.is_empty() && line_width + cw > max_width {
                        lines.push(std::mem::take(&mut line));
                        line_width = 0.0;
                    }
                    line.push(c);
                    line_width += cw;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::process::Command;

    /// Extracts the text of `pdf` with `pdftotext -layout`, or `None` (after a
    /// loud message) when pdftotext is not installed and `CI` is unset.
    fn pdftotext(pdf: &[u8], name: &str) -> Option<String> {
        let path = std::env::temp_dir().join(format!(
            "credence-pdf-test-{}-{name}.pdf",
            std::process::id()
        ));
        std::fs::write(&path, pdf).unwrap();
        let output = Command::new("pdftotext")
            .arg("-layout")
            .arg(&path)
            .arg("-")
            .output();
        let _ = std::fs::remove_file(&path);
        match output {
            Ok(output) => {
                assert!(
                    output.status.success(),
                    "pdftotext failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                Some(String::from_utf8(output.stdout).unwrap())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::env::var_os("CI").is_some() {
                    panic!(
                        "pdftotext is not installed but CI is set; install poppler-utils \
                         (apt-get install poppler-utils) to run the PDF tests"
                    );
                }
                eprintln!(
                    "\n**************************************************************\n\
                     SKIPPED: pdftotext not found; install poppler-utils to check\n\
                     the text of the achievement log PDF ({name}).\n\
                     **************************************************************\n"
                );
                None
            }
            Err(e) => panic!("could not run pdftotext: {e}"),
        }
    }

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn the_log_reads_its_dates_as_in_the_uk() {
        let mut log = sample();
        log.units[0].status = "Signed off 2026-06-30T23:10:00Z; 3 of 3 criteria met".into();
        log.units[0].declarations[0].at = "2026-06-30T22:10:00Z".into();
        let log = log.in_uk_words();
        assert_eq!(log.generated_at, "21 November 2026 at 09:30");
        assert_eq!(
            log.units[0].status,
            "Signed off 1 July 2026; 3 of 3 criteria met"
        );
        assert_eq!(log.units[0].criteria[0].date, "1 October 2026");
        assert_eq!(log.units[0].criteria[2].date, "");
        assert_eq!(log.units[0].declarations[0].at, "30 June 2026 at 23:10");
        assert_eq!(log.units[0].declarations[1].at, "19 November 2026");
    }

    fn sample() -> AchievementLog {
        AchievementLog {
            title: "Achievement log: Certificate and Diploma".into(),
            learner_name: "Zoë Ní Bhriain".into(),
            learner_uln: Some("1234567890".into()),
            centre_name: "North Coast College — Sales Academy".into(),
            qualification: "610/3788/6 ISP Level 3 Diploma in Professional Sales".into(),
            generated_at: "2026-11-21T09:30:00Z".into(),
            units: vec![
                LogUnit {
                    reference: "L3B1 (L/650/7899)".into(),
                    title: "Sales planning".into(),
                    level: 3,
                    credit: Some(6),
                    taken: true,
                    status: "2 of 3 criteria met".into(),
                    criteria: vec![
                        LogCriterion {
                            number: "1.1".into(),
                            text: "Explain the sales process".into(),
                            date: "2026-10-01".into(),
                            location: "Sales call recording (page 3); Witness testimony".into(),
                            assessor: "Priya Okafor".into(),
                            rpl: false,
                        },
                        LogCriterion {
                            number: "1.2".into(),
                            text: "Describe “buying signals” and how to respond to them when \
                                   they appear during a conversation with a prospect"
                                .into(),
                            date: "2026-10-02".into(),
                            location: "Certificate from previous employer".into(),
                            assessor: "Priya Okafor".into(),
                            rpl: true,
                        },
                        LogCriterion {
                            number: "1.3".into(),
                            text: "Plan a territory".into(),
                            date: String::new(),
                            location: String::new(),
                            assessor: String::new(),
                            rpl: false,
                        },
                    ],
                    declarations: vec![
                        LogDeclaration {
                            role: "Assessor".into(),
                            name: "Priya Okafor".into(),
                            at: "2026-11-20".into(),
                            comments: "Strong evidence throughout".into(),
                            evidence_hash: HASH.into(),
                        },
                        LogDeclaration {
                            role: "Learner".into(),
                            name: "Zoë Ní Bhriain".into(),
                            at: "2026-11-19".into(),
                            comments: "Thanks for the feedback".into(),
                            evidence_hash: HASH.into(),
                        },
                    ],
                },
                LogUnit {
                    reference: "L3B9 (R/650/7905)".into(),
                    title: "Key account management".into(),
                    level: 3,
                    credit: Some(5),
                    taken: false,
                    status: String::new(),
                    criteria: Vec::new(),
                    declarations: Vec::new(),
                },
            ],
        }
    }

    #[test]
    fn renders_a_readable_log() {
        let pdf = render(&sample());
        assert!(pdf.starts_with(b"%PDF"));
        let Some(text) = pdftotext(&pdf, "readable") else {
            return;
        };
        for needle in [
            "Zoë Ní Bhriain",
            "1234567890",
            "North Coast College - Sales Academy",
            "Unit L3B1 (L/650/7899): Sales planning, level 3, 6 credits",
            "2 of 3 criteria met",
            "Explain the sales process",
            "\"buying signals\"",
            "Optional unit not taken",
            "Priya Okafor",
            "RPL",
            "Not met",
            "Assessor declaration",
            "Learner declaration",
            "Strong evidence throughout",
            "Thanks for the feedback",
            HASH,
            "Page 1 of 1",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }

    #[test]
    fn many_criteria_run_over_several_pages() {
        let mut log = sample();
        log.units[0].criteria = (1..=300)
            .map(|i| LogCriterion {
                number: format!("{}.{}", i / 10 + 1, i % 10),
                text: format!("Criterion number {i} of the long unit"),
                date: "2026-10-01".into(),
                location: "Portfolio".into(),
                assessor: "Priya Okafor".into(),
                rpl: i % 50 == 0,
            })
            .collect();
        let pdf = render(&log);
        let Some(text) = pdftotext(&pdf, "pages") else {
            return;
        };
        assert!(text.contains("Criterion number 1 of the long unit"));
        assert!(
            text.contains("Criterion number 300 of the long unit"),
            "{text}"
        );
        assert!(text.contains("Page 2"), "{text}");
        assert!(text.contains("Optional unit not taken"));
        assert!(text.contains(HASH));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let long_word = "x".repeat(5000);
        let log = AchievementLog {
            title: String::new(),
            learner_name: format!("Ωμέγα 李 {long_word}\u{0}\u{7}\r\n\u{200b}"),
            learner_uln: None,
            units: vec![LogUnit {
                reference: long_word.clone(),
                taken: true,
                criteria: vec![LogCriterion {
                    text: format!("{long_word} {long_word}\n\n{long_word}"),
                    location: "é".repeat(3000),
                    ..Default::default()
                }],
                declarations: vec![LogDeclaration::default()],
                ..Default::default()
            }],
            ..Default::default()
        };
        let pdf = render(&log);
        assert!(pdf.starts_with(b"%PDF"));
        assert!(render(&AchievementLog::default()).starts_with(b"%PDF"));
    }

    #[test]
    fn sanitize_folds_to_win_ansi() {
        assert_eq!(sanitize("Zoë Ní Bhriain"), "Zoë Ní Bhriain");
        assert_eq!(sanitize("a — b – c"), "a - b - c");
        assert_eq!(sanitize("“quoted” ‘single’ …"), "\"quoted\" 'single' ...");
        assert_eq!(sanitize("Łódź Dvořák Ĳssel"), "Lódz Dvorák IJssel");
        assert_eq!(sanitize("Ω李"), "??");
        assert_eq!(sanitize("a\u{0}b\u{200b}c"), "abc");
    }

    #[test]
    fn wrap_respects_width_and_breaks_long_words() {
        let text = format!("short {} tail", "w".repeat(200));
        let lines = wrap(&text, Face::Regular, 10.0, 100.0);
        assert!(lines.len() > 3);
        for line in &lines {
            assert!(
                text_width(line, Face::Regular, 10.0) <= 100.0 + 0.01,
                "{line}"
            );
        }
        assert_eq!(lines.first().map(String::as_str), Some("short"));
        assert!(lines.last().is_some_and(|l| l.ends_with(" tail")));
        assert!(wrap("", Face::Bold, 10.0, 100.0).is_empty());
        // A width narrower than one character still makes progress.
        assert_eq!(wrap("abc", Face::Regular, 10.0, 1.0).len(), 3);
    }
}
