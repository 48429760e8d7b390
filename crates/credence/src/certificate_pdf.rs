//! The printed certificate, as a PDF for print. The page is A4 portrait inside a double rule
//! frame: the awarding organisation's name heads it, then the kind of certificate, "This is to
//! certify that", the learner's name large, "has been awarded", the title, level, grade (with the
//! aggregation rule in small type) and the qualification number or unit reference; a table of the
//! units follows (reference, title, credits, grade), and a band at the foot of the first page holds
//! the date of award, the centre, the certificate number, the "Replaces ..." line of a replacement,
//! and a QR code (34 mm with its quiet zone, drawn as vector squares) of the public verification URL
//! with "Check this certificate at <url>" printed beside it. Units that do not fit above the band
//! continue on further pages, each headed by the certificate number and the learner's name, with the
//! table's header row repeated. Text is shaped with rustybuzz and drawn in DejaVu Sans and DejaVu
//! Sans Bold, embedded and subsetted, so that any name in Latin (with diacritics, Icelandic,
//! Vietnamese), Greek or Cyrillic prints and copies out exactly; a name with a character the fonts
//! lack is refused rather than printed wrongly. The PDF is written by krilla as PDF/UA-1: a
//! structure tree (headings, paragraphs, a table with header cells for the units, a figure with
//! the alt text "QR code linking to <url>"), title metadata, language en-GB, and the frame and
//! rules marked as artifacts.

use std::num::NonZeroU16;
use std::sync::LazyLock;

use anyhow::{Context, Result, anyhow, bail};
use krilla::color::rgb;
use krilla::configure::{Accessibility, ConfigurationBuilder};
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect, Size};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::surface::Surface;
use krilla::tagging::{
    ArtifactType, BBox, ContentTag, Identifier, Node, SpanTag, TableHeaderScope, Tag, TagGroup,
    TagKind, TagTree,
};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::{Document, SerializeSettings};

/// Everything printed on a certificate, already in words (dates as "30 November 2026").
#[derive(Debug, Clone)]
pub struct CertificatePrint {
    /// e.g. "ISP-2026-0000042-K"
    pub number: String,
    /// e.g. "Institute of Sales Professionals"
    pub ao_name: String,
    /// "ISP"
    pub ao_code: String,
    /// Registered name, in any script the fonts cover.
    pub learner_name: String,
    /// Qualification title as on the certificate, or the unit title for a unit certificate.
    pub title: String,
    /// "Qualification number" (QAN) or "Unit reference".
    pub reference_label: String,
    /// "610/3788/6" or "H/502/8599".
    pub reference: String,
    /// "Level 3".
    pub level: Option<String>,
    /// "Pass", "Merit", ...; None for a unit acknowledgement without grade.
    pub grade: Option<String>,
    /// One sentence explaining how the grade was aggregated, printed small.
    pub grade_rule: Option<String>,
    /// "Certificate" or "Unit certificate" ("Unit acknowledgement").
    pub kind_label: String,
    pub units: Vec<PrintedUnit>,
    /// "30 November 2026".
    pub awarded_on: String,
    pub centre_name: String,
    /// "Replaces certificate ISP-2026-0000007-3" for a replacement.
    pub replaces: Option<String>,
    /// Absolute URL of the public verification page.
    pub verify_url: String,
}

/// One row of the units table.
#[derive(Debug, Clone)]
pub struct PrintedUnit {
    pub reference: String,
    pub title: String,
    pub credits: Option<u32>,
    pub grade: Option<String>,
}

static REGULAR_TTF: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// The two faces, parsed once: krilla's handle (for embedding) and rustybuzz's (for shaping).
struct Face {
    font: Font,
    shaper: rustybuzz::Face<'static>,
}

struct Fonts {
    regular: Face,
    bold: Face,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    let face = |data: &'static [u8]| {
        Some(Face {
            font: Font::new(data.into(), 0)?,
            shaper: rustybuzz::Face::from_slice(data, 0)?,
        })
    };
    Some(Fonts {
        regular: face(REGULAR_TTF)?,
        bold: face(BOLD_TTF)?,
    })
});

