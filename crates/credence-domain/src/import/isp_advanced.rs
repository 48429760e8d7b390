//! ISP Level 5 Certificate & Diploma in Advanced Sales Professionalism (seed `002_…`).
//!
//! Layout: a cover (title, sector, the two QANs), a change-control table, "Key Facts", the
//! "Qualification Structure" with a mandatory and an optional unit table, prose sections
//! (TQT, entry requirements, assessment, simulation), then one block per unit: a label/value
//! table (`Title`, `Reference`, `Summary`, `Level`, `TQT`, `GLH`, `Credit value`,
//! `Mandatory or optional?`) and a four-column table (learning outcome, AC number + text,
//! assessment method, indicative content) that the PDF flattened into tab-separated cells.
//!
//! The damage this module repairs (each with a finding): LO numbers lost or wrong, AC numbers
//! lost, two ACs printed in one cell, cell text wrapped onto following lines or continued in
//! the next row or after a page break, words split between two cells of a summary, a garbled
//! `TQT` label, cells printed twice. What it cannot decide is an open finding: the two
//! tables disagreeing (title, TQT), the cover and Key Facts giving different Certificate QANs,
//! AC text cut by the PDF.

use super::text::{Source, cells, number, raw_cells, squash};
use super::{
    FindingKind, Findings, ImportError, ImportReport, Imported, Layout, qualification_target,
    unit_target,
};
use crate::ident::{Qan, UnitRef};
use crate::model::{
    AssessmentCriterion, AwardingOrganisation, ChangeEntry, ContentItem, Grading, LearningOutcome,
    Qualification, QualificationSize, QualificationUnit, Range, Requirement, Simulation,
    Specification, Unit,
};
use std::collections::HashSet;

const LAYOUT: &str = "ISP qualification specification with mandatory and optional units";
const MANDATORY: &str = "MANDATORY";
const OPTIONAL: &str = "OPTIONAL";
/// Ofqual's name for sector subject area 15.4.
const SECTOR_15_4: &str = "15.4 Marketing and Sales";

/// Verbs an assessment criterion starts with: used to find two ACs the PDF printed in one
/// cell ("... with own organisation Follow up opportunities ...").
const AC_VERBS: &[&str] = &[
    "Agree",
    "Allocate",
    "Analyse",
    "Apply",
    "Assess",
    "Build",
    "Calculate",
    "Consult",
    "Create",
    "Deliver",
    "Demonstrate",
    "Describe",
    "Develop",
    "Distribute",
    "Ensure",
    "Establish",
    "Estimate",
    "Evaluate",
    "Explain",
    "Follow",
    "Gather",
    "Identify",
    "Implement",
    "Maintain",
    "Make",
    "Manage",
    "Monitor",
    "Negotiate",
    "Plan",
    "Prepare",
    "Present",
    "Provide",
    "Recognise",
    "Resolve",
    "Review",
    "Select",
    "Set",
    "Steer",
    "Store",
    "Submit",
    "Use",
    "Write",
];

fn malformed(line: usize, reason: &str) -> ImportError {
    ImportError::Malformed {
        layout: LAYOUT,
        line,
        reason: reason.to_string(),
    }
}

/// A row of the "Mandatory units" / "Optional units" tables.
#[derive(Debug)]
struct TableRow {
    line: usize,
    ao_ref: String,
    title: String,
    level: Option<u8>,
    glh: Option<u32>,
    tqt: Option<u32>,
    credit: Option<u32>,
    group: &'static str,
}

