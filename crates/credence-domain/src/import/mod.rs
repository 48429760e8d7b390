//! The specification importer: plain text taken from an awarding organisation's PDF in, a
//! draft [`Specification`] plus an [`ImportReport`] out.
//!
//! PDF text is damaged: table cells split across lines, numbers lost, titles cut, and two
//! tables of one document that disagree. Each layout module repairs what it can decide from
//! the document itself and records every repair as a [`Finding`] with the seed's line number;
//! what it cannot decide is an *open* finding that a person resolves (a page, or a
//! corrections file: see [`crate::corrections`]) before the version can be published.
//! Values that disagree between tables are always open findings, never silently picked.
//!
//! A CASE 1.1 `CFPackage` (JSON) is read by [`case`] into the same draft and report.
//!
//! No I/O: callers hand over the bytes.

use crate::model::Specification;
use serde::{Deserialize, Serialize};

pub mod case;
mod ismm;
mod isp;
mod isp_advanced;
mod ocr;
pub mod text;

/// Largest specification accepted, in bytes. The biggest seed is 268 KB; a real
/// specification is text of a few hundred KB at most, so 8 MiB leaves ample room while
/// refusing a file that is plainly not one.
pub const MAX_SOURCE_BYTES: usize = 8 * 1024 * 1024;

/// The document layouts the importer recognises, each by its structure (its tables,
/// headings and numbering), whatever the document's title.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// ISP Professional Sales family, Level 3 layout ("Unit Title" tables, "Unit Ofqual
    /// ref.no."), as in the ISP Level 3 Qualifications in Professional Sales.
    IspLevel3,
    /// ISP Professional Sales family, Level 5 layout ("Unit Title" tables, "UAN"), as in the
    /// ISP Level 5 Qualifications in Professional Sales.
    IspLevel5,
    /// ISP unit tables marked "Mandatory or optional?", as in the ISP Level 5 Certificate &
    /// Diploma in Advanced Sales Professionalism.
    IspAdvanced,
    /// ISMM syllabus: LOs with indicative content numbered `1.1.1`.
    IsmmSyllabus,
    /// OCR unit: `Label: value` lines; LOs, ACs and teaching content side by side.
    OcrUnit,
    /// A 1EdTech CASE 1.1 `CFPackage` (JSON): another system's framework or Credence's own
    /// CASE export.
    CasePackage,
}

impl Layout {
    /// The family, as a person reads it (a report, an error): never a document's title,
    /// since a family's documents have many.
    pub fn describe(self) -> &'static str {
        match self {
            Layout::IspLevel3 => "ISP qualification specification (Level 3 layout)",
            Layout::IspLevel5 => "ISP qualification specification (Level 5 layout)",
            Layout::IspAdvanced => {
                "ISP qualification specification with mandatory and optional units"
            }
            Layout::IsmmSyllabus => "ISMM syllabus",
            Layout::OcrUnit => "OCR unit specification",
            Layout::CasePackage => "CASE 1.1 package",
        }
    }
}

/// Result of importing one document: the draft content and what the importer did.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub specification: Specification,
    pub report: ImportReport,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub layout: Layout,
    /// Number of lines in the source.
    pub source_lines: usize,
    pub findings: Vec<Finding>,
}

impl ImportReport {
    pub fn open(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open)
    }
    pub fn open_count(&self) -> usize {
        self.open().count()
    }
}

/// One place where the importer repaired the text, or could not decide.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// `F1`, `F2`... in document order; stable for one source text.
    pub id: String,
    /// 1-based line number in the source.
    pub line: usize,
    /// The text the importer saw there (trimmed, at most a few hundred characters).
    pub seen: String,
    pub kind: FindingKind,
    pub status: FindingStatus,
    /// What the importer did (repaired) or what a person must decide (open), in plain words.
    pub message: String,
    /// The field this is about, where there is one: what a correction sets.
    pub target: Option<Target>,
    /// The values the importer found or would accept (for a disagreement, each table's
    /// value). For a repair, the value it chose is first.
    pub candidates: Vec<String>,
    /// How a person resolved an open finding.
    pub resolution: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A number the PDF lost, inferred from the document (an AC number, a level).
    InferredNumber,
    /// Words the PDF split across cells or lines, re-joined.
    RejoinedText,
    /// A title cut short, completed from another table.
    CompletedTitle,
    /// Two tables of the document give different values.
    Disagreement,
    /// A QAN or unit reference that does not fit its format.
    InvalidIdentifier,
    /// The same qualification given twice (two QANs for one certificate title...).
    Duplicate,
    /// A value the document does not give anywhere.
    MissingValue,
    /// Anything else the importer wants a person to look at.
    Other,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// The importer decided from the document itself; recorded for a person to check.
    Repaired,
    /// Undecided: must be resolved before the version is published.
    Open,
    /// An open finding a person resolved.
    Resolved,
}