// A4 in points, and the measures of the layout.
const PAGE_W: f32 = 595.2756;
const PAGE_H: f32 = 841.8898;
const MM: f32 = 72.0 / 25.4;
const MARGIN: f32 = 20.0 * MM;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const QR_SIZE: f32 = 34.0 * MM;
/// Height of the band at the foot of the first page (date, centre, number, QR).
const BAND_H: f32 = QR_SIZE + 14.0;
const BAND_TOP: f32 = PAGE_H - MARGIN - BAND_H;

const ACCENT: (u8, u8, u8) = (0x1f, 0x3a, 0x5f);
const INK: (u8, u8, u8) = (0x1a, 0x1a, 0x1a);
const MUTED: (u8, u8, u8) = (0x52, 0x5a, 0x66);
const RULE: (u8, u8, u8) = (0xb4, 0xbe, 0xc9);
const SHADE: (u8, u8, u8) = (0xec, 0xf0, 0xf4);

#[derive(Clone, Copy)]
struct Style {
    bold: bool,
    size: f32,
    color: (u8, u8, u8),
}

const fn style(bold: bool, size: f32, color: (u8, u8, u8)) -> Style {
    Style { bold, size, color }
}

/// Where drawn content belongs: outside the structure, or in a leaf of the structure tree.
#[derive(Clone, Copy)]
enum Mark {
    Artifact(ArtifactType),
    Leaf(usize),
}

enum Op {
    Text {
        x: f32,
        y: f32,
        style: Style,
        text: String,
        glyphs: Vec<KrillaGlyph>,
        mark: Mark,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: (u8, u8, u8),
        mark: Mark,
    },
    /// An outlined rectangle, drawn as four thin bars.
    Frame {
        inset: f32,
        width: f32,
        color: (u8, u8, u8),
    },
    Qr {
        x: f32,
        y: f32,
        size: f32,
        dark: Vec<bool>,
        modules: usize,
        leaf: usize,
    },
}

/// The structure tree as laid out; leaves are filled with krilla identifiers when drawn.
enum SNode {
    Group(TagKind, Vec<SNode>),
    Leaf(usize),
}

struct Shaped {
    glyphs: Vec<KrillaGlyph>,
    /// Advance of the whole run at 1 pt.
    width: f32,
}

struct Layout<'f> {
    fonts: &'f Fonts,
    pages: Vec<Vec<Op>>,
    leaves: usize,
    /// Where the content above the band ends on the first page.
    end_y: f32,
}