pub fn parse(source: &Source) -> Result<Imported, ImportError> {
    let mut f = Findings::default();
    let vocab = vocabulary(source, &summary_join_candidates(source));

    // ---- Cover -------------------------------------------------------------------------
    // The layout was recognised by its structure: the title is the first line, whatever
    // it names ("ISP Level 5 Certificate & Diploma in Advanced Sales Professionalism").
    let (title_line, doc_title) = source
        .numbered()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| (n, squash(l)))
        .ok_or_else(|| malformed(1, "the document has no title"))?;
    // Level 5 unless the title names another.
    let doc_level = super::text::level_named(&doc_title).unwrap_or(5);
    let spec_end = source
        .find_from(1, "Qualification Specification")
        .unwrap_or(title_line + 12);

    let mut sector = None;
    let mut cover_qans: Vec<(usize, String)> = Vec::new();
    for n in title_line + 1..spec_end {
        let l = source.line(n).trim();
        if l.is_empty() {
            continue;
        }
        if looks_like_qan(l) {
            match Qan::parse(l) {
                Ok(q) => cover_qans.push((n, q.as_str().to_string())),
                Err(e) => f.open(
                    FindingKind::InvalidIdentifier,
                    n,
                    l,
                    format!("{e}; the qualification it belongs to cannot be keyed until a person corrects it"),
                    None,
                    vec![l.to_string()],
                ),
            }
        } else if sector.is_none() && l.starts_with("15.4") {
            sector = Some(SECTOR_15_4.to_string());
            if l != SECTOR_15_4 {
                f.repaired(
                    FindingKind::Other,
                    n,
                    l,
                    format!("Sector printed as '{l}'; recorded under Ofqual's name for sector subject area 15.4, '{SECTOR_15_4}'"),
                    None,
                    vec![SECTOR_15_4.to_string()],
                );
            }
        }
    }

    // ---- Change control ----------------------------------------------------------------
    let mut change_log = Vec::new();
    if let Some(h) = source
        .numbered()
        .find(|(_, l)| l.starts_with("Version\t") && l.contains("Publication date"))
        .map(|(n, _)| n)
    {
        let mut n = h + 1;
        while n <= source.len() && !source.line(n).trim().is_empty() {
            let c = cells(source.line(n));
            if c.len() >= 2 {
                let (date, exact) = iso_date(c[1]);
                if date.is_some() && !exact {
                    f.repaired(
                        FindingKind::Other,
                        n,
                        source.line(n),
                        format!(
                            "Publication date '{}' gives a month and a two-digit year only; recorded as the ISO 8601 month {}",
                            c[1],
                            date.clone().unwrap_or_default()
                        ),
                        None,
                        date.iter().cloned().collect(),
                    );
                } else if date.is_none() {
                    f.open(
                        FindingKind::MissingValue,
                        n,
                        source.line(n),
                        format!(
                            "Publication date '{}' is not a date the importer can read",
                            c[1]
                        ),
                        None,
                        vec![c[1].to_string()],
                    );
                }
                change_log.push(ChangeEntry {
                    version: c[0].to_string(),
                    date,
                    summary: c.get(2).map(|s| squash(s)).unwrap_or_default(),
                });
            }
            n += 1;
        }
    }
    let document_version = change_log.last().map(|c| c.version.clone());
    let published_on = change_log.last().and_then(|c| c.date.clone());

    // ---- Key facts ---------------------------------------------------------------------
    let mut facts_qans: Vec<(usize, String, String)> = Vec::new(); // line, qan, label
    let mut facts_tqt = None;
    let mut facts_glh = None;
    let mut facts_credit = None;
    if let Some(k) = source.find_from(1, "Qualification Accreditation Number (QAN)") {
        let mut n = k;
        while n <= source.len() && !source.line(n).trim().is_empty() {
            let c = cells(source.line(n));
            let label = if n == k {
                "QAN"
            } else {
                c.first().copied().unwrap_or("")
            };
            let value = if n == k || c.len() == 1 {
                c.last().copied().unwrap_or("")
            } else {
                c.get(1).copied().unwrap_or("")
            };
            if looks_like_qan(value.get(..10).unwrap_or("")) {
                let q = &value[..10];
                let what = value[10..].trim().trim_matches(['(', ')']).to_string();
                match Qan::parse(q) {
                    Ok(q) => facts_qans.push((n, q.as_str().to_string(), what)),
                    Err(e) => f.open(
                        FindingKind::InvalidIdentifier,
                        n,
                        source.line(n),
                        e.to_string(),
                        None,
                        vec![q.to_string()],
                    ),
                }
            } else if label.starts_with("Total Qualification Time") {
                facts_tqt = number(value).map(|v| (n, v));
            } else if label.starts_with("Guided Learning Hours") {
                facts_glh = number(value).map(|v| (n, v));
            } else if label.starts_with("Credit value") {
                facts_credit = number(value).map(|v| (n, v));
            }
            n += 1;
        }
    }

    // ---- Structure tables ----------------------------------------------------------------
    let mut rows = structure_table(source, "Mandatory units", MANDATORY);
    rows.extend(structure_table(source, "Optional units", OPTIONAL));
    if rows.is_empty() {
        return Err(malformed(1, "no 'Mandatory units' table"));
    }
    let cert_rule_line = source.find_from(1, "To achieve the Certificate qualification");
    let dip_rule_line = source.find_from(1, "To achieve the Diploma qualification");

    // ---- Prose sections ------------------------------------------------------------------
    let tqt_lines = prose_hours(source);
    let entry_requirements = section_paragraph(source, "Learner entry requirements");
    let assessment = section_paragraph(source, "Qualification Assessment");
    let pass_only = source
        .numbered()
        .find(|(_, l)| l.contains("only graded at Pass"))
        .map(|(n, _)| n);
    if pass_only.is_none() {
        f.open(
            FindingKind::MissingValue,
            1,
            "",
            "The document does not say how the qualifications are graded; drafted as Pass only",
            None,
            vec!["pass_only".into()],
        );
    }
    let simulation_line = source
        .numbered()
        .find(|(_, l)| l.contains("simulation") && l.contains("exceptional circumstances"))
        .map(|(n, _)| n);

    // ---- Units ---------------------------------------------------------------------------
    let starts: Vec<usize> = source
        .numbered()
        .filter(|(_, l)| l.starts_with("Title\t"))
        .map(|(n, _)| n)
        .collect();
    let mut units = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(source.len() + 1);
        units.push(parse_unit(
            source,
            s,
            end,
            &vocab,
            &rows,
            simulation_line,
            &mut f,
        )?);
    }
    let missing_method: Vec<&str> = units
        .iter()
        .filter(|u| u.assessment_method.is_none())
        .map(|u| u.ao_ref.as_str())
        .collect();
    if !missing_method.is_empty() {
        let line = starts.first().copied().unwrap_or(1);
        f.repaired(
            FindingKind::MissingValue,
            line + 9,
            source.line(line + 9),
            format!(
                "The 'Assessment Method' column is empty for {}; assessment_method left empty (the qualification's portfolio assessment applies)",
                missing_method.join(", ")
            ),
            None,
            vec![],
        );
    }
    // Units of the structure tables that have no unit specification.
    for r in &rows {
        if !units.iter().any(|u| u.ao_ref == r.ao_ref) {
            f.open(
                FindingKind::MissingValue,
                r.line,
                &format!("{} {}", r.ao_ref, r.title),
                format!(
                    "Unit {} is listed in the structure table but has no unit specification",
                    r.ao_ref
                ),
                unit_target(&format!("ISP:{}", r.ao_ref), "exists"),
                vec![],
            );
        }
    }
    f.repaired(
        FindingKind::MissingValue,
        rows[0].line,
        source.line(rows[0].line),
        "The document gives no Ofqual unit reference for any unit; units are keyed by the ISP reference ('ISP:ISP501')",
        None,
        vec![],
    );

    // ---- Qualifications ----------------------------------------------------------------
    let key_of = |ao_ref: &str| -> Option<String> {
        units
            .iter()
            .find(|u| u.ao_ref == ao_ref)
            .map(|u| u.key.clone())
    };
    let mandatory: Vec<String> = rows
        .iter()
        .filter(|r| r.group == MANDATORY)
        .filter_map(|r| key_of(&r.ao_ref))
        .collect();
    let optional: Vec<String> = rows
        .iter()
        .filter(|r| r.group == OPTIONAL)
        .filter_map(|r| key_of(&r.ao_ref))
        .collect();
    let credit_of = |keys: &[String]| -> u32 {
        keys.iter()
            .filter_map(|k| units.iter().find(|u| &u.key == k))
            .filter_map(|u| u.credit)
            .sum()
    };

    // Which QAN is which: the cover lists them in the order of the title ("Certificate &
    // Diploma"); Key Facts labels each.
    let cert_pos = doc_title.find("Certificate");
    let dip_pos = doc_title.find("Diploma");
    let cover_order_cert_first = match (cert_pos, dip_pos) {
        (Some(c), Some(d)) => c < d,
        _ => true,
    };
    let (cover_cert, cover_dip) = match cover_qans.as_slice() {
        [a, b, ..] if cover_order_cert_first => (Some(a.clone()), Some(b.clone())),
        [a, b, ..] => (Some(b.clone()), Some(a.clone())),
        [a] => (Some(a.clone()), None),
        [] => (None, None),
    };
    let facts_for = |label: &str| {
        facts_qans
            .iter()
            .find(|(_, _, w)| w.contains(label))
            .cloned()
    };

    let mut qualifications = Vec::new();
    for (size, word) in [
        (QualificationSize::Certificate, "Certificate"),
        (QualificationSize::Diploma, "Diploma"),
    ] {
        let cover = if word == "Certificate" {
            cover_cert.clone()
        } else {
            cover_dip.clone()
        };
        let facts = facts_for(word);
        let qan = match (&cover, &facts) {
            (Some((cl, cq)), Some((fl, fq, _))) => {
                if cq != fq {
                    f.open(
                        FindingKind::Disagreement,
                        *fl,
                        source.line(*fl),
                        format!(
                            "The {word}'s QAN is {cq} on the cover (line {cl}, listed in the title's order) but {fq} in Key Facts (line {fl}); both pass the check character. The draft keeps the cover's {cq} until a person checks the Ofqual register"
                        ),
                        qualification_target(cq, "qan"),
                        vec![cq.clone(), fq.clone()],
                    );
                }
                cq.clone()
            }
            (Some((_, cq)), None) => cq.clone(),
            (None, Some((_, fq, _))) => fq.clone(),
            (None, None) => {
                f.open(
                    FindingKind::MissingValue,
                    title_line,
                    &doc_title,
                    format!("No QAN found for the {word}; it was not added"),
                    None,
                    vec![],
                );
                continue;
            }
        };
        let title = doc_title.replace("Certificate & Diploma", word);
        let (rule_line, mut units_in, rules) = if word == "Certificate" {
            (
                cert_rule_line,
                mandatory
                    .iter()
                    .map(|k| QualificationUnit {
                        unit: k.clone(),
                        group: Some(MANDATORY.into()),
                    })
                    .collect::<Vec<_>>(),
                vec![Requirement::Mandatory {
                    units: mandatory.clone(),
                }],
            )
        } else {
            let mut rules = vec![Requirement::Mandatory {
                units: mandatory.clone(),
            }];
            // "plus 5 optional units": the number the text states, out of the optional table.
            let wanted = dip_rule_line
                .and_then(|n| count_before(source.line(n), "optional"))
                .unwrap_or(optional.len() as u32);
            rules.push(Requirement::ChooseUnits {
                units: optional.clone(),
                min: wanted,
                max: Some(wanted),
            });
            (
                dip_rule_line,
                mandatory_and_optional(&mandatory, &optional),
                rules,
            )
        };
        units_in.dedup();
        let mut rules = rules;
        let stated_hours = tqt_lines.iter().find(|h| h.what == word);
        let (glh, tqt) = match stated_hours {
            Some(h) => (Some(Range::exactly(h.glh)), Some(Range::exactly(h.tqt))),
            None => (None, None),
        };
        let credit_sum = credit_of(&units_in.iter().map(|u| u.unit.clone()).collect::<Vec<_>>());
        // Key facts give one set of figures; they are the Diploma's (the TQT section says so).
        let facts_match =
            matches!((facts_tqt, stated_hours), (Some((_, t)), Some(h)) if t == h.tqt);
        let credit = if facts_match {
            if let Some((cl, c)) = facts_credit {
                rules.push(Requirement::TotalCredit {
                    min: Some(c),
                    max: Some(c),
                });
                if c != credit_sum {
                    f.open(
                        FindingKind::Disagreement,
                        cl,
                        source.line(cl),
                        format!("Key Facts give the {word} {c} credits but its units add up to {credit_sum}; the draft keeps {c}"),
                        qualification_target(&qan, "credit"),
                        vec![c.to_string(), credit_sum.to_string()],
                    );
                }
                if let (Some((tl, _)), Some((_, g)), Some(h)) = (facts_tqt, facts_glh, stated_hours)
                    && g != h.glh
                {
                    f.open(
                        FindingKind::Disagreement,
                        tl,
                        source.line(tl),
                        format!("Key Facts give {g} GLH, the TQT section {}", h.glh),
                        qualification_target(&qan, "glh"),
                        vec![h.glh.to_string(), g.to_string()],
                    );
                }
                f.repaired(
                    FindingKind::Other,
                    cl,
                    source.line(cl),
                    format!(
                        "Key Facts list both QANs but one set of figures (TQT {}, credit {c}); they are the {word}'s (its TQT at line {} is the same), so the credit value is read as the {word}'s",
                        facts_tqt.map(|t| t.1).unwrap_or_default(),
                        stated_hours.map(|h| h.line).unwrap_or_default()
                    ),
                    qualification_target(&qan, "credit"),
                    vec![c.to_string()],
                );
                Range::exactly(c)
            } else {
                Range::exactly(credit_sum)
            }
        } else {
            f.repaired(
                FindingKind::MissingValue,
                rule_line.unwrap_or(title_line),
                rule_line.map(|n| source.line(n)).unwrap_or(""),
                format!(
                    "The document states no credit value for the {word}; recorded as {credit_sum}, the total of the units it requires"
                ),
                qualification_target(&qan, "credit"),
                vec![credit_sum.to_string()],
            );
            Range::exactly(credit_sum)
        };
        if let (Some(h), Some(g)) = (stated_hours, glh) {
            let unit_glh: u32 = units_in
                .iter()
                .filter_map(|q| units.iter().find(|u| u.key == q.unit))
                .filter_map(|u| u.glh)
                .sum();
            if unit_glh != g.min {
                f.open(
                    FindingKind::Disagreement,
                    h.line,
                    source.line(h.line),
                    format!(
                        "The {word}'s GLH is {} but its units' GLH add up to {unit_glh}",
                        g.min
                    ),
                    qualification_target(&qan, "glh"),
                    vec![g.min.to_string(), unit_glh.to_string()],
                );
            }
        }
        let rules_text: Vec<String> = rule_line
            .map(|n| squash(source.line(n).trim_end_matches('*').trim()))
            .into_iter()
            .collect();
        if let Some(n) = rule_line
            && source.line(n).trim_end().ends_with('*')
        {
            f.repaired(
                FindingKind::Other,
                n,
                source.line(n),
                "The rule ends with '*' but the document has no note for it; the 'Rules of Combination' paragraph adds no rule. The asterisk is left out of rules_text",
                qualification_target(&qan, "rules"),
                vec![],
            );
        }
        qualifications.push(Qualification {
            qan,
            title,
            level: doc_level,
            size,
            credit,
            glh,
            tqt,
            grading: Grading::PassOnly,
            assessment: assessment.clone(),
            minimum_age: None,
            entry_requirements: entry_requirements.clone(),
            units: units_in,
            rules,
            rules_text,
        });
    }

    let specification = Specification {
        key: super::text::spec_key("isp", doc_level, &doc_title),
        title: doc_title,
        awarding_organisation: AwardingOrganisation {
            code: "ISP".into(),
            name: "Institute of Sales Professionals".into(),
        },
        document_version,
        published_on,
        change_log,
        sector,
        qualifications,
        units,
    };
    let mut findings = f.into_vec();
    findings.sort_by_key(|x| x.line);
    Ok(Imported {
        specification,
        report: ImportReport {
            layout: Layout::IspAdvanced,
            source_lines: source.len(),
            findings,
        },
    })
}