/// A field of the draft: what a correction sets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    pub entity: Entity,
    /// The unit key or the QAN.
    pub key: String,
    /// Field name as in the export format: `ofqual_ref`, `title`, `level`, `credit`, `glh`,
    /// `tqt`, `qan`; `exists` for a record that may have to be removed.
    pub field: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Qualification,
    Unit,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = match self.entity {
            Entity::Qualification => "qualification",
            Entity::Unit => "unit",
        };
        write!(f, "{e} {} {}", self.key, self.field)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty: choose the text of a specification")]
    Empty,
    #[error(
        "the file is {size} bytes, over the {max}-byte limit for a specification: check it is the specification's text, not the PDF or an archive"
    )]
    TooLarge { size: usize, max: usize },
    #[error(
        "the file is not text (it contains binary data near byte {offset}): export the specification's PDF to plain text and import that"
    )]
    Binary { offset: usize },
    #[error(
        "this does not look like a specification Credence reads. Credence recognises these families by their structure, whatever the title: ISP qualification specifications (Professional Sales, Levels 3 and 5: 'Unit Title' tables with 'Learning Outcomes' and 'Assessment Criteria'; Advanced Sales Professionalism: unit tables marked 'Mandatory or optional?'), ISMM syllabuses (learning outcomes with indicative content numbered 1.1.1) and OCR unit specifications ('Label: value' lines and a 'Learning Outcomes Assessment Criteria Teaching Content' table). For anything else, import a CASE 1.1 CFPackage (JSON, e.g. exported from OpenSALT) or a Credence catalogue export (JSON) instead"
    )]
    UnknownLayout,
    #[error(
        "this JSON is neither a CASE 1.1 CFPackage (an object with CFDocument and CFItems) nor a Credence catalogue export (\"format\": \"credence-catalogue\"): export the framework as a CASE 1.1 package, or the catalogue from Credence, and import that"
    )]
    UnknownJson,
    #[error("the {layout} could not be read: {reason} (line {line})")]
    Malformed {
        layout: &'static str,
        line: usize,
        reason: String,
    },
}

/// Decode and check the bytes, recognise the layout and parse.
pub fn import(bytes: &[u8]) -> Result<Imported, ImportError> {
    import_filed_under(bytes, None)
}

/// As [`import`]; a CASE package that does not name its awarding organisation the way
/// Credence's own does (another system's) is filed under `ao` when given: the awarding
/// organisation of the staff member who imports it.
pub fn import_filed_under(
    bytes: &[u8],
    ao: Option<&crate::model::AwardingOrganisation>,
) -> Result<Imported, ImportError> {
    let text = decode(bytes)?;
    if case::is_package(text) {
        let mut imported = case::parse(text, ao)?;
        number_findings(&mut imported);
        return Ok(imported);
    }
    if text.trim_start().starts_with(['{', '['])
        && serde_json::from_str::<serde_json::Value>(text).is_ok()
    {
        return Err(ImportError::UnknownJson);
    }
    let layout = detect_layout(text).ok_or(ImportError::UnknownLayout)?;
    let source = text::Source::new(text);
    let mut imported = match layout {
        Layout::IspLevel3 | Layout::IspLevel5 => isp::parse(&source, layout)?,
        Layout::IspAdvanced => isp_advanced::parse(&source)?,
        Layout::IsmmSyllabus => ismm::parse(&source)?,
        Layout::OcrUnit => ocr::parse(&source)?,
        Layout::CasePackage => case::parse(text, ao)?,
    };
    imported.report.source_lines = source.len();
    number_findings(&mut imported);
    Ok(imported)
}

/// Is this a CASE 1.1 package (rather than a specification's text or a Credence catalogue
/// export)? See [`case::is_package`].
pub fn is_case_package(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(case::is_package)
}