impl Layout<'_> {
    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        }
    }

    fn shape(&self, text: &str, bold: bool) -> Result<Shaped> {
        let face = &self.face(bold).shaper;
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let out = rustybuzz::shape(face, &[], buffer);
        let upem = face.units_per_em() as f32;
        let infos = out.glyph_infos();
        let positions = out.glyph_positions();
        if infos.iter().any(|info| info.glyph_id == 0) {
            let missing: String = text
                .chars()
                .filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none())
                .collect();
            bail!("the certificate font cannot print {missing:?} (in {text:?})");
        }
        // A glyph covers the text from its cluster to the next cluster after it, whatever the
        // direction of the run.
        let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let mut width = 0.0;
        let glyphs = infos
            .iter()
            .zip(positions)
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                let end = starts
                    .iter()
                    .copied()
                    .find(|s| *s > start)
                    .unwrap_or(text.len());
                width += pos.x_advance as f32 / upem;
                KrillaGlyph::new(
                    GlyphId::new(info.glyph_id),
                    pos.x_advance as f32 / upem,
                    pos.x_offset as f32 / upem,
                    pos.y_offset as f32 / upem,
                    pos.y_advance as f32 / upem,
                    start..end,
                    None,
                )
            })
            .collect();
        Ok(Shaped { glyphs, width })
    }

    fn width(&self, text: &str, style: Style) -> Result<f32> {
        Ok(self.shape(text, style.bold)?.width * style.size)
    }

    /// Break `text` into lines no wider than `max_w`, at spaces, or anywhere in a word too long
    /// for a line. Each line but the last keeps its trailing space, so the words stay apart when
    /// the text is copied or read aloud.
    fn wrap(&self, text: &str, style: Style, max_w: f32) -> Result<Vec<String>> {
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, style)? <= max_w {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(format!("{line} "));
                line.clear();
            }
            // The word alone: split it if it is wider than a line.
            let mut piece = String::new();
            for ch in word.chars() {
                piece.push(ch);
                if self.width(&piece, style)? > max_w && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(ch);
                }
            }
            line = piece;
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        Ok(lines)
    }

    fn leaf(&mut self) -> usize {
        self.leaves += 1;
        self.leaves - 1
    }

    fn push(&mut self, page: usize, op: Op) {
        while self.pages.len() <= page {
            self.pages.push(Vec::new());
        }
        self.pages[page].push(op);
    }

    fn text(
        &mut self,
        page: usize,
        x: f32,
        y: f32,
        style: Style,
        text: &str,
        mark: Mark,
    ) -> Result<f32> {
        let shaped = self.shape(text, style.bold)?;
        let width = shaped.width * style.size;
        self.push(
            page,
            Op::Text {
                x,
                y,
                style,
                text: text.to_owned(),
                glyphs: shaped.glyphs,
                mark,
            },
        );
        Ok(width)
    }

    /// Centre a line on the page; a trailing space is drawn but not counted.
    fn centred(&mut self, page: usize, y: f32, style: Style, text: &str, mark: Mark) -> Result<()> {
        let w = self.width(text.trim_end(), style)?;
        self.text(page, (PAGE_W - w) / 2.0, y, style, text, mark)?;
        Ok(())
    }

    /// A centred paragraph, wrapped to `max_w`: one leaf, one span per line. Returns the baseline
    /// of its last line.
    fn centred_block(
        &mut self,
        y: f32,
        style: Style,
        leading: f32,
        text: &str,
        max_w: f32,
    ) -> Result<(f32, usize)> {
        let leaf = self.leaf();
        let lines = self.wrap(text, style, max_w)?;
        let mut y = y;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                y += leading;
            }
            self.centred(0, y, style, line, Mark::Leaf(leaf))?;
        }
        Ok((y, leaf))
    }

    fn rule(&mut self, page: usize, x: f32, y: f32, w: f32, h: f32, color: (u8, u8, u8)) {
        self.push(
            page,
            Op::Rect {
                x,
                y,
                w,
                h,
                color,
                mark: Mark::Artifact(ArtifactType::Layout),
            },
        );
    }

    fn frame(&mut self, page: usize) {
        self.push(
            page,
            Op::Frame {
                inset: 9.0 * MM,
                width: 1.6,
                color: ACCENT,
            },
        );
        self.push(
            page,
            Op::Frame {
                inset: 10.5 * MM,
                width: 0.5,
                color: ACCENT,
            },
        );
    }
}

fn p(leaf: usize) -> SNode {
    SNode::Group(Tag::P.into(), vec![SNode::Leaf(leaf)])
}

fn heading(level: u16, title: &str, leaf: usize) -> Result<SNode> {
    let level = NonZeroU16::new(level).context("heading level 0")?;
    Ok(SNode::Group(
        Tag::Hn(level, Some(title.to_owned())).into(),
        vec![SNode::Leaf(leaf)],
    ))
}

/// One column of the units table.
struct Column {
    header: &'static str,
    x: f32,
    w: f32,
    right: bool,
}

const CELL_SIZE: f32 = 9.0;
const CELL_LEADING: f32 = 11.5;
const CELL_PAD: f32 = 4.0;
const HEADER_ROW_H: f32 = 17.0;

/// Render the certificate as a tagged, A4 PDF with embedded fonts and a QR code of its
/// verification URL.
pub fn render(cert: &CertificatePrint) -> Result<Vec<u8>> {
    let fonts = FONTS
        .as_ref()
        .ok_or_else(|| anyhow!("the embedded DejaVu fonts could not be read"))?;
    // Lay out once; if it all fits on one page with room to spare, open up the gaps between
    // the blocks so the certificate fills its page.
    let first = lay_out(fonts, cert, 1.0)?;
    let (layout, body) = if first.layout.pages.len() == 1 && first.spare > 0.0 && first.gaps > 0.0 {
        let spread = (1.0 + first.spare / first.gaps).min(2.5);
        let second = lay_out(fonts, cert, spread)?;
        (second.layout, second.body)
    } else {
        (first.layout, first.body)
    };
    emit(cert, layout, body)
}

struct Laid<'f> {
    layout: Layout<'f>,
    body: Vec<SNode>,
    /// Unused height above the band on the first page.
    spare: f32,
    /// The sum of the stretchable gaps between the blocks of the first page.
    gaps: f32,
}

