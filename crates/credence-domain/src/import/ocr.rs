//! OCR NVQ unit specification: unit 39 "Generating and qualifying sales leads" (seed `004_…`).
//!
//! Layout: `Label: value` lines (title, OCR unit number, sector unit number, level, credit,
//! GLH, Ofqual unit reference), the purpose, then a three-column table (learning outcomes,
//! assessment criteria, teaching content) that the PDF flattened into paragraphs in column
//! order: for each learning outcome, first the outcome (`1 Understand ...`), then its criteria
//! (`1.1 Describe ...`), then its teaching content (paragraphs indented by one space). A page
//! break repeats the column header and may cut a teaching-content paragraph in two.
//! After the table: assessment, evidence requirements, guidance, a NOS mapping table and
//! functional-skills signposting.

use super::text::{Source, number, squash};
use super::{FindingKind, Findings, ImportError, ImportReport, Imported, Layout, unit_target};
use crate::ident::UnitRef;
use crate::model::{
    AssessmentCriterion, AwardingOrganisation, ContentItem, LearningOutcome, Simulation,
    Specification, Unit,
};

const LAYOUT: &str = "OCR unit specification";
const HEADER: &str = "Learning Outcomes Assessment Criteria Teaching Content";

fn malformed(line: usize, reason: &str) -> ImportError {
    ImportError::Malformed {
        layout: LAYOUT,
        line,
        reason: reason.to_string(),
    }
}

/// `Label: value` → (line, value).
fn field(source: &Source, label: &str) -> Option<(usize, String)> {
    source
        .numbered()
        .find(|(_, l)| l.trim_start().starts_with(label))
        .map(|(n, l)| (n, squash(l.trim_start()[label.len()..].trim())))
}

/// Lines strictly between the first line whose trimmed text is `from` and the next whose
/// trimmed text satisfies `until`.
fn section(
    source: &Source,
    from: &str,
    until: impl Fn(&str) -> bool,
) -> Option<(usize, usize, String)> {
    let h = source
        .numbered()
        .find(|(_, l)| l.trim() == from)
        .map(|(n, _)| n)?;
    let mut parts = Vec::new();
    let mut n = h + 1;
    while n <= source.len() && !until(source.line(n).trim()) {
        let t = source.line(n).trim();
        if !t.is_empty() {
            parts.push(t);
        }
        n += 1;
    }
    let text = squash(&parts.join(" "));
    (!text.is_empty()).then_some((h, n, text))
}

/// "1.1 Describe ..." → Some(((1, 1), "Describe ...")).
fn ac_start(s: &str) -> Option<((u32, u32), &str)> {
    let (head, rest) = s.split_once(' ')?;
    let (a, b) = head.split_once('.')?;
    if a.is_empty()
        || b.is_empty()
        || !a.bytes().all(|c| c.is_ascii_digit())
        || !b.bytes().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some(((number(a)?, number(b)?), rest.trim()))
}

/// "2 Understand the ..." → Some((2, "Understand the ...")).
fn lo_start(s: &str) -> Option<(u32, &str)> {
    let (head, rest) = s.split_once(' ')?;
    if head.is_empty() || !head.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    rest.trim()
        .chars()
        .next()
        .is_some_and(char::is_uppercase)
        .then(|| number(head).map(|n| (n, rest.trim())))
        .flatten()
}

#[derive(Debug)]
struct Para {
    line: usize,
    indented: bool,
    after_page_break: bool,
    text: String,
}