fn mandatory_and_optional(mandatory: &[String], optional: &[String]) -> Vec<QualificationUnit> {
    mandatory
        .iter()
        .map(|k| QualificationUnit {
            unit: k.clone(),
            group: Some(MANDATORY.into()),
        })
        .chain(optional.iter().map(|k| QualificationUnit {
            unit: k.clone(),
            group: Some(OPTIONAL.into()),
        }))
        .collect()
}

/// "plus 5 optional units" → 5.
fn count_before(line: &str, word: &str) -> Option<u32> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1].trim_end_matches(['*', ',', '.']) == word)
        .and_then(|w| number(w[0]))
}

fn looks_like_qan(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && b[3] == b'/' && b[8] == b'/' && b[..3].iter().all(u8::is_ascii_digit)
}

/// "Feb-22" → ("2022-02", false); "06/05/2025" → ("2025-05-06", true).
fn iso_date(s: &str) -> (Option<String>, bool) {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = s.trim();
    let parts: Vec<&str> = s.split(['-', '/', ' ']).filter(|p| !p.is_empty()).collect();
    let year = |y: &str| -> Option<u32> {
        let v = number(y)?;
        Some(if y.len() == 2 { 2000 + v } else { v })
    };
    let month = |m: &str| -> Option<u32> {
        let lower = m.to_ascii_lowercase();
        MONTHS
            .iter()
            .position(|x| lower.starts_with(x))
            .map(|i| i as u32 + 1)
            .or_else(|| number(m).filter(|v| (1..=12).contains(v)))
    };
    match parts.as_slice() {
        [m, y] => match (month(m), year(y)) {
            (Some(m), Some(y)) => (Some(format!("{y:04}-{m:02}")), false),
            _ => (None, false),
        },
        [d, m, y] => match (number(d), month(m), year(y)) {
            (Some(d), Some(m), Some(y)) if (1..=31).contains(&d) => {
                (Some(format!("{y:04}-{m:02}-{d:02}")), true)
            }
            _ => (None, false),
        },
        _ => (None, false),
    }
}

/// One of the TQT bullet lines: "... for the Certificate is 200 hours (Guided Learning (GLH)
/// is 152 hours)".
struct Hours {
    line: usize,
    what: &'static str,
    tqt: u32,
    glh: u32,
}

fn prose_hours(source: &Source) -> Vec<Hours> {
    let mut out = Vec::new();
    for (n, l) in source.numbered() {
        if !l
            .trim_start_matches(['-', ' '])
            .starts_with("Total qualification time (TQT) for the")
        {
            continue;
        }
        let what = if l.contains("for the Certificate") {
            "Certificate"
        } else if l.contains("for the Diploma") {
            "Diploma"
        } else {
            continue;
        };
        let nums: Vec<u32> = l
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(number)
            .collect();
        if let [tqt, glh, ..] = nums.as_slice() {
            out.push(Hours {
                line: n,
                what,
                tqt: *tqt,
                glh: *glh,
            });
        }
    }
    out
}