fn lay_out<'f>(fonts: &'f Fonts, cert: &CertificatePrint, spread: f32) -> Result<Laid<'f>> {
    let mut l = Layout {
        fonts,
        pages: vec![Vec::new()],
        leaves: 0,
        end_y: 0.0,
    };
    let mut gaps = 0.0;
    let mut gap = |g: f32| {
        gaps += g;
        g * spread
    };
    let mut body: Vec<SNode> = Vec::new();
    l.frame(0);

    // The head: awarding organisation, kind of certificate.
    let ao_style = style(true, 20.0, ACCENT);
    let (mut y, leaf) = l.centred_block(MARGIN + 34.0, ao_style, 24.0, &cert.ao_name, CONTENT_W)?;
    body.push(heading(1, &cert.ao_name, leaf)?);
    y += 12.0;
    l.rule(0, (PAGE_W - 64.0) / 2.0, y, 64.0, 1.2, ACCENT);
    let (y2, leaf) = l.centred_block(
        y + 28.0 + gap(10.0),
        style(false, 30.0, INK),
        34.0,
        &cert.kind_label,
        CONTENT_W,
    )?;
    body.push(heading(2, &cert.kind_label, leaf)?);
    y = y2;

    // Who, and what.
    let lead_style = style(false, 12.0, MUTED);
    let (y2, leaf) = l.centred_block(
        y + 22.0 + gap(12.0),
        lead_style,
        15.0,
        "This is to certify that",
        CONTENT_W,
    )?;
    body.push(p(leaf));
    y = y2;
    // The name on one line if it can be, shrinking down to 16 pt before it wraps.
    let mut name_style = style(true, 28.0, INK);
    while name_style.size > 16.0 && l.width(&cert.learner_name, name_style)? > CONTENT_W {
        name_style.size -= 1.0;
    }
    let (y2, leaf) = l.centred_block(
        y + 4.0 + gap(8.0) + name_style.size,
        name_style,
        name_style.size * 1.2,
        &cert.learner_name,
        CONTENT_W,
    )?;
    body.push(p(leaf));
    y = y2;
    let (y2, leaf) = l.centred_block(
        y + 18.0 + gap(10.0),
        lead_style,
        15.0,
        "has been awarded",
        CONTENT_W,
    )?;
    body.push(p(leaf));
    y = y2;
    let (y2, leaf) = l.centred_block(
        y + 20.0 + gap(10.0),
        style(true, 17.0, ACCENT),
        21.0,
        &cert.title,
        CONTENT_W - 40.0,
    )?;
    body.push(p(leaf));
    y = y2 + gap(6.0);
    if let Some(level) = &cert.level {
        let (y2, leaf) =
            l.centred_block(y + 20.0, style(false, 12.0, INK), 15.0, level, CONTENT_W)?;
        body.push(p(leaf));
        y = y2;
    }
    if let Some(grade) = &cert.grade {
        let (y2, leaf) = l.centred_block(
            y + 20.0,
            style(true, 13.0, INK),
            16.0,
            &format!("Grade: {grade}"),
            CONTENT_W,
        )?;
        body.push(p(leaf));
        y = y2;
    }
    if let Some(rule) = &cert.grade_rule {
        let (y2, leaf) = l.centred_block(y + 13.0, style(false, 7.5, MUTED), 9.5, rule, 400.0)?;
        body.push(p(leaf));
        y = y2;
    }
    let (y2, leaf) = l.centred_block(
        y + 16.0 + gap(4.0),
        style(false, 10.5, INK),
        13.0,
        &format!("{}: {}", cert.reference_label, cert.reference),
        CONTENT_W,
    )?;
    body.push(p(leaf));
    y = y2;
    if let Some(replaces) = &cert.replaces {
        let (y2, leaf) = l.centred_block(
            y + 18.0,
            style(true, 10.0, ACCENT),
            13.0,
            replaces,
            CONTENT_W,
        )?;
        body.push(p(leaf));
        y = y2;
    }
    l.end_y = y;

    // The units, continuing onto further pages as needed.
    if !cert.units.is_empty() {
        let table_top = y + 14.0 + gap(8.0);
        body.extend(units_table(&mut l, cert, table_top)?);
    }
    let spare = BAND_TOP - 14.0 - l.end_y;

    // The band at the foot of the first page.
    body.extend(band(&mut l, cert)?);

    // When the units run on: which certificate each page belongs to.
    let pages = l.pages.len();
    if pages > 1 {
        for page in 0..pages {
            let text = format!(
                "{} {} · page {} of {}",
                cert.kind_label,
                cert.number,
                page + 1,
                pages
            );
            let s = style(false, 7.5, MUTED);
            let w = l.width(&text, s)?;
            l.text(
                page,
                (PAGE_W - w) / 2.0,
                PAGE_H - 12.5 * MM,
                s,
                &text,
                Mark::Artifact(ArtifactType::Footer),
            )?;
        }
    }
    Ok(Laid {
        layout: l,
        body,
        spare,
        gaps,
    })
}