/// `F1`, `F2`... in report order.
fn number_findings(imported: &mut Imported) {
    for (i, f) in imported.report.findings.iter_mut().enumerate() {
        f.id = format!("F{}", i + 1);
    }
}

/// Check size, emptiness and that the bytes are UTF-8 text.
pub fn decode(bytes: &[u8]) -> Result<&str, ImportError> {
    if bytes.len() > MAX_SOURCE_BYTES {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            max: MAX_SOURCE_BYTES,
        });
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(ImportError::Binary { offset });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ImportError::Binary {
        offset: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    Ok(text)
}

/// Recognise a layout family from the document's structure: its tables, headings and
/// numbering, never its title, so that another suite, level, syllabus or unit of a family
/// Credence reads is recognised however it is titled.
///
/// - OCR unit: the "Learning Outcomes Assessment Criteria Teaching Content" table heading
///   and at least three `Label: value` lines (`Unit Title:`, `OCR unit number:`, `Credit
///   value:`, ...).
/// - ISMM syllabus: a "Learning outcomes / Indicative content" table and indicative content
///   numbered `1.1.1`.
/// - ISP (both families): an "Appendix 1 ... Qualification Content" heading and unit tables
///   whose heading row is "Learning Outcome(s) | Assessment Criteria". Units marked
///   "Mandatory or optional?" are the Advanced Sales Professionalism layout; units in
///   "Unit Title" tables are the Professional Sales layout, the Level 5 one when the unit's
///   reference is labelled "UAN", the Level 3 one when "Unit Ofqual ref.no.".
pub fn detect_layout(text: &str) -> Option<Layout> {
    let s = Structure::scan(text);
    if s.ocr_table_heading && s.ocr_labels.len() >= 3 {
        Some(Layout::OcrUnit)
    } else if s.lo_content_heading && s.content_numbers >= 3 {
        Some(Layout::IsmmSyllabus)
    } else if s.appendix_content && s.lo_criteria_heading > 0 && s.mandatory_optional > 0 {
        Some(Layout::IspAdvanced)
    } else if s.appendix_content && s.lo_criteria_heading > 0 && s.unit_title_rows > 0 {
        if s.uan_rows > s.ofqual_ref_rows {
            Some(Layout::IspLevel5)
        } else {
            Some(Layout::IspLevel3)
        }
    } else {
        None
    }
}

/// What [`detect_layout`] counts in a document.
#[derive(Debug, Default)]
struct Structure {
    /// OCR: the "Learning Outcomes Assessment Criteria Teaching Content" table heading.
    ocr_table_heading: bool,
    /// OCR: the distinct `Label:` lines seen.
    ocr_labels: std::collections::BTreeSet<&'static str>,
    /// ISMM: a table heading "Learning outcomes ... Indicative content".
    lo_content_heading: bool,
    /// ISMM: cells numbered `1.1.1`.
    content_numbers: usize,
    /// ISP: an "Appendix 1 – Qualification Content" heading.
    appendix_content: bool,
    /// ISP: unit table heading rows "Learning Outcome(s) | Assessment Criteria".
    lo_criteria_heading: usize,
    /// ISP Advanced: "Mandatory or optional?" rows.
    mandatory_optional: usize,
    /// ISP Professional Sales: "Unit Title" rows of a unit table.
    unit_title_rows: usize,
    /// ISP Level 3 layout: "Unit Ofqual ref.no." rows.
    ofqual_ref_rows: usize,
    /// ISP Level 5 layout: "UAN" rows.
    uan_rows: usize,
}

/// The `Label:` lines of an OCR unit specification.
const OCR_LABELS: &[&str] = &[
    "unit title:",
    "ocr unit number:",
    "sector unit number:",
    "level:",
    "credit value:",
    "guided learning hours:",
    "unit reference number:",
];