/// The first paragraph after a heading line (the heading alone on its line).
fn section_paragraph(source: &Source, heading: &str) -> Option<String> {
    let h = source
        .numbered()
        .find(|(_, l)| l.trim() == heading)
        .map(|(n, _)| n)?;
    let mut n = h + 1;
    while n <= source.len() && source.line(n).trim().is_empty() {
        n += 1;
    }
    let mut parts = Vec::new();
    while n <= source.len() && !source.line(n).trim().is_empty() {
        parts.push(source.line(n).trim());
        n += 1;
    }
    let p = squash(&parts.join(" "));
    (!p.is_empty()).then_some(p)
}

fn structure_table(source: &Source, heading: &str, group: &'static str) -> Vec<TableRow> {
    let Some(h) = source
        .numbered()
        .find(|(_, l)| l.trim() == heading)
        .map(|(n, _)| n)
    else {
        return Vec::new();
    };
    let mut rows: Vec<TableRow> = Vec::new();
    let mut titles: Vec<Vec<String>> = Vec::new();
    let mut themes: Vec<String> = Vec::new();
    let mut n = h + 1;
    let mut seen_header = false;
    while n <= source.len() {
        let line = source.line(n);
        let raw = raw_cells(line);
        let c = cells(line);
        if c.is_empty() {
            if !rows.is_empty() {
                break;
            }
            n += 1;
            continue;
        }
        if c[0] == "Ref" {
            seen_header = true;
        } else if !seen_header {
            break;
        } else if raw[0].is_empty() {
            if let Some(t) = titles.last_mut() {
                t.push(c.join(" "));
            }
        } else {
            let nums: Vec<Option<u32>> = c.iter().skip(1).map(|s| number(s)).collect();
            let first_num = nums.iter().position(Option::is_some).map(|i| i + 1);
            let text_end = first_num.unwrap_or(c.len());
            let vals: Vec<u32> = nums.iter().flatten().copied().collect();
            themes.push(c[1..text_end].join(" "));
            titles.push(Vec::new());
            rows.push(TableRow {
                line: n,
                ao_ref: normalise_ref(c[0]),
                title: String::new(),
                level: vals.first().and_then(|v| u8::try_from(*v).ok()),
                glh: vals.get(1).copied(),
                tqt: vals.get(2).copied(),
                credit: vals.get(3).copied(),
                group,
            });
        }
        n += 1;
    }
    for ((r, t), theme) in rows.iter_mut().zip(titles).zip(themes) {
        let joined = squash(&t.join(" "));
        let title = if joined.is_empty() { theme } else { joined };
        r.title = title.trim_end_matches('.').trim().to_string();
    }
    rows
}

/// "ISP/501" → "ISP501".
fn normalise_ref(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '/')
        .collect()
}