/// Lay out the units table from `top` on the first page; rows that do not fit above the band
/// go to further pages under a repeated header row. Returns the structure: a heading and a table.
fn units_table(l: &mut Layout<'_>, cert: &CertificatePrint, top: f32) -> Result<Vec<SNode>> {
    let credits = cert.units.iter().any(|u| u.credits.is_some());
    let grades = cert.units.iter().any(|u| u.grade.is_some());
    let head_style = style(true, 8.5, ACCENT);
    let cell = style(false, CELL_SIZE, INK);
    let ref_w = cert
        .units
        .iter()
        .map(|u| l.width(&u.reference, cell))
        .try_fold(l.width("Reference", head_style)?, |a, w| {
            w.map(|w| a.max(w))
        })?
        + 2.0 * CELL_PAD;
    let credits_w = if credits { 48.0 } else { 0.0 };
    let grade_w = if grades { 72.0 } else { 0.0 };
    let mut columns = vec![Column {
        header: "Reference",
        x: MARGIN,
        w: ref_w,
        right: false,
    }];
    columns.push(Column {
        header: "Unit",
        x: MARGIN + ref_w,
        w: CONTENT_W - ref_w - credits_w - grade_w,
        right: false,
    });
    if credits {
        columns.push(Column {
            header: "Credits",
            x: MARGIN + CONTENT_W - credits_w - grade_w,
            w: credits_w,
            right: true,
        });
    }
    if grades {
        columns.push(Column {
            header: "Grade",
            x: MARGIN + CONTENT_W - grade_w,
            w: grade_w,
            right: false,
        });
    }

    // Each row's cells as wrapped lines.
    let mut rows: Vec<Vec<Vec<String>>> = Vec::new();
    for unit in &cert.units {
        let mut cells = vec![vec![unit.reference.clone()]];
        cells.push(l.wrap(&unit.title, cell, columns[1].w - 2.0 * CELL_PAD)?);
        if credits {
            cells.push(vec![
                unit.credits.map(|c| c.to_string()).unwrap_or_default(),
            ]);
        }
        if grades {
            cells.push(l.wrap(
                unit.grade.as_deref().unwrap_or(""),
                cell,
                grade_w - 2.0 * CELL_PAD,
            )?);
        }
        rows.push(cells);
    }
    let row_h = |cells: &Vec<Vec<String>>| {
        let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
        lines as f32 * CELL_LEADING + 2.0 * CELL_PAD - (CELL_LEADING - CELL_SIZE)
    };

    let caption_leaf = l.leaf();
    let mut page = 0;
    let mut y = top;
    let first_row_h = rows.first().map(&row_h).unwrap_or(0.0);
    if y + 18.0 + HEADER_ROW_H + first_row_h > BAND_TOP - 12.0 {
        // Not even one row fits on the first page: the whole table goes overleaf.
        page = 1;
        l.frame(page);
        y = MARGIN + 24.0;
    }
    l.text(
        page,
        MARGIN,
        y + 10.0,
        style(true, 10.5, ACCENT),
        "Units",
        Mark::Leaf(caption_leaf),
    )?;
    y += 18.0;

    let mut header_cells = Vec::new();
    let draw_header =
        |l: &mut Layout<'_>, page: usize, y: f32, tagged: bool| -> Result<Vec<usize>> {
            l.rule(page, MARGIN, y, CONTENT_W, HEADER_ROW_H, SHADE);
            let mut leaves = Vec::new();
            for col in &columns {
                let mark = if tagged {
                    let leaf = l.leaf();
                    leaves.push(leaf);
                    Mark::Leaf(leaf)
                } else {
                    Mark::Artifact(ArtifactType::Header)
                };
                let w = l.width(col.header, head_style)?;
                let x = if col.right {
                    col.x + col.w - CELL_PAD - w
                } else {
                    col.x + CELL_PAD
                };
                l.text(page, x, y + 11.5, head_style, col.header, mark)?;
            }
            l.rule(page, MARGIN, y + HEADER_ROW_H - 0.6, CONTENT_W, 0.6, ACCENT);
            Ok(leaves)
        };
    header_cells.extend(draw_header(l, page, y, true)?);
    y += HEADER_ROW_H;

    let mut body_rows = Vec::new();
    let bottom = |page: usize| {
        if page == 0 {
            BAND_TOP - 26.0
        } else {
            PAGE_H - MARGIN - 6.0
        }
    };
    let count = rows.len();
    for (i, cells) in rows.iter().enumerate() {
        let h = row_h(cells);
        if y + h > bottom(page) {
            let s = style(false, 7.5, MUTED);
            l.text(
                page,
                MARGIN,
                y + 11.0,
                s,
                &format!(
                    "Units continue on the next page ({} of {} shown).",
                    i, count
                ),
                Mark::Artifact(ArtifactType::PaginationOther),
            )?;
            page += 1;
            l.frame(page);
            y = MARGIN + 24.0;
            let s = style(true, 10.5, ACCENT);
            l.text(
                page,
                MARGIN,
                y + 10.0,
                s,
                &format!("Units (continued) · {}", cert.learner_name),
                Mark::Artifact(ArtifactType::Header),
            )?;
            y += 18.0;
            draw_header(l, page, y, false)?;
            y += HEADER_ROW_H;
        }
        let mut tds = Vec::new();
        for (col, lines) in columns.iter().zip(cells) {
            let leaf = l.leaf();
            for (k, line) in lines.iter().enumerate() {
                let w = l.width(line.trim_end(), cell)?;
                let x = if col.right {
                    col.x + col.w - CELL_PAD - w
                } else {
                    col.x + CELL_PAD
                };
                let baseline = y + CELL_PAD + CELL_SIZE * 0.8 + k as f32 * CELL_LEADING;
                l.text(page, x, baseline, cell, line, Mark::Leaf(leaf))?;
            }
            tds.push(SNode::Group(Tag::TD.into(), vec![SNode::Leaf(leaf)]));
        }
        body_rows.push(SNode::Group(Tag::TR.into(), tds));
        y += h;
        l.rule(page, MARGIN, y - 0.3, CONTENT_W, 0.3, RULE);
        if page == 0 {
            l.end_y = y;
        }
    }

    let ths = header_cells
        .into_iter()
        .map(|leaf| {
            SNode::Group(
                Tag::TH(TableHeaderScope::Column).into(),
                vec![SNode::Leaf(leaf)],
            )
        })
        .collect();
    let table = SNode::Group(
        Tag::Table
            .with_summary(Some(format!("The {} units of this certificate", count)))
            .into(),
        vec![
            SNode::Group(Tag::THead.into(), vec![SNode::Group(Tag::TR.into(), ths)]),
            SNode::Group(Tag::TBody.into(), body_rows),
        ],
    );
    Ok(vec![heading(3, "Units", caption_leaf)?, table])
}