#[allow(clippy::too_many_lines)]
pub fn parse(source: &Source) -> Result<Imported, ImportError> {
    let mut f = Findings::default();

    let (title_line, title) =
        field(source, "Unit Title:").ok_or_else(|| malformed(1, "no 'Unit Title:'"))?;
    let (ao_line, ao_ref) =
        field(source, "OCR unit number:").ok_or_else(|| malformed(1, "no 'OCR unit number:'"))?;
    if ao_ref.is_empty() {
        return Err(malformed(ao_line, "the OCR unit number is empty"));
    }
    let sector_ref = field(source, "Sector unit number:");
    let level = field(source, "Level:").and_then(|(n, v)| {
        let digits: String = v.chars().filter(char::is_ascii_digit).collect();
        number(&digits)
            .and_then(|l| u8::try_from(l).ok())
            .map(|l| (n, l))
    });
    let credit = field(source, "Credit value:").and_then(|(_, v)| number(&v));
    let glh = field(source, "Guided learning hours:").and_then(|(_, v)| number(&v));
    let uref = field(source, "Unit reference number:");

    let (ofqual_ref, key) = match &uref {
        Some((n, r)) => match UnitRef::parse(r) {
            Ok(u) => (Some(u.as_str().to_string()), u.as_str().to_string()),
            Err(e) => {
                let key = format!("OCR:{ao_ref}");
                f.open(
                    FindingKind::InvalidIdentifier,
                    *n,
                    source.line(*n),
                    format!("{e}; the unit is keyed '{key}' until a person corrects the reference"),
                    unit_target(&key, "ofqual_ref"),
                    vec![r.clone()],
                );
                (None, key)
            }
        },
        None => {
            let key = format!("OCR:{ao_ref}");
            f.open(
                FindingKind::MissingValue,
                title_line,
                source.line(title_line),
                format!("No Ofqual unit reference; the unit is keyed '{key}'"),
                unit_target(&key, "ofqual_ref"),
                vec![],
            );
            (None, key)
        }
    };
    let level = match level {
        Some((_, l)) => l,
        None => {
            f.open(
                FindingKind::MissingValue,
                title_line,
                source.line(title_line),
                "The unit's level is not given",
                unit_target(&key, "level"),
                vec![],
            );
            0
        }
    };
    for (name, v) in [("credit", credit), ("glh", glh)] {
        if v.is_none() {
            f.open(
                FindingKind::MissingValue,
                title_line,
                source.line(title_line),
                format!("The unit's {name} is not given"),
                unit_target(&key, name),
                vec![],
            );
        }
    }
    f.repaired(
        FindingKind::MissingValue,
        glh.and(field(source, "Guided learning hours:").map(|x| x.0))
            .unwrap_or(title_line),
        "",
        "The unit specification gives no TQT (it predates TQT: credit and GLH only); left empty",
        unit_target(&key, "tqt"),
        vec![],
    );
    if let Some((n, s)) = &sector_ref {
        f.repaired(
            FindingKind::MissingValue,
            *n,
            source.line(*n),
            format!(
                "'{s}' is the sector skills body's unit number, recorded in other_refs; the Ofqual sector subject area is not given, so sector is left empty"
            ),
            unit_target(&key, "sector"),
            vec![],
        );
    }
    f.repaired(
        FindingKind::MissingValue,
        title_line,
        source.line(title_line),
        "The unit specification has no change-control table, version or publication date; document_version and published_on are left empty",
        None,
        vec![],
    );

    let purpose = section(source, "Unit purpose and aim", |l| l.starts_with(HEADER)).map(|s| s.2);

    // ---- The flattened table ----
    let table_start = source
        .numbered()
        .find(|(_, l)| l.trim() == HEADER)
        .map(|(n, _)| n)
        .ok_or_else(|| malformed(1, "no learning outcome table"))?;
    let table_end = (table_start..=source.len())
        .find(|&n| source.line(n).trim() == "Assessment")
        .unwrap_or(source.len() + 1);
    let mut paras: Vec<Para> = Vec::new();
    let mut current: Option<Para> = None;
    let mut page_break = false;
    for n in table_start + 1..table_end {
        let raw = source.line(n);
        let t = raw.trim();
        if t.is_empty() || t == HEADER || t == "The Learner will:" || t == "The Learner can:" {
            if let Some(p) = current.take() {
                paras.push(p);
            }
            if t == HEADER {
                page_break = true;
            }
            continue;
        }
        match current.as_mut() {
            Some(p) => {
                p.text.push(' ');
                p.text.push_str(t);
            }
            None => {
                current = Some(Para {
                    line: n,
                    indented: raw.starts_with(' '),
                    after_page_break: page_break,
                    text: t.to_string(),
                });
                page_break = false;
            }
        }
    }
    if let Some(p) = current.take() {
        paras.push(p);
    }

    let mut los: Vec<LearningOutcome> = Vec::new();
    // Where the last text went, for a paragraph that continues it.
    #[derive(Clone, Copy, PartialEq)]
    enum Last {
        None,
        Lo,
        Ac,
        Content,
    }
    let mut last = Last::None;
    for p in &paras {
        let text = squash(&p.text);
        if p.indented {
            match los.last_mut() {
                Some(lo) => lo
                    .indicative_content
                    .push(ContentItem { number: None, text }),
                None => f.open(
                    FindingKind::Other,
                    p.line,
                    source.line(p.line),
                    "Teaching content before any learning outcome; dropped",
                    unit_target(&key, "learning_outcomes"),
                    vec![text],
                ),
            }
            last = Last::Content;
        } else if let Some(((lo_n, ac_n), ac_text)) = ac_start(&text) {
            match los.last_mut() {
                Some(lo) => {
                    if lo.number != lo_n.to_string() || ac_n as usize != lo.criteria.len() + 1 {
                        f.open(
                            FindingKind::InferredNumber,
                            p.line,
                            source.line(p.line),
                            format!(
                                "AC {lo_n}.{ac_n} is out of sequence under learning outcome {} (expected {}.{})",
                                lo.number,
                                lo.number,
                                lo.criteria.len() + 1
                            ),
                            unit_target(&key, "learning_outcomes"),
                            vec![],
                        );
                    }
                    lo.criteria.push(AssessmentCriterion {
                        number: format!("{lo_n}.{ac_n}"),
                        text: ac_text.to_string(),
                    });
                }
                None => f.open(
                    FindingKind::Other,
                    p.line,
                    source.line(p.line),
                    "Assessment criterion before any learning outcome; dropped",
                    unit_target(&key, "learning_outcomes"),
                    vec![text.clone()],
                ),
            }
            last = Last::Ac;
        } else if let Some((lo_n, lo_text)) = lo_start(&text) {
            if lo_n as usize != los.len() + 1 {
                f.open(
                    FindingKind::InferredNumber,
                    p.line,
                    source.line(p.line),
                    format!(
                        "Learning outcome {lo_n} where {} was expected",
                        los.len() + 1
                    ),
                    unit_target(&key, "learning_outcomes"),
                    vec![],
                );
            }
            los.push(LearningOutcome {
                number: lo_n.to_string(),
                text: lo_text.to_string(),
                criteria: Vec::new(),
                indicative_content: Vec::new(),
                assessor_guidance: None,
            });
            last = Last::Lo;
        } else {
            // A paragraph that starts neither an outcome, a criterion nor a content item:
            // the rest of the previous one, cut by a page break.
            // A teaching-content paragraph left unfinished (no full stop) before the page
            // break is what continues: the outcome and criteria columns restart on the new
            // page, the content column carries on.
            let unfinished_content = los
                .last()
                .and_then(|lo| lo.indicative_content.last())
                .is_some_and(|c| !c.text.trim_end().ends_with(['.', '!', '?']));
            if unfinished_content {
                last = Last::Content;
            }
            let target: Option<&mut String> = match (last, los.last_mut()) {
                (Last::Content, Some(lo)) => lo.indicative_content.last_mut().map(|c| &mut c.text),
                (Last::Ac, Some(lo)) => lo.criteria.last_mut().map(|c| &mut c.text),
                (Last::Lo, Some(lo)) => Some(&mut lo.text),
                _ => None,
            };
            match target {
                Some(t) => {
                    let before: String = t
                        .chars()
                        .rev()
                        .take(40)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                        .collect();
                    t.push(' ');
                    t.push_str(&text);
                    f.repaired(
                        FindingKind::RejoinedText,
                        p.line,
                        source.line(p.line),
                        format!(
                            "'{}…' continues the {} ending '…{before}'{}; re-joined",
                            text.chars().take(40).collect::<String>(),
                            match last {
                                Last::Content => "teaching content",
                                Last::Ac => "assessment criterion",
                                _ => "learning outcome",
                            },
                            if p.after_page_break {
                                " across a page break"
                            } else {
                                ""
                            }
                        ),
                        unit_target(&key, "learning_outcomes"),
                        vec![],
                    );
                }
                None => f.open(
                    FindingKind::Other,
                    p.line,
                    source.line(p.line),
                    "Text in the outcome table that belongs to nothing before it; dropped",
                    unit_target(&key, "learning_outcomes"),
                    vec![text],
                ),
            }
        }
    }
    if los.is_empty() {
        return Err(malformed(
            table_start,
            "the learning outcome table has no outcomes",
        ));
    }
    for lo in &los {
        if lo.criteria.is_empty() {
            f.open(
                FindingKind::MissingValue,
                table_start,
                "",
                format!("Learning outcome {} has no assessment criteria", lo.number),
                unit_target(&key, "learning_outcomes"),
                vec![],
            );
        }
    }

    // ---- Assessment, evidence, guidance ----
    let assessment = section(source, "Assessment", |l| l == "Evidence requirements");
    let evidence = section(source, "Evidence requirements", |l| {
        l.starts_with("Guidance on assessment")
    });
    let guidance = section(
        source,
        "Guidance on assessment and evidence requirements",
        |l| l.contains("National Occupational Standards"),
    );
    let assessment_method = match (&assessment, &evidence) {
        (Some(a), Some(e)) => Some(format!("{} {}", a.2, e.2)),
        (Some(a), None) => Some(a.2.clone()),
        (None, Some(e)) => Some(e.2.clone()),
        (None, None) => None,
    };
    let find_in = |range: &Option<(usize, usize, String)>, needle: &str| -> Option<usize> {
        let (h, end, _) = range.as_ref()?;
        (h + 1..*end).find(|&n| source.line(n).contains(needle))
    };
    // Simulation: "Your assessor must be able to observe you in the workplace or you must
    // provide tangible evidence of your real work activities" (seed 004, lines 167-168).
    let real_work = find_in(&evidence, "real work");
    let simulation = if real_work.is_some() {
        Simulation::NotPermitted
    } else {
        Simulation::Permitted
    };
    match (real_work, find_in(&guidance, "RWE")) {
        (Some(rw), Some(g)) => f.open(
            FindingKind::Other,
            g,
            &squash(&format!("{} {}", source.line(g - 1), source.line(g))),
            format!(
                "The evidence requirements ask for observation in the workplace or evidence of real work activities (line {rw}), so simulation is drafted as not permitted; but the guidance quotes the CfA assessment strategy allowing assessment 'through RWE, as necessary' (a realistic working environment). A person must decide whether simulation in an RWE may count"
            ),
            unit_target(&key, "simulation"),
            vec!["not_permitted".into(), "permitted".into()],
        ),
        (None, _) => f.open(
            FindingKind::MissingValue,
            evidence.as_ref().map(|e| e.0).unwrap_or(title_line),
            "",
            "The evidence requirements do not say whether real-work evidence is required; simulation drafted as permitted",
            unit_target(&key, "simulation"),
            vec!["permitted".into(), "not_permitted".into()],
        ),
        _ => {}
    }
    // Evidence occasions: "over a sufficient period of time on different occasions"
    // (seed 004, lines 173-174). No number is given; the plural is read as at least 2.
    let occasions_line =
        find_in(&evidence, "sufficient period").or(find_in(&evidence, "occasions"));
    let evidence_occasions = match occasions_line {
        Some(n)
            if evidence
                .as_ref()
                .is_some_and(|e| e.2.contains("different occasions")) =>
        {
            f.repaired(
                FindingKind::InferredNumber,
                n,
                &squash(&format!("{} {}", source.line(n), source.line(n + 1))),
                "Evidence must come from 'different occasions' over a sufficient period; no number is given, so the plural is read as its minimum, 2 occasions",
                unit_target(&key, "evidence_occasions"),
                vec!["2".into()],
            );
            Some(2)
        }
        _ => None,
    };

    // Centre authentication: "Centres must confirm to OCR that the evidence is authentic"
    // (seed 004, lines 160-162): the unit is claimed only once the learner has declared the
    // work their own and the centre has confirmed it.
    let centre_authentication = find_in(&assessment, "authentic").is_some();
    // The assessment strategy's words (CfA, quoted under "Guidance on assessment and
    // evidence requirements"), for the assessor where they judge.
    let assessment_guidance = guidance.as_ref().map(|g| g.2.clone());

    // ---- NOS mapping ----
    let mut nos = Vec::new();
    if let Some(h) = source
        .numbered()
        .find(|(_, l)| l.trim().starts_with("Occupational standards"))
        .map(|(n, _)| n)
    {
        let title_h = (h..h + 6)
            .find(|&n| source.line(n).trim() == "Title")
            .unwrap_or(h);
        let mut n = title_h + 1;
        while n <= source.len() && !source.line(n).contains("Functional skills") {
            let t = squash(source.line(n));
            if !t.is_empty() {
                let words: Vec<&str> = t.split(' ').collect();
                let code_at = words.windows(2).position(|w| {
                    w[0].len() >= 2
                        && w[0].chars().all(|c| c.is_ascii_uppercase())
                        && w[1].contains('.')
                        && w[1].chars().all(|c| c.is_ascii_digit() || c == '.')
                });
                match code_at {
                    Some(i) if i + 2 < words.len() => {
                        let standard = words[..i].join(" ");
                        let code = words[i..i + 2].join(" ");
                        let unit_title = words[i + 2..].join(" ");
                        let entry = if standard.is_empty() {
                            format!("{code} {unit_title}")
                        } else {
                            format!("{code} {unit_title} ({standard})")
                        };
                        f.repaired(
                            FindingKind::RejoinedText,
                            n,
                            source.line(n),
                            format!(
                                "The NOS table's columns are flattened into one line; read as standard '{standard}', unit {code}, title '{unit_title}'"
                            ),
                            unit_target(&key, "nos"),
                            vec![entry.clone()],
                        );
                        nos.push(entry);
                    }
                    _ => f.open(
                        FindingKind::Other,
                        n,
                        source.line(n),
                        "A NOS table line the importer cannot split into standard, unit number and title",
                        unit_target(&key, "nos"),
                        vec![t.clone()],
                    ),
                }
            }
            n += 1;
        }
    }
    if let Some(n) = source.find_from(1, "Functional skills signposting") {
        f.repaired(
            FindingKind::Other,
            n,
            source.line(n),
            "Functional skills signposting (English, Mathematics, ICT) has no place in the catalogue; not recorded",
            None,
            vec![],
        );
    }
    let nvq_line = source
        .numbered()
        .find(|(_, l)| l.contains("NVQ"))
        .map(|(n, _)| n)
        .unwrap_or(title_line);
    f.repaired(
        FindingKind::Other,
        nvq_line,
        source.line(nvq_line),
        "The document is a single unit: it names no qualification with a QAN (the 'QCF NVQ' here is generic), so no qualification is added",
        None,
        vec![],
    );

    let unit = Unit {
        key,
        ofqual_ref,
        ao_ref: ao_ref.clone(),
        other_refs: sector_ref.map(|(_, s)| s).into_iter().collect(),
        title: title.clone(),
        level,
        credit,
        glh,
        tqt: None,
        purpose,
        sector: None,
        learning_outcomes: los,
        assessment_method,
        simulation,
        evidence_occasions,
        centre_authentication,
        assessment_guidance,
        ksb: Vec::new(),
        nos,
        apprenticeship_text: None,
        assessment_components: Vec::new(),
    };
    let slug: String = title
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && *w != "and")
        .collect::<Vec<_>>()
        .join("-");
    let specification = Specification {
        key: format!("ocr-unit-{ao_ref}-{slug}"),
        title: format!("OCR Unit {ao_ref}: {title}"),
        awarding_organisation: AwardingOrganisation {
            code: "OCR".into(),
            name: "Oxford Cambridge and RSA".into(),
        },
        document_version: None,
        published_on: None,
        change_log: Vec::new(),
        sector: None,
        qualifications: Vec::new(),
        units: vec![unit],
    };
    let mut findings = f.into_vec();
    findings.sort_by_key(|x| x.line);
    Ok(Imported {
        specification,
        report: ImportReport {
            layout: Layout::OcrUnit,
            source_lines: source.len(),
            findings,
        },
    })
}