impl Structure {
    fn scan(text: &str) -> Self {
        let mut s = Structure::default();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() {
                continue;
            }
            // Without white space or case: PDF text splits words across cells
            // ("Asse\tssment Criteria").
            let flat: String = trimmed
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect();
            let flat = flat
                .replace(['*', '#'], "")
                .replace("<i>", "")
                .replace("</i>", "");
            if flat.contains("learningoutcomesassessmentcriteriateachingcontent") {
                s.ocr_table_heading = true;
            }
            let lower = trimmed.to_lowercase();
            for label in OCR_LABELS {
                if lower.starts_with(label) && lower.len() > label.len() {
                    s.ocr_labels.insert(label);
                }
            }
            if flat.starts_with("learningoutcomes")
                && flat.contains("indicativecontent")
                && !flat.contains("assessmentcriteri")
            {
                s.lo_content_heading = true;
            }
            s.content_numbers += text::raw_cells(trimmed)
                .iter()
                .filter(|c| is_content_number(c))
                .count();
            if flat.starts_with("appendix1") && flat.contains("qualificationcontent") {
                s.appendix_content = true;
            }
            if flat.starts_with("learningoutcome") && flat.contains("assessmentcriteria") {
                s.lo_criteria_heading += 1;
            }
            if flat.starts_with("mandatoryoroptional?") {
                s.mandatory_optional += 1;
            }
            let first = line.split('\t').next().unwrap_or("").trim();
            if line.contains('\t') {
                match first {
                    "Unit Title" => s.unit_title_rows += 1,
                    "UAN" => s.uan_rows += 1,
                    f if f.starts_with("Unit Ofqual ref") => s.ofqual_ref_rows += 1,
                    _ => {}
                }
            }
        }
        s
    }
}

/// `1.1.1` (or `<b>1.1.1</b>`): three numbers and two dots.
fn is_content_number(cell: &str) -> bool {
    let c = cell.replace("<b>", "").replace("</b>", "").replace('*', "");
    let parts: Vec<&str> = c.trim().split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Collects findings while a layout module parses.
#[derive(Debug, Default)]
pub struct Findings(pub Vec<Finding>);

impl Findings {
    fn push(
        &mut self,
        status: FindingStatus,
        kind: FindingKind,
        line: usize,
        seen: &str,
    ) -> &mut Finding {
        let seen: String = seen.trim().chars().take(300).collect();
        self.0.push(Finding {
            id: String::new(),
            line,
            seen,
            kind,
            status,
            message: String::new(),
            target: None,
            candidates: Vec::new(),
            resolution: None,
        });
        let last = self.0.len() - 1;
        &mut self.0[last]
    }

    /// Record a repair the importer decided from the document itself.
    pub fn repaired(
        &mut self,
        kind: FindingKind,
        line: usize,
        seen: &str,
        message: impl Into<String>,
        target: Option<Target>,
        chosen: Vec<String>,
    ) {
        let f = self.push(FindingStatus::Repaired, kind, line, seen);
        f.message = message.into();
        f.target = target;
        f.candidates = chosen;
    }

    /// Record a point a person must decide.
    pub fn open(
        &mut self,
        kind: FindingKind,
        line: usize,
        seen: &str,
        message: impl Into<String>,
        target: Option<Target>,
        candidates: Vec<String>,
    ) {
        let f = self.push(FindingStatus::Open, kind, line, seen);
        f.message = message.into();
        f.target = target;
        f.candidates = candidates;
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.0
    }
}

pub fn unit_target(key: &str, field: &str) -> Option<Target> {
    Some(Target {
        entity: Entity::Unit,
        key: key.to_string(),
        field: field.to_string(),
    })
}

pub fn qualification_target(qan: &str, field: &str) -> Option<Target> {
    Some(Target {
        entity: Entity::Qualification,
        key: qan.to_string(),
        field: field.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_refused_with_a_reason() {
        assert_eq!(import(b"").unwrap_err(), ImportError::Empty);
        assert_eq!(import(b"   \n\n\t").unwrap_err(), ImportError::Empty);
        assert!(matches!(
            import(b"PK\x03\x04\x00\x00binary").unwrap_err(),
            ImportError::Binary { offset: 4 }
        ));
        assert!(matches!(
            import(&[0xff, 0xfe, 0x41]).unwrap_err(),
            ImportError::Binary { offset: 0 }
        ));
        assert_eq!(
            import(b"Dear Sir, please find attached our invoice.").unwrap_err(),
            ImportError::UnknownLayout
        );
        let huge = vec![b'a'; MAX_SOURCE_BYTES + 1];
        assert!(matches!(
            import(&huge).unwrap_err(),
            ImportError::TooLarge { .. }
        ));
    }
}