/// The foot of the first page: the facts of the award on the left, the QR code on the right.
fn band(l: &mut Layout<'_>, cert: &CertificatePrint) -> Result<Vec<SNode>> {
    let mut nodes = Vec::new();
    l.rule(0, MARGIN, BAND_TOP, CONTENT_W, 0.6, RULE);
    let label = style(false, 8.5, MUTED);
    let value = style(false, 10.0, INK);
    let labels_w = 100.0;
    let left_w = CONTENT_W - QR_SIZE - 16.0;
    let mut y = BAND_TOP + 24.0;
    let facts = [
        ("Date of award: ", &cert.awarded_on),
        ("Centre: ", &cert.centre_name),
        ("Certificate number: ", &cert.number),
    ];
    for (name, text) in facts {
        let leaf = l.leaf();
        l.text(0, MARGIN, y, label, name, Mark::Leaf(leaf))?;
        let lines = l.wrap(text, value, left_w - labels_w)?;
        for (k, line) in lines.iter().enumerate() {
            if k > 0 {
                y += 12.5;
            }
            l.text(0, MARGIN + labels_w, y, value, line, Mark::Leaf(leaf))?;
        }
        nodes.push(p(leaf));
        y += 16.0;
    }
    // The QR code, bottom right, with the URL in words beside it.
    let code =
        qrcode::QrCode::with_error_correction_level(cert.verify_url.as_bytes(), qrcode::EcLevel::M)
            .context("the verification URL does not fit in a QR code")?;
    let modules = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    let alt = format!("QR code linking to {}", cert.verify_url);
    let qr_leaf = l.leaf();
    let qr_x = MARGIN + CONTENT_W - QR_SIZE;
    let qr_y = PAGE_H - MARGIN - QR_SIZE;
    l.push(
        0,
        Op::Qr {
            x: qr_x,
            y: qr_y,
            size: QR_SIZE,
            dark,
            modules,
            leaf: qr_leaf,
        },
    );
    let mut figure = Tag::Figure(Some(alt));
    figure.set_bbox(Some(BBox::new(
        0,
        Rect::from_xywh(qr_x, qr_y, QR_SIZE, QR_SIZE).context("QR code box")?,
    )));
    nodes.push(SNode::Group(figure.into(), vec![SNode::Leaf(qr_leaf)]));

    let leaf = l.leaf();
    let s = style(false, 8.5, MUTED);
    let mut url_style = style(true, 8.5, ACCENT);
    while url_style.size > 6.5 && l.width(&cert.verify_url, url_style)? > left_w {
        url_style.size -= 0.5;
    }
    let url_lines = l.wrap(&cert.verify_url, url_style, left_w)?;
    let mut y = PAGE_H - MARGIN - 2.0 - (url_lines.len() as f32) * 11.0 - 12.0;
    l.text(
        0,
        MARGIN,
        y,
        s,
        "Check this certificate at ",
        Mark::Leaf(leaf),
    )?;
    for line in url_lines {
        y += 11.5;
        l.text(0, MARGIN, y, url_style, &line, Mark::Leaf(leaf))?;
    }
    nodes.push(p(leaf));
    Ok(nodes)
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn fill_rects(
    surface: &mut Surface<'_>,
    rects: &[(f32, f32, f32, f32)],
    color: (u8, u8, u8),
) -> Result<()> {
    let mut pb = PathBuilder::new();
    for &(x, y, w, h) in rects {
        pb.push_rect(Rect::from_xywh(x, y, w, h).context("an empty rectangle")?);
    }
    if let Some(path) = pb.finish() {
        surface.set_fill(Some(fill(color)));
        surface.draw_path(&path);
    }
    Ok(())
}

/// Draw the laid-out pages and write the document with its structure tree.
fn emit(cert: &CertificatePrint, layout: Layout<'_>, body: Vec<SNode>) -> Result<Vec<u8>> {
    let configuration = ConfigurationBuilder::new()
        .with_accessibility_validator(Accessibility::UA1)
        .finish()
        .map_err(|e| anyhow!("PDF configuration: {e:?}"))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: true,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    let size = Size::from_wh(PAGE_W, PAGE_H).context("page size")?;
    let mut leaves: Vec<Vec<Identifier>> = vec![Vec::new(); layout.leaves];
    for ops in &layout.pages {
        let mut page = document.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        for op in ops {
            match op {
                Op::Text {
                    x,
                    y,
                    style,
                    text,
                    glyphs,
                    mark,
                } => {
                    let id = match mark {
                        Mark::Artifact(kind) => surface.start_tagged(ContentTag::Artifact(
                            krilla::tagging::Artifact::with_kind(*kind),
                        )),
                        Mark::Leaf(_) => surface.start_tagged(ContentTag::Span(SpanTag::empty())),
                    };
                    surface.set_fill(Some(fill(style.color)));
                    let face = layout.face(style.bold);
                    surface.draw_glyphs(
                        Point::from_xy(*x, *y),
                        glyphs,
                        face.font.clone(),
                        text,
                        style.size,
                        false,
                    );
                    surface.end_tagged();
                    if let Mark::Leaf(leaf) = mark {
                        leaves[*leaf].push(id);
                    }
                }
                Op::Rect {
                    x,
                    y,
                    w,
                    h,
                    color,
                    mark,
                } => {
                    let id = match mark {
                        Mark::Artifact(kind) => surface.start_tagged(ContentTag::Artifact(
                            krilla::tagging::Artifact::with_kind(*kind),
                        )),
                        Mark::Leaf(_) => surface.start_tagged(ContentTag::Other),
                    };
                    fill_rects(&mut surface, &[(*x, *y, *w, *h)], *color)?;
                    surface.end_tagged();
                    if let Mark::Leaf(leaf) = mark {
                        leaves[*leaf].push(id);
                    }
                }
                Op::Frame {
                    inset,
                    width,
                    color,
                } => {
                    let (i, t) = (*inset, *width);
                    let (w, h) = (PAGE_W - 2.0 * i, PAGE_H - 2.0 * i);
                    surface.start_tagged(ContentTag::Artifact(
                        krilla::tagging::Artifact::with_kind(ArtifactType::Layout),
                    ));
                    fill_rects(
                        &mut surface,
                        &[
                            (i, i, w, t),
                            (i, i + h - t, w, t),
                            (i, i, t, h),
                            (i + w - t, i, t, h),
                        ],
                        *color,
                    )?;
                    surface.end_tagged();
                }
                Op::Qr {
                    x,
                    y,
                    size,
                    dark,
                    modules,
                    leaf,
                } => {
                    // Four modules of quiet zone each side; dark runs along a row as one rectangle.
                    let unit = size / (*modules as f32 + 8.0);
                    let mut rects = Vec::new();
                    for row in 0..*modules {
                        let mut col = 0;
                        while col < *modules {
                            if dark[row * modules + col] {
                                let start = col;
                                while col < *modules && dark[row * modules + col] {
                                    col += 1;
                                }
                                rects.push((
                                    x + (start as f32 + 4.0) * unit,
                                    y + (row as f32 + 4.0) * unit,
                                    (col - start) as f32 * unit,
                                    unit,
                                ));
                            } else {
                                col += 1;
                            }
                        }
                    }
                    let id = surface.start_tagged(ContentTag::Other);
                    fill_rects(&mut surface, &[(*x, *y, *size, *size)], (0xff, 0xff, 0xff))?;
                    fill_rects(&mut surface, &rects, (0, 0, 0))?;
                    surface.end_tagged();
                    leaves[*leaf].push(id);
                }
            }
        }
        surface.finish();
        page.finish();
    }

    let mut tree = TagTree::new().with_lang(Some("en-GB".to_owned()));
    for node in body {
        if let Some(node) = build(node, &leaves) {
            tree.push(node);
        }
    }
    document.set_tag_tree(tree);
    let title = format!("{} {}: {}", cert.kind_label, cert.number, cert.title);
    document.set_metadata(
        Metadata::new()
            .title(title.clone())
            .language("en-GB".to_owned())
            .authors(vec![cert.ao_name.clone()])
            .creator("Credence".to_owned())
            .description(format!(
                "{} awarded by {} ({}) to {} on {}",
                cert.kind_label, cert.ao_name, cert.ao_code, cert.learner_name, cert.awarded_on
            )),
    );
    let mut outline = Outline::new();
    outline.push_child(OutlineNode::new(
        title,
        XyzDestination::new(0, Point::from_xy(0.0, 0.0)),
    ));
    document.set_outline(outline);
    document
        .finish()
        .map_err(|e| anyhow!("could not write the certificate PDF: {e}"))
}

fn build(node: SNode, leaves: &[Vec<Identifier>]) -> Option<Node> {
    match node {
        SNode::Leaf(_) => None,
        SNode::Group(kind, children) => {
            let mut group = TagGroup::new(kind);
            for child in children {
                match child {
                    SNode::Leaf(leaf) => {
                        for id in leaves.get(leaf).into_iter().flatten() {
                            group.push(*id);
                        }
                    }
                    group_node => {
                        if let Some(n) = build(group_node, leaves) {
                            group.push(n);
                        }
                    }
                }
            }
            (!group.children.is_empty()).then_some(Node::Group(group))
        }
    }
}