/// The words [`join_cut`] may try where a summary row is split between cells: every summary
/// row (`Summary` and the unlabelled rows after it), every pair of neighbouring cells.
fn summary_join_candidates(source: &Source) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_summary = false;
    for (_, line) in source.numbered() {
        if !(line.starts_with("Summary\t") || (in_summary && line.starts_with('\t'))) {
            in_summary = false;
            continue;
        }
        let raw = raw_cells(line);
        match raw.first().copied() {
            Some("Summary") => in_summary = true,
            Some("") if in_summary && raw.iter().any(|c| !c.is_empty()) => {}
            _ => {
                in_summary = false;
                continue;
            }
        }
        let values: Vec<&str> = raw
            .iter()
            .skip(1)
            .copied()
            .filter(|c| !c.is_empty())
            .collect();
        for pair in values.windows(2) {
            out.extend(
                cut_candidates(pair[0], pair[1])
                    .into_iter()
                    .map(|c| c.to_lowercase()),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Which of `wanted` occur as whole words anywhere in the document (ASCII case ignored): the
/// document's own vocabulary decides how a word cut between cells is re-joined. One pass over
/// the text; a word is compared only with the wanted words of its length.
fn vocabulary(source: &Source, wanted: &[String]) -> HashSet<String> {
    let mut found = HashSet::new();
    if wanted.is_empty() {
        return found;
    }
    let max_len = wanted.iter().map(String::len).max().unwrap_or(0);
    let mut by_len: Vec<Vec<&str>> = vec![Vec::new(); max_len + 1];
    for w in wanted {
        by_len[w.len()].push(w.as_str());
    }
    for (_, line) in source.numbered() {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if !b[i].is_ascii_alphabetic() {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            // A run touching a non-ASCII letter is not a whole ASCII word.
            let whole =
                (start == 0 || b[start - 1].is_ascii()) && (i == b.len() || b[i].is_ascii());
            let len = i - start;
            if whole && len <= max_len {
                let word = &b[start..i];
                for w in &by_len[len] {
                    if word.eq_ignore_ascii_case(w.as_bytes()) {
                        found.insert((*w).to_string());
                    }
                }
            }
        }
    }
    found
}

/// Join two pieces of one line the PDF split between cells, possibly inside a word
/// ("strategic re" + "lationships"; "psychol" + "logy" with the letter at the cut printed
/// twice; "intelliger" + "nce" with a stray letter). Returns the text and whether a word was
/// re-joined.
fn join_cut(left: &str, right: &str, vocab: &HashSet<String>) -> (String, bool) {
    let left = left.trim_end();
    let right = right.trim_start();
    let spaced = || format!("{left} {right}");
    let Some((l_word, r_word)) = cut_words(left, right) else {
        return (spaced(), false);
    };
    let l_stem = &left[..left.len() - l_word.len()];
    let r_tail = &right[r_word.len()..];
    for c in cut_candidates(left, right) {
        if vocab.contains(&c.to_lowercase()) {
            return (format!("{l_stem}{c}{r_tail}"), true);
        }
    }
    (spaced(), false)
}

/// The last word of `left` and the first of `right`, when `right` goes on in lower case.
fn cut_words(left: &str, right: &str) -> Option<(String, String)> {
    let l_word: String = left
        .trim_end()
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let r_word: String = right
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect();
    let lower_start = r_word.chars().next().is_some_and(char::is_lowercase);
    (!l_word.is_empty() && lower_start).then_some((l_word, r_word))
}

/// The words a cut may hide, most likely first: the two pieces run together
/// ("re" + "lationships"), the letters at the cut printed twice ("psychol" + "logy"), a stray
/// letter at the end of the left piece ("intelliger" + "nce"). Only words longer than both
/// pieces.
fn cut_candidates(left: &str, right: &str) -> Vec<String> {
    let Some((l_word, r_word)) = cut_words(left, right) else {
        return Vec::new();
    };
    let mut candidates: Vec<String> = vec![format!("{l_word}{r_word}")];
    for k in 1..=3 {
        if let (Some(suffix), Some(prefix)) = (
            l_word
                .char_indices()
                .rev()
                .nth(k - 1)
                .map(|(i, _)| &l_word[i..]),
            r_word.char_indices().nth(k).map(|(i, _)| &r_word[..i]),
        ) && suffix == prefix
        {
            candidates.push(format!("{l_word}{}", &r_word[prefix.len()..]));
        }
    }
    if let Some((i, _)) = l_word.char_indices().last() {
        candidates.push(format!("{}{r_word}", &l_word[..i]));
    }
    candidates
        .into_iter()
        .filter(|c| c.len() > l_word.len().max(r_word.len()))
        .collect()
}

/// `1.1` → Some((1, 1)).
fn ac_number(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once('.')?;
    if a.is_empty() || b.is_empty() || !a.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if !b.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some((number(a)?, number(b)?))
}

/// "4.2 Store proposal ..." → Some(("4.2", "Store proposal ...")).
fn merged_ac(s: &str) -> Option<(&str, &str)> {
    let (head, rest) = s.split_once(' ')?;
    ac_number(head)?;
    let rest = rest.trim();
    rest.chars()
        .next()
        .is_some_and(char::is_uppercase)
        .then_some((head, rest))
}

/// A learning outcome cell's printed number: "2. Be able" / "3 Be able" → (Some(2), "Be able").
fn lo_prefix(s: &str) -> (Option<u32>, &str) {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return (None, s);
    }
    let rest = &s[digits.len()..];
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    if !rest.starts_with(' ') {
        return (None, s);
    }
    (number(&digits), rest.trim())
}

#[derive(Debug)]
struct LoBuild {
    number: u32,
    line: usize,
    text: String,
    acs: Vec<AcBuild>,
}

#[derive(Debug)]
struct AcBuild {
    lo: u32,
    n: u32,
    line: usize,
    text: String,
}

#[derive(Debug)]
struct Frag {
    line: usize,
    lo: usize,
    text: String,
    /// First content cell of a row that carries an AC (a new item may start here).
    on_row: bool,
    /// First line after a page break.
    after_break: bool,
}

fn append(text: &mut String, more: &str) {
    let more = more.trim();
    if more.is_empty() {
        return;
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(more);
}

#[allow(clippy::too_many_lines)]
fn parse_unit(
    source: &Source,
    start: usize,
    end: usize,
    vocab: &HashSet<String>,
    rows: &[TableRow],
    simulation_line: Option<usize>,
    f: &mut Findings,
) -> Result<Unit, ImportError> {
    // ---- Label/value table ----
    let title_cells = cells(source.line(start));
    let printed_title = title_cells.get(1).copied().unwrap_or("");
    let after_unit = match printed_title.split_once(':') {
        Some((head, rest)) if head.trim_start().starts_with("Unit") => rest,
        _ => printed_title,
    };
    let title = squash(after_unit.trim_start_matches([':', ' ']).trim());
    if title.is_empty() {
        return Err(malformed(start, "unit title is empty"));
    }
    let stray_colon = after_unit.trim_start().starts_with(':');

    let mut ao_ref = String::new();
    let mut ref_line = start;
    let mut summary = String::new();
    let mut summary_line = 0;
    let mut summary_joined = Vec::new();
    let mut level: Option<(usize, u32)> = None;
    let mut tqt: Option<(usize, u32)> = None;
    let mut glh: Option<(usize, u32)> = None;
    let mut credit: Option<(usize, u32)> = None;
    let mut group: Option<(usize, &'static str)> = None;
    let mut header = None;
    let mut in_summary = false;
    let mut n = start + 1;
    while n < end {
        let line = source.line(n);
        let raw = raw_cells(line);
        let c = cells(line);
        if line.contains("Learning Outcome") {
            header = Some(n);
            break;
        }
        if c.is_empty() {
            n += 1;
            continue;
        }
        let label = raw[0];
        let values: Vec<&str> = raw
            .iter()
            .skip(1)
            .copied()
            .filter(|s| !s.is_empty())
            .collect();
        let cur_key = format!("ISP:{ao_ref}");
        let numeric = |field: &str, slot: &mut Option<(usize, u32)>, f: &mut Findings| {
            let target = unit_target(
                &cur_key,
                &field.to_lowercase().replace("credit value", "credit"),
            );
            let nums: Vec<u32> = values.iter().filter_map(|v| number(v)).collect();
            if let Some(&first) = nums.first() {
                *slot = Some((n, first));
                if nums.iter().any(|&x| x != first) {
                    f.open(
                        FindingKind::Disagreement,
                        n,
                        line,
                        format!("The {field} cell holds different values: {nums:?}; the draft keeps {first}"),
                        target,
                        nums.iter().map(u32::to_string).collect(),
                    );
                } else if nums.len() > 1 {
                    f.repaired(
                        FindingKind::Other,
                        n,
                        line,
                        format!("The {field} value {first} is printed twice; read once"),
                        target,
                        vec![first.to_string()],
                    );
                }
            }
        };
        match label {
            "Reference" => {
                in_summary = false;
                ref_line = n;
                let refs: Vec<String> = values.iter().map(|v| normalise_ref(v)).collect();
                ao_ref = refs.first().cloned().unwrap_or_default();
                if refs.len() > 1 {
                    if refs.iter().all(|r| *r == ao_ref) {
                        f.repaired(
                            FindingKind::Other,
                            n,
                            line,
                            format!("The unit reference {ao_ref} is printed twice; read once"),
                            unit_target(&format!("ISP:{ao_ref}"), "ao_ref"),
                            vec![ao_ref.clone()],
                        );
                    } else {
                        f.open(
                            FindingKind::Disagreement,
                            n,
                            line,
                            format!("The Reference cell holds different references {refs:?}; the draft keeps {ao_ref}"),
                            None,
                            refs.clone(),
                        );
                    }
                }
            }
            "Summary" => {
                in_summary = true;
                summary_line = n;
                join_summary_cells(&values, &mut summary, &mut summary_joined, n, vocab);
            }
            "Level" => {
                in_summary = false;
                numeric("Level", &mut level, f);
            }
            "GLH" => {
                in_summary = false;
                numeric("GLH", &mut glh, f);
            }
            "Credit value" => {
                in_summary = false;
                numeric("Credit value", &mut credit, f);
            }
            "TQT" => {
                in_summary = false;
                numeric("TQT", &mut tqt, f);
            }
            _ if line.contains("Mandatory") && line.contains("Optional") => {
                in_summary = false;
                let text = values.join(" ");
                let after_m = text.split_once("Mandatory").map(|x| x.1).unwrap_or("");
                let (m_mark, o_mark) = after_m.split_once("Optional").unwrap_or((after_m, ""));
                let ticked = |mark: &str| {
                    let m = mark.trim();
                    !m.is_empty() && !m.starts_with(['□', '☐'])
                };
                let g = match (ticked(m_mark), ticked(o_mark)) {
                    (true, false) => Some(MANDATORY),
                    (false, true) => Some(OPTIONAL),
                    _ => None,
                };
                if let Some(g) = g {
                    group = Some((n, g));
                }
                if label.is_empty() {
                    f.repaired(
                        FindingKind::Other,
                        n,
                        line,
                        "The 'Mandatory or optional?' label is missing; the row is recognised by its tick boxes",
                        unit_target(&format!("ISP:{ao_ref}"), "group"),
                        vec![],
                    );
                }
            }
            _ if label.is_empty() && in_summary => {
                join_summary_cells(&values, &mut summary, &mut summary_joined, n, vocab);
            }
            _ if tqt.is_none() && level.is_some() && glh.is_none() && values.len() == 1 => {
                // A garbled label between Level and GLH: the TQT row.
                in_summary = false;
                numeric("TQT", &mut tqt, f);
                f.repaired(
                    FindingKind::Other,
                    n,
                    line,
                    format!("The label '{label}' is garbled; read as TQT by its place between Level and GLH"),
                    unit_target(&format!("ISP:{ao_ref}"), "tqt"),
                    vec!["TQT".into()],
                );
            }
            _ => {
                in_summary = false;
            }
        }
        n += 1;
    }
    let header = header.ok_or_else(|| malformed(start, "unit has no learning outcome table"))?;
    if ao_ref.is_empty() {
        return Err(malformed(ref_line, "unit has no Reference"));
    }
    let key = format!("ISP:{ao_ref}");
    if stray_colon {
        f.repaired(
            FindingKind::Other,
            start,
            source.line(start),
            format!("A stray ':' after the unit number is dropped from the title '{title}'"),
            unit_target(&key, "title"),
            vec![title.clone()],
        );
    }
    if UnitRef::parse(&ao_ref).is_ok() {
        // Not expected in this layout: ISP's own references only.
        f.repaired(
            FindingKind::Other,
            ref_line,
            source.line(ref_line),
            "The ISP reference has the shape of an Ofqual unit reference",
            unit_target(&key, "ao_ref"),
            vec![ao_ref.clone()],
        );
    }
    for (line, what) in &summary_joined {
        f.repaired(
            FindingKind::RejoinedText,
            *line,
            source.line(*line),
            format!("Summary words split between cells re-joined: {what}"),
            unit_target(&key, "purpose"),
            vec![],
        );
    }
    let summary = squash(&summary);
    if summary.chars().next().is_some_and(char::is_lowercase) {
        f.open(
            FindingKind::Other,
            summary_line,
            source.line(summary_line),
            "The unit summary starts in the middle of a sentence: its beginning is lost; a person must supply it",
            unit_target(&key, "purpose"),
            vec![summary.clone()],
        );
    }

    // ---- Learning outcome table ----
    let mut los: Vec<LoBuild> = Vec::new();
    let mut frags: Vec<Frag> = Vec::new();
    let mut ac_idx = 2usize;
    let mut blank = false;
    // Column of the last continuation cell that went to the indicative content: a following
    // line's cell in the same column continues it ("communities; ..." then "etc.").
    let mut content_col: Option<usize> = None;
    let mut n = header + 1;
    while n < end {
        let line = source.line(n);
        let raw = raw_cells(line);
        let nonempty: Vec<(usize, &str)> = raw
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.is_empty())
            .map(|(i, c)| (i, *c))
            .collect();
        if nonempty.is_empty() {
            blank = true;
            n += 1;
            continue;
        }
        if nonempty.len() == 1 && nonempty[0].1 == "will:" {
            n += 1;
            continue;
        }
        let after_break = blank;
        blank = false;
        let num_at = raw
            .iter()
            .position(|c| ac_number(c).is_some() || merged_ac(c).is_some());
        if let Some(k) = num_at {
            let (num, first_text, text_idx) = match merged_ac(raw[k]) {
                Some((num, text)) => {
                    f.repaired(
                        FindingKind::Other,
                        n,
                        line,
                        format!("AC number {num} and its text are printed in one cell; separated"),
                        unit_target(&key, "learning_outcomes"),
                        vec![],
                    );
                    (num, text, k)
                }
                None => (raw[k], raw.get(k + 1).copied().unwrap_or(""), k + 1),
            };
            let Some((lo_n, ac_n)) = ac_number(num) else {
                n += 1;
                continue;
            };
            ac_idx = text_idx;
            content_col = None;
            let lo_frag = squash(&raw[..k].join(" "));
            let current = los.last().map(|l| l.number);
            if !lo_frag.is_empty() {
                let (printed, text) = lo_prefix(&lo_frag);
                if current == Some(lo_n) && printed.is_none() {
                    if let Some(lo) = los.last_mut() {
                        if lo.text.ends_with(text) {
                            f.repaired(
                                FindingKind::RejoinedText,
                                n,
                                line,
                                format!(
                                    "'{text}' repeats the end of learning outcome {lo_n} in the next row; dropped"
                                ),
                                unit_target(&key, "learning_outcomes"),
                                vec![lo.text.clone()],
                            );
                        } else {
                            append(&mut lo.text, text);
                        }
                    }
                } else {
                    match printed {
                        None => f.repaired(
                            FindingKind::InferredNumber,
                            n,
                            line,
                            format!("Learning outcome number lost; {lo_n} inferred from its ACs ({num}...)"),
                            unit_target(&key, "learning_outcomes"),
                            vec![lo_n.to_string()],
                        ),
                        Some(p) if p != lo_n => f.repaired(
                            FindingKind::InferredNumber,
                            n,
                            line,
                            format!(
                                "Learning outcome printed as {p} but its ACs are numbered {lo_n}.x and it follows outcome {}; numbered {lo_n}",
                                current.unwrap_or(0)
                            ),
                            unit_target(&key, "learning_outcomes"),
                            vec![lo_n.to_string(), p.to_string()],
                        ),
                        _ => {}
                    }
                    los.push(LoBuild {
                        number: lo_n,
                        line: n,
                        text: text.to_string(),
                        acs: Vec::new(),
                    });
                }
            } else if current != Some(lo_n) {
                f.open(
                    FindingKind::MissingValue,
                    n,
                    line,
                    format!("AC {num} starts learning outcome {lo_n}, whose text is missing"),
                    unit_target(&key, "learning_outcomes"),
                    vec![],
                );
                los.push(LoBuild {
                    number: lo_n,
                    line: n,
                    text: String::new(),
                    acs: Vec::new(),
                });
            }
            if let Some(lo) = los.last_mut() {
                lo.acs.push(AcBuild {
                    lo: lo_n,
                    n: ac_n,
                    line: n,
                    text: first_text.to_string(),
                });
            }
            let content: Vec<&str> = raw
                .iter()
                .skip(text_idx + 1)
                .copied()
                .filter(|c| !c.is_empty())
                .collect();
            if !content.is_empty() {
                frags.push(Frag {
                    line: n,
                    lo: los.len().saturating_sub(1),
                    text: content.join(" "),
                    on_row: true,
                    after_break,
                });
            }
        } else if nonempty.len() >= 2 && nonempty[0].0 == 0 && lo_prefix(nonempty[0].1).0.is_some()
        {
            // A new learning outcome whose first AC lost its number.
            let (printed, text) = lo_prefix(nonempty[0].1);
            let lo_n = printed.unwrap_or(0);
            los.push(LoBuild {
                number: lo_n,
                line: n,
                text: text.to_string(),
                acs: Vec::new(),
            });
            let ac_text = nonempty[1].1;
            ac_idx = nonempty[1].0;
            content_col = None;
            let next = source_next_ac(source, n + 1, end);
            f.repaired(
                FindingKind::InferredNumber,
                n,
                line,
                format!(
                    "The first AC of learning outcome {lo_n} has no number; numbered {lo_n}.1{}",
                    next.map(|x| format!(" (the next AC, line {}, is {})", x.0, x.1))
                        .unwrap_or_default()
                ),
                unit_target(&key, "learning_outcomes"),
                vec![format!("{lo_n}.1")],
            );
            if let Some(lo) = los.last_mut() {
                lo.acs.push(AcBuild {
                    lo: lo_n,
                    n: 1,
                    line: n,
                    text: ac_text.to_string(),
                });
            }
            let content: Vec<&str> = nonempty.iter().skip(2).map(|(_, c)| *c).collect();
            if !content.is_empty() {
                frags.push(Frag {
                    line: n,
                    lo: los.len().saturating_sub(1),
                    text: content.join(" "),
                    on_row: true,
                    after_break,
                });
            }
        } else {
            for (i, t) in nonempty {
                if i == 0 {
                    if let Some(lo) = los.last_mut() {
                        append(&mut lo.text, t);
                    }
                } else if i <= ac_idx
                    && t.len() <= 100
                    && !t.contains(';')
                    && content_col != Some(i)
                {
                    if let Some(ac) = los.last_mut().and_then(|lo| lo.acs.last_mut()) {
                        append(&mut ac.text, t);
                        if after_break {
                            f.repaired(
                                FindingKind::RejoinedText,
                                n,
                                line,
                                format!(
                                    "AC {}.{} continues after a page break; re-joined",
                                    ac.lo, ac.n
                                ),
                                unit_target(&key, "learning_outcomes"),
                                vec![],
                            );
                        }
                    }
                } else {
                    content_col = Some(i);
                    frags.push(Frag {
                        line: n,
                        lo: los.len().saturating_sub(1),
                        text: t.to_string(),
                        on_row: false,
                        after_break,
                    });
                }
            }
        }
        n += 1;
    }
    if los.is_empty() {
        return Err(malformed(header, "learning outcome table has no rows"));
    }

    // ---- Two ACs printed in one cell ----
    for lo in &mut los {
        let mut i = 0;
        while i < lo.acs.len() {
            if let Some(cut) = merged_criteria(&lo.acs[i].text) {
                let next_n = lo.acs[i].n + 1;
                let (line, lo_n, this_n) = (lo.acs[i].line, lo.acs[i].lo, lo.acs[i].n);
                if lo.acs.iter().any(|a| a.n == next_n) {
                    f.open(
                        FindingKind::Other,
                        line,
                        source.line(line),
                        format!(
                            "AC {lo_n}.{this_n} seems to hold two criteria, but {lo_n}.{next_n} exists; left as printed"
                        ),
                        unit_target(&key, "learning_outcomes"),
                        vec![],
                    );
                } else {
                    let whole = lo.acs[i].text.clone();
                    let first = whole[..cut].trim().trim_end_matches('.').trim().to_string();
                    let second = whole[cut..].trim().to_string();
                    f.repaired(
                        FindingKind::InferredNumber,
                        line,
                        source.line(line),
                        format!(
                            "Two criteria printed in one cell as {lo_n}.{this_n}; split, and the second, whose number was lost, numbered {lo_n}.{next_n}: '{second}'"
                        ),
                        unit_target(&key, "learning_outcomes"),
                        vec![first.clone(), second.clone()],
                    );
                    lo.acs[i].text = first;
                    lo.acs.insert(
                        i + 1,
                        AcBuild {
                            lo: lo_n,
                            n: next_n,
                            line,
                            text: second,
                        },
                    );
                }
            }
            i += 1;
        }
    }

    // ---- Checks: numbering and damaged text ----
    for (idx, lo) in los.iter().enumerate() {
        let expected = idx as u32 + 1;
        if lo.number != expected {
            f.open(
                FindingKind::InferredNumber,
                lo.line,
                source.line(lo.line),
                format!(
                    "Learning outcome numbered {} where {expected} was expected",
                    lo.number
                ),
                unit_target(&key, "learning_outcomes"),
                vec![lo.number.to_string(), expected.to_string()],
            );
        }
        for (j, ac) in lo.acs.iter().enumerate() {
            if ac.n != j as u32 + 1 || ac.lo != lo.number {
                f.open(
                    FindingKind::InferredNumber,
                    ac.line,
                    source.line(ac.line),
                    format!(
                        "AC {}.{} is out of sequence in learning outcome {} (expected {}.{})",
                        ac.lo,
                        ac.n,
                        lo.number,
                        lo.number,
                        j + 1
                    ),
                    unit_target(&key, "learning_outcomes"),
                    vec![],
                );
            }
            let t = ac.text.trim();
            let cut_start = t.chars().next().is_some_and(char::is_lowercase);
            let cut_end = t.ends_with(['/', '-', ',']);
            let typo_now = t.starts_with("Explain now ");
            if cut_start || cut_end {
                f.open(
                    FindingKind::Other,
                    ac.line,
                    source.line(ac.line),
                    format!(
                        "The text of AC {}.{} is damaged ({}{}): '{t}'; the draft keeps it as printed until a person supplies the full criterion",
                        ac.lo,
                        ac.n,
                        if cut_start { "its start is cut" } else { "it is cut short" },
                        if typo_now { ", 'now' is probably 'how'" } else { "" }
                    ),
                    unit_target(&key, "learning_outcomes"),
                    vec![t.to_string()],
                );
            }
        }
    }

    // ---- Indicative content items ----
    let mut items: Vec<(usize, String)> = Vec::new(); // (lo index, text)
    for fr in &frags {
        let pieces = split_headings(&fr.text);
        for (pi, piece) in pieces.iter().enumerate() {
            let starts_heading = heading_at(piece, 0);
            let prev_closed = items
                .last()
                .is_none_or(|(_, t)| t.trim_end().ends_with('.') || t.trim_end().ends_with("etc"));
            let new_item = pi > 0
                || starts_heading
                || items.is_empty()
                || (fr.on_row
                    && prev_closed
                    && piece.chars().next().is_some_and(char::is_uppercase));
            if new_item {
                items.push((fr.lo, piece.trim().to_string()));
            } else if let Some((lo_i, t)) = items.last_mut() {
                append(t, piece);
                if fr.on_row || fr.after_break {
                    let where_ = if fr.on_row {
                        format!(
                            "in the row of a later AC{}",
                            if *lo_i != fr.lo {
                                " (of the next learning outcome)"
                            } else {
                                ""
                            }
                        )
                    } else {
                        "after a page break".to_string()
                    };
                    let lo_no = los.get(*lo_i).map(|l| l.number).unwrap_or(0);
                    f.repaired(
                        FindingKind::RejoinedText,
                        fr.line,
                        source.line(fr.line),
                        format!(
                            "Indicative content of learning outcome {lo_no} continues {where_}: '{}' re-joined to the item it belongs to",
                            piece.chars().take(60).collect::<String>()
                        ),
                        unit_target(&key, "learning_outcomes"),
                        vec![],
                    );
                }
            }
        }
    }

    // ---- Compare with the structure table ----
    let row = rows.iter().find(|r| r.ao_ref == ao_ref);
    let unit_level = level.map(|l| l.1);
    if let Some(r) = row {
        let mut cmp = |field: &str, ours: Option<(usize, u32)>, theirs: Option<u32>| {
            if let (Some((line, a)), Some(b)) = (ours, theirs)
                && a != b
            {
                f.open(
                    FindingKind::Disagreement,
                    line,
                    source.line(line),
                    format!(
                        "{ao_ref} {field}: the unit specification says {a} (line {line}), the structure table {b} (line {}); the draft keeps the unit specification's {a} until a person decides",
                        r.line
                    ),
                    unit_target(&key, field),
                    vec![a.to_string(), b.to_string()],
                );
            }
        };
        cmp("level", level, r.level.map(u32::from));
        cmp("glh", glh, r.glh);
        cmp("tqt", tqt, r.tqt);
        cmp("credit", credit, r.credit);
        if normalise_title(&title) != normalise_title(&r.title) {
            f.open(
                FindingKind::Disagreement,
                start,
                source.line(start),
                format!(
                    "{ao_ref} title: the unit specification says '{title}' (line {start}), the structure table '{}' (line {}); the draft keeps the unit specification's title until a person decides",
                    r.title,
                    r.line + 1
                ),
                unit_target(&key, "title"),
                vec![title.clone(), r.title.clone()],
            );
        }
        match group {
            Some((gl, g)) if g != r.group => f.open(
                FindingKind::Disagreement,
                gl,
                source.line(gl),
                format!(
                    "{ao_ref} is ticked {g} in its unit specification but listed under {} units (line {}); the draft follows the structure table",
                    r.group.to_lowercase(),
                    r.line
                ),
                unit_target(&key, "group"),
                vec![r.group.to_string(), g.to_string()],
            ),
            None => f.repaired(
                FindingKind::Other,
                start,
                source.line(start),
                format!(
                    "No tick box is read for {ao_ref}; its group is taken from the structure table ({})",
                    r.group
                ),
                unit_target(&key, "group"),
                vec![r.group.to_string()],
            ),
            _ => {}
        }
    } else {
        f.open(
            FindingKind::Other,
            ref_line,
            source.line(ref_line),
            format!("{ao_ref} has a unit specification but is in neither structure table; it belongs to no qualification"),
            unit_target(&key, "exists"),
            vec![],
        );
    }
    for (field, v) in [
        ("level", level.is_some()),
        ("tqt", tqt.is_some()),
        ("glh", glh.is_some()),
        ("credit", credit.is_some()),
    ] {
        if !v {
            let table_has = row.is_some();
            f.repaired(
                FindingKind::MissingValue,
                start,
                source.line(start),
                format!(
                    "The unit specification gives no {field}{}",
                    if table_has {
                        "; the structure table's value is used"
                    } else {
                        ""
                    }
                ),
                unit_target(&key, field),
                vec![],
            );
        }
    }

    let learning_outcomes = los
        .iter()
        .enumerate()
        .map(|(i, lo)| LearningOutcome {
            number: lo.number.to_string(),
            text: squash(&lo.text),
            criteria: lo
                .acs
                .iter()
                .map(|a| AssessmentCriterion {
                    number: format!("{}.{}", a.lo, a.n),
                    text: squash(&a.text),
                })
                .collect(),
            indicative_content: items
                .iter()
                .filter(|(l, _)| *l == i)
                .map(|(_, t)| ContentItem {
                    number: None,
                    text: squash(t),
                })
                .collect(),
            assessor_guidance: None,
        })
        .collect();

    let unit = Unit {
        key,
        ofqual_ref: None,
        ao_ref,
        other_refs: Vec::new(),
        title,
        level: unit_level
            .or(row.and_then(|r| r.level.map(u32::from)))
            .and_then(|l| u8::try_from(l).ok())
            .unwrap_or(5),
        credit: credit.map(|c| c.1).or(row.and_then(|r| r.credit)),
        glh: glh.map(|c| c.1).or(row.and_then(|r| r.glh)),
        tqt: tqt.map(|c| c.1).or(row.and_then(|r| r.tqt)),
        purpose: (!summary.is_empty()).then_some(summary),
        sector: Some(SECTOR_15_4.to_string()),
        learning_outcomes,
        assessment_method: None,
        // Line "Simulation" section: "Evidence may be produced through simulation solely in
        // exceptional circumstances" (seed 002, line 244).
        simulation: if simulation_line.is_some() {
            Simulation::ExceptionalOnly
        } else {
            Simulation::NotPermitted
        },
        evidence_occasions: None,
        centre_authentication: false,
        assessment_guidance: None,
        ksb: Vec::new(),
        nos: Vec::new(),
        apprenticeship_text: None,
        assessment_components: Vec::new(),
    };
    Ok(unit)
}

fn source_next_ac(source: &Source, from: usize, end: usize) -> Option<(usize, String)> {
    (from..end).find_map(|n| {
        raw_cells(source.line(n))
            .iter()
            .find(|c| ac_number(c).is_some())
            .map(|c| (n, c.to_string()))
    })
}

fn join_summary_cells(
    values: &[&str],
    summary: &mut String,
    joined: &mut Vec<(usize, String)>,
    line: usize,
    vocab: &HashSet<String>,
) {
    let mut text = String::new();
    for v in values {
        if text.is_empty() {
            text = v.to_string();
            continue;
        }
        let (j, rejoined) = join_cut(&text, v, vocab);
        if rejoined {
            let l: String = text.split_whitespace().last().unwrap_or("").to_string();
            let r: String = v.split_whitespace().next().unwrap_or("").to_string();
            joined.push((line, format!("'{l}' + '{r}'")));
        }
        text = j;
    }
    append(summary, &text);
}

fn normalise_title(t: &str) -> String {
    squash(t.trim_end_matches('.')).to_lowercase()
}

/// Where a second criterion starts inside one AC cell: a capitalised AC verb after the end of
/// a sentence, or straight after a lower-case word with no punctuation.
fn merged_criteria(text: &str) -> Option<usize> {
    let words: Vec<(usize, &str)> = text
        .split(' ')
        .scan(0usize, |pos, w| {
            let start = *pos;
            *pos += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    for pair in words.windows(2).skip(1) {
        let (_, prev) = pair[0];
        let (pos, w) = pair[1];
        if !AC_VERBS.contains(&w) {
            continue;
        }
        let sentence_end = prev.ends_with('.') || prev.ends_with(").");
        let plain_word = prev.chars().all(|c| c.is_lowercase());
        if sentence_end || plain_word {
            return Some(pos);
        }
    }
    None
}

/// Does an indicative-content heading ("Metrics:", "Task allocation :") start at `p`?
fn heading_at(s: &str, p: usize) -> bool {
    let Some(rest) = s.get(p..) else {
        return false;
    };
    if !rest.chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    let window: String = rest.chars().take(45).collect();
    let Some(colon) = window.find(':') else {
        return false;
    };
    let head = &window[..colon];
    let ok_chars = head
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '/' | '-' | '&' | '\'' | '(' | ')'));
    let words = head.split_whitespace().count();
    let after = rest[colon + 1..].chars().next();
    ok_chars && (1..=5).contains(&words) && after.is_none_or(char::is_whitespace)
}

/// Split a content fragment where a new heading starts after a full stop.
fn split_headings(text: &str) -> Vec<String> {
    let mut cuts = vec![0];
    let bytes = text.as_bytes();
    for (i, _) in text.char_indices() {
        if i >= 2 && bytes[i - 1] == b' ' && bytes[i - 2] == b'.' && heading_at(text, i) {
            cuts.push(i);
        }
    }
    cuts.push(text.len());
    cuts.windows(2)
        .map(|w| text[w[0]..w[1]].trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_cut_between_cells_are_rejoined() {
        let vocab: HashSet<String> = ["relationships", "psychology", "effects", "intelligence"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            join_cut("strategic re", "lationships, and", &vocab).0,
            "strategic relationships, and"
        );
        assert_eq!(
            join_cut("and psychol", "logy in", &vocab).0,
            "and psychology in"
        );
        assert_eq!(join_cut("and effect", "cts of", &vocab).0, "and effects of");
        assert_eq!(
            join_cut("using intelliger", "nce and", &vocab).0,
            "using intelligence and"
        );
        assert_eq!(join_cut("in", "gaining", &vocab).0, "in gaining");
    }

    #[test]
    fn headings_split_content() {
        let parts = split_headings("a, b, etc. Sales Procedures: Investigate; e.g. IT, driving");
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with("Sales Procedures:"));
        assert!(heading_at("Task allocation : Communicating", 0));
        assert!(!heading_at(
            "Write proposals/quotations establish proposal structure; x",
            0
        ));
    }

    #[test]
    fn merged_criteria_are_found() {
        assert!(merged_criteria("Explain how to maintain customer loyalty with own organisation Follow up opportunities").is_some());
        assert!(merged_criteria("Ensure x (and y). Monitor the way").is_some());
        assert!(
            merged_criteria("Present sales vision to sales teams ensuring goal achievement")
                .is_none()
        );
    }

    #[test]
    fn dates() {
        assert_eq!(iso_date("Feb-22"), (Some("2022-02".into()), false));
        assert_eq!(iso_date("06/05/2025"), (Some("2025-05-06".into()), true));
    }
}
