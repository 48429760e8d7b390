//! ISMM syllabus: Level 6 Executive Award in Strategic Sales and Account Management
//! (seed `003_…`).
//!
//! Layout: Markdown-ish text (`#` headings, `**bold**`, `<b>1.1</b>` cells). A programme part
//! (overview, structure, hours, the route table, entry requirements, assessment, grading),
//! then one part per unit: aims, assessment, rationale, and a two-column table repeated on
//! every page: learning outcome `1.1` + text, indicative content `1.1.1` + text.
//!
//! The syllabus is modelled as it is, not in ISP's shape: learning outcomes are numbered
//! `1.1`, have no assessment criteria (the outcome is what is judged) and carry numbered
//! indicative content; each unit is marked (Unit 1: case-study report 50% + presentation
//! 50%; Unit 2: a 3000-word work-based project).

use super::text::{Source, cells, number, raw_cells, slug, squash};
use super::{
    FindingKind, Findings, ImportError, ImportReport, Imported, Layout, qualification_target,
    unit_target,
};
use crate::ident::Qan;
use crate::model::{
    AssessmentComponent, AwardingOrganisation, ContentItem, Grading, LearningOutcome,
    Qualification, QualificationSize, QualificationUnit, Range, Requirement, Simulation,
    Specification, Unit,
};

const LAYOUT: &str = "ISMM syllabus";

fn malformed(line: usize, reason: &str) -> ImportError {
    ImportError::Malformed {
        layout: LAYOUT,
        line,
        reason: reason.to_string(),
    }
}

/// Strip the Markdown and HTML the PDF conversion left: `#`, `*`, `<b>`, `<i>`.
fn clean(s: &str) -> String {
    let s = s.trim().trim_start_matches('#');
    if !s.contains(['<', '*']) {
        return squash(s);
    }
    let mut t = s.to_string();
    for tag in ["<b>", "</b>", "<i>", "</i>", "<u>", "</u>"] {
        t = t.replace(tag, "");
    }
    squash(&t.replace('*', ""))
}

/// The specification's key: "Level 6 Executive Award in Strategic Sales and Account
/// Management" is `ismm-l6-executive-award` (the key it has always had); another subject
/// adds its own words (`ismm-l6-executive-award-key-account-leadership`), so that another
/// syllabus is another specification, not a new version of this one.
fn ismm_key(level: u8, title: &str) -> String {
    let (name, subject) = title.split_once(" in ").unwrap_or((title, ""));
    let name: Vec<&str> = name.split_whitespace().skip(2).collect();
    let mut key = format!("ismm-l{level}-{}", slug(&name.join(" ")));
    if !subject.is_empty() && subject != "Strategic Sales and Account Management" {
        key = format!("{key}-{}", slug(subject));
    }
    key
}

fn is_heading(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Text of the paragraphs after the heading at `h`, up to the next heading or `end`: the
/// lines of a paragraph joined by a space, paragraphs by a blank line. Returns the line of
/// the first paragraph too.
fn section_text(source: &Source, h: usize, end: usize) -> Option<(usize, String)> {
    let mut paragraphs: Vec<Vec<String>> = vec![Vec::new()];
    let mut first = None;
    let mut n = h + 1;
    while n < end && !is_heading(source.line(n)) {
        let l = clean(source.line(n));
        if l.is_empty() {
            if paragraphs.last().is_some_and(|p| !p.is_empty()) {
                paragraphs.push(Vec::new());
            }
        } else {
            first.get_or_insert(n);
            if let Some(p) = paragraphs.last_mut() {
                p.push(l);
            }
        }
        n += 1;
    }
    let text = paragraphs
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.join(" "))
        .collect::<Vec<_>>()
        .join("\n\n");
    first.map(|f| (f, text))
}

/// First heading in `[from, to)` whose cleaned text satisfies `pred`.
fn find_heading(
    source: &Source,
    from: usize,
    to: usize,
    pred: impl Fn(&str) -> bool,
) -> Option<usize> {
    (from..to).find(|&n| is_heading(source.line(n)) && pred(&clean(source.line(n))))
}

/// "1.1" / "1.1.1" → the numbers.
fn dotted(s: &str) -> Option<Vec<u32>> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() < 2
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    parts.iter().map(|p| number(p)).collect()
}

/// "Unit 1 Strategic Concepts ..." → Some((1, "Strategic Concepts ...")).
fn unit_heading(s: &str) -> Option<(u32, String)> {
    let rest = s.strip_prefix("Unit ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let n = number(&digits)?;
    let title = rest[digits.len()..]
        .trim_start_matches([':', ' '])
        .trim()
        .to_string();
    Some((n, title))
}

/// The number just before `unit` in `text`: ("105 hours", " hours") → 105.
fn number_before(text: &str, unit: &str) -> Option<u32> {
    let i = text.find(unit)?;
    let head = &text[..i];
    let digits: String = head
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    number(&digits)
}

#[derive(Debug)]
struct UnitPart {
    n: u32,
    start: usize,
    end: usize,
    title: String,
}

#[allow(clippy::too_many_lines)]
pub fn parse(source: &Source) -> Result<Imported, ImportError> {
    let mut f = Findings::default();
    let len = source.len();

    // ---- Title, code, QAN ---------------------------------------------------------------
    // The layout was recognised by its structure: the title is the first line that names a
    // level ("Level 6 Executive Award in Strategic Sales and Account Management"), whatever
    // the qualification is called.
    let (title_line, qual_title) = source
        .numbered()
        .map(|(n, l)| (n, clean(l)))
        .find(|(_, l)| {
            l.strip_prefix("Level ")
                .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        })
        .ok_or_else(|| {
            malformed(
                1,
                "no title naming the qualification's level ('Level 6 ...')",
            )
        })?;
    let syllabus_line = source.find_from(title_line, "Syllabus");
    let doc_title = match syllabus_line {
        Some(_) => format!("{qual_title} Syllabus"),
        None => qual_title.clone(),
    };
    let level = qual_title
        .strip_prefix("Level ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(number)
        .and_then(|l| u8::try_from(l).ok())
        .ok_or_else(|| malformed(title_line, "the title names no level"))?;
    if let Some(code_line) = (title_line + 1..title_line + 4).find(|&n| {
        let c = clean(source.line(n));
        c.starts_with('(') && c.ends_with(')')
    }) {
        f.repaired(
            FindingKind::Other,
            code_line,
            source.line(code_line),
            format!(
                "{} is ISMM's own code for the Award; the catalogue has no field for a qualification's own code, so it is not recorded",
                clean(source.line(code_line))
            ),
            None,
            vec![],
        );
    }
    let (qan_line, qan_text) = source
        .numbered()
        .take(40)
        .map(|(n, l)| (n, l.trim()))
        .find(|(_, l)| l.len() == 10 && l.as_bytes()[3] == b'/' && l.as_bytes()[8] == b'/')
        .ok_or_else(|| malformed(title_line, "no QAN near the title"))?;
    let qan = match Qan::parse(qan_text) {
        Ok(q) => q.as_str().to_string(),
        Err(e) => {
            f.open(
                FindingKind::InvalidIdentifier,
                qan_line,
                qan_text,
                format!("{e}; kept as printed until a person corrects it"),
                qualification_target(qan_text, "qan"),
                vec![qan_text.to_string()],
            );
            qan_text.to_string()
        }
    };
    f.repaired(
        FindingKind::MissingValue,
        syllabus_line.unwrap_or(title_line),
        source.line(syllabus_line.unwrap_or(title_line)),
        "The syllabus has no change-control table, version or publication date; document_version and published_on are left empty",
        None,
        vec![],
    );

    // ---- Units: where each begins ----------------------------------------------------------
    let mut parts: Vec<UnitPart> = Vec::new();
    for (n, l) in source.numbered() {
        if !is_heading(l) {
            continue;
        }
        let c = clean(l);
        if let Some((u, title)) = unit_heading(&c)
            && !title.is_empty()
            && !title.contains("Assessment")
        {
            match parts.iter().find(|p| p.n == u) {
                None => parts.push(UnitPart {
                    n: u,
                    start: n,
                    end: len + 1,
                    title,
                }),
                Some(p) if p.title != title => f.open(
                    FindingKind::Disagreement,
                    n,
                    l,
                    format!(
                        "Unit {u} is titled '{}' at line {} but '{title}' here; the draft keeps the first",
                        p.title, p.start
                    ),
                    unit_target(&format!("ISMM:Unit {u}"), "title"),
                    vec![p.title.clone(), title.clone()],
                ),
                _ => {}
            }
        }
    }
    if parts.is_empty() {
        return Err(malformed(1, "no unit headings ('# Unit 1 ...')"));
    }
    for i in 0..parts.len().saturating_sub(1) {
        parts[i].end = parts[i + 1].start;
    }
    let programme_end = parts[0].start;

    // ---- Programme part ------------------------------------------------------------------
    let mut rules_text = Vec::new();
    let mut rules_lines = Vec::new();
    for (n, l) in source.numbered().take(programme_end) {
        let c = clean(l);
        if c.contains("requires the successful completion of")
            || c.contains("consists of either one of")
        {
            rules_text.push(c);
            rules_lines.push(n);
        }
    }
    if let Some(n) = source
        .find_from(1, "Executive Certificate")
        .filter(|&n| n < programme_end)
    {
        f.repaired(
            FindingKind::Other,
            n,
            source.line(n),
            "The Executive Certificate (Unit 1 and Unit 2) and the Executive Diploma (Units 1 to 4) are named without a QAN and their Units 3 and 4 are not in this syllabus; they were not added as qualifications",
            None,
            vec![],
        );
        let l = source.line(n);
        if l.contains("Executive Award in Sales and Account Management") {
            f.repaired(
                FindingKind::Other,
                n,
                l,
                format!(
                    "This paragraph calls the Award 'Executive Award in Sales and Account Management', without 'Strategic'; the title heading (line {title_line}), the Award section and the overview table agree on '{qual_title}', which is used"
                ),
                qualification_target(&qan, "title"),
                vec![qual_title.clone()],
            );
        }
    }
    let glh_line = source
        .numbered()
        .take(programme_end)
        .find(|(_, l)| l.contains("total Guided Learning Hours for the Award"));
    let glh = glh_line.and_then(|(_, l)| number_before(l, " hours"));
    let nlh_line = source
        .numbered()
        .take(programme_end)
        .find(|(_, l)| l.contains("total Notional Learning Hours for the Award"));
    let nlh = nlh_line.and_then(|(_, l)| number_before(l, " hours"));
    if let (Some((n, l)), Some(v)) = (nlh_line, nlh) {
        f.repaired(
            FindingKind::Other,
            n,
            l,
            format!(
                "The syllabus gives Notional Learning Hours (all learning including assessment), not TQT; the Award's {v} NLH are recorded as its TQT"
            ),
            qualification_target(&qan, "tqt"),
            vec![v.to_string()],
        );
    }

    // Overview table: a header of unit columns and one row per route with a tick.
    let mut routes: Vec<Vec<String>> = Vec::new();
    let mut table_glh: Vec<(u32, u32, usize)> = Vec::new(); // unit, glh, line
    if let Some(h) = (1..programme_end).find(|&n| {
        let l = source.line(n);
        l.contains('\t') && l.contains("Unit 1") && l.contains("GLH")
    }) {
        let header = raw_cells(source.line(h));
        let col_unit: Vec<Option<(u32, Option<u32>)>> = header
            .iter()
            .map(|c| {
                let (u, _) = unit_heading(c)?;
                let glh = c
                    .strip_prefix(&format!("Unit {u}"))
                    .and_then(|r| r.trim().strip_suffix("GLH"))
                    .and_then(number);
                Some((u, glh))
            })
            .collect();
        for (u, g) in col_unit.iter().flatten() {
            if let Some(g) = g {
                table_glh.push((*u, *g, h));
            }
        }
        let extra: Vec<String> = col_unit
            .iter()
            .flatten()
            .filter(|(u, _)| !parts.iter().any(|p| p.n == *u))
            .map(|(u, g)| {
                format!(
                    "Unit {u} ({} GLH)",
                    g.map(|g| g.to_string()).unwrap_or("?".into())
                )
            })
            .collect();
        if !extra.is_empty() {
            f.repaired(
                FindingKind::Other,
                h,
                source.line(h),
                format!(
                    "The overview table has columns for {}, which are not in this syllabus (they belong to the Executive Diploma); not imported. 'Unit 4 5 GLH' looks damaged but is not used",
                    extra.join(", ")
                ),
                None,
                vec![],
            );
        }
        let mut n = h + 1;
        while n < programme_end && !source.line(n).trim().is_empty() {
            let raw = raw_cells(source.line(n));
            let ticked: Vec<String> = raw
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(_, c)| !c.is_empty())
                .filter_map(|(i, _)| col_unit.get(i).copied().flatten())
                .map(|(u, _)| format!("ISMM:Unit {u}"))
                .collect();
            if !ticked.is_empty() {
                routes.push(ticked);
            }
            n += 1;
        }
    }
    if routes.is_empty() {
        // Fall back on the prose: "either one of Unit 1 or Unit 2".
        routes = parts
            .iter()
            .map(|p| vec![format!("ISMM:Unit {}", p.n)])
            .collect();
        f.repaired(
            FindingKind::Other,
            rules_lines.first().copied().unwrap_or(1),
            "",
            "No route table found; each unit is read as a route of its own, as the text says 'one of the two Units'",
            qualification_target(&qan, "rules"),
            vec![],
        );
    }

    let entry_requirements = find_heading(source, 1, programme_end, |h| h == "Entry Requirements")
        .and_then(|h| section_text(source, h, programme_end))
        .map(|(_, t)| t);
    let assessment_h = find_heading(source, 1, programme_end, |h| h == "Assessment");
    let assessment = assessment_h
        .and_then(|h| section_text(source, h, programme_end))
        .map(|(_, t)| t);
    let pass_mark = assessment
        .as_deref()
        .and_then(|a| {
            let i = a.find("at least ")?;
            number_before(&a[i..], "%")
        })
        .unwrap_or(50);
    let grading_h = find_heading(source, 1, programme_end, |h| h == "Grading");
    let graded = grading_h
        .and_then(|h| section_text(source, h, programme_end))
        .filter(|(_, t)| t.contains("Merit") && t.contains("Distinction"));
    if let Some((n, _)) = &graded {
        f.repaired(
            FindingKind::MissingValue,
            *n,
            source.line(*n),
            format!(
                "Units and the Award are graded Fail/Pass/Merit/Distinction; the pass mark is {pass_mark}% (Assessment), the Merit and Distinction boundaries are not in the syllabus (the AO's setting) and are left empty"
            ),
            qualification_target(&qan, "grading"),
            vec![],
        );
    } else {
        f.open(
            FindingKind::MissingValue,
            grading_h.unwrap_or(1),
            "",
            "No Fail/Pass/Merit/Distinction grading found; drafted as marked with the pass mark only",
            qualification_target(&qan, "grading"),
            vec![],
        );
    }
    let msssb = source
        .numbered()
        .take(programme_end)
        .find(|(_, l)| l.contains("(MSSSB) Standards for"));
    let nos: Vec<String> = msssb
        .and_then(|(_, l)| {
            let rest = l.split_once("Standards for ")?.1;
            let list = rest.split('.').next()?;
            Some(
                list.split(", ")
                    .flat_map(|p| p.split(" and "))
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| format!("MSSSB Standards for {p}"))
                    .collect(),
            )
        })
        .unwrap_or_default();
    if let Some((n, l)) = msssb {
        f.repaired(
            FindingKind::Other,
            n,
            l,
            "The Units are mapped against the MSSSB standards for sales managers, key customer managers and senior sales managers as a programme, without unit-level standard codes; each unit records the three named standards. The QCA Key Skills also listed (C, N, IT, WO, LP, PS) have no place in the catalogue and are not recorded",
            None,
            nos.clone(),
        );
    }

    // ---- Units ---------------------------------------------------------------------------
    let mut units = Vec::new();
    for p in &parts {
        units.push(parse_unit(source, p, &table_glh, level, &nos, &mut f)?);
    }

    // ---- The qualification -------------------------------------------------------------
    let credit_line = glh_line.map(|(n, _)| n).unwrap_or(title_line);
    f.open(
        FindingKind::MissingValue,
        credit_line,
        source.line(credit_line),
        "The syllabus gives no credit value for the Award or its units (it says credits are carried forward but never how many). The catalogue needs a credit range: the draft holds '0 or more', which constrains nothing; a person must set the value from the Ofqual register or confirm there is none",
        qualification_target(&qan, "credit"),
        vec![],
    );
    if routes
        .iter()
        .flatten()
        .any(|k| !units.iter().any(|u: &Unit| &u.key == k))
    {
        f.open(
            FindingKind::Other,
            rules_lines.first().copied().unwrap_or(1),
            "",
            "A route names a unit that is not in the syllabus",
            qualification_target(&qan, "rules"),
            vec![],
        );
    }
    let qualification = Qualification {
        qan: qan.clone(),
        title: qual_title.clone(),
        level,
        size: QualificationSize::Award,
        credit: Range::at_least(0),
        glh: glh.map(Range::exactly),
        tqt: nlh.map(Range::exactly),
        grading: Grading::Marked {
            pass_mark,
            merit_mark: None,
            distinction_mark: None,
        },
        assessment,
        minimum_age: None,
        entry_requirements,
        units: units
            .iter()
            .map(|u| QualificationUnit {
                unit: u.key.clone(),
                group: None,
            })
            .collect(),
        rules: vec![Requirement::OneOfRoutes { routes }],
        rules_text,
    };

    let specification = Specification {
        key: ismm_key(level, &qual_title),
        title: doc_title,
        awarding_organisation: AwardingOrganisation {
            code: "ISMM".into(),
            name: "Institute of Sales and Marketing Management".into(),
        },
        document_version: None,
        published_on: None,
        change_log: Vec::new(),
        sector: None,
        qualifications: vec![qualification],
        units,
    };
    let mut findings = f.into_vec();
    findings.sort_by_key(|x| x.line);
    Ok(Imported {
        specification,
        report: ImportReport {
            layout: Layout::IsmmSyllabus,
            source_lines: len,
            findings,
        },
    })
}

#[allow(clippy::too_many_lines)]
fn parse_unit(
    source: &Source,
    p: &UnitPart,
    table_glh: &[(u32, u32, usize)],
    level: u8,
    nos: &[String],
    f: &mut Findings,
) -> Result<Unit, ImportError> {
    let ao_ref = format!("Unit {}", p.n);
    let key = format!("ISMM:{ao_ref}");
    let aims = find_heading(source, p.start, p.end, |h| h == "Aims of the Unit")
        .and_then(|h| section_text(source, h, p.end));
    let rationale = find_heading(source, p.start, p.end, |h| h == "Rationale")
        .and_then(|h| section_text(source, h, p.end));
    let assessment = find_heading(source, p.start, p.end, |h| h == "Assessment")
        .and_then(|h| section_text(source, h, p.end));
    let unit_assessment = find_heading(source, p.start, p.end, |h| {
        h.starts_with("Unit ") && h.ends_with(" Assessment")
    })
    .and_then(|h| section_text(source, h, p.end));

    // GLH: "This Unit has 105 GLH." against the overview table.
    let glh = aims
        .as_ref()
        .and_then(|(n, t)| number_before(t, " GLH").map(|g| (*n, g)));
    if let (Some((n, g)), Some((_, tg, tl))) = (glh, table_glh.iter().find(|(u, _, _)| *u == p.n))
        && g != *tg
    {
        f.open(
            FindingKind::Disagreement,
            n,
            source.line(n),
            format!(
                "{ao_ref} GLH: {g} in its aims (line {n}), {tg} in the overview table (line {tl}); the draft keeps {g}"
            ),
            unit_target(&key, "glh"),
            vec![g.to_string(), tg.to_string()],
        );
    }
    if glh.is_none() {
        f.open(
            FindingKind::MissingValue,
            p.start,
            source.line(p.start),
            format!("{ao_ref} states no GLH"),
            unit_target(&key, "glh"),
            table_glh
                .iter()
                .filter(|(u, _, _)| *u == p.n)
                .map(|(_, g, _)| g.to_string())
                .collect(),
        );
    }
    f.repaired(
        FindingKind::InferredNumber,
        p.start,
        source.line(p.start),
        format!("The syllabus gives units no level of their own; {ao_ref} takes the Award's Level {level}"),
        unit_target(&key, "level"),
        vec![level.to_string()],
    );
    f.repaired(
        FindingKind::MissingValue,
        p.start,
        source.line(p.start),
        format!(
            "{ao_ref} has no credit value in the syllabus; left empty. Informational: the Award's rule is by route, not by credit, so nothing in this syllabus depends on it (the Award's own credit is an open finding)"
        ),
        unit_target(&key, "credit"),
        vec![],
    );
    f.repaired(
        FindingKind::MissingValue,
        p.start,
        source.line(p.start),
        format!("{ao_ref} has no TQT in the syllabus (only the Award's Notional Learning Hours); left empty"),
        unit_target(&key, "tqt"),
        vec![],
    );

    // ---- Learning outcomes and indicative content ----
    let mut los: Vec<LearningOutcome> = Vec::new();
    let mut lo_lines: Vec<usize> = Vec::new();
    for n in p.start..p.end {
        let c: Vec<String> = cells(source.line(n)).iter().map(|c| clean(c)).collect();
        if c.is_empty() {
            continue;
        }
        let first = dotted(&c[0]);
        match first.as_deref() {
            Some([u, _]) => {
                if *u != p.n {
                    f.open(
                        FindingKind::InferredNumber,
                        n,
                        source.line(n),
                        format!("Learning outcome {} sits in {ao_ref}", c[0]),
                        unit_target(&key, "learning_outcomes"),
                        vec![],
                    );
                }
                let text = c.get(1).cloned().unwrap_or_default();
                if text.is_empty() || dotted(&text).is_some() {
                    f.open(
                        FindingKind::MissingValue,
                        n,
                        source.line(n),
                        format!("Learning outcome {} has no text", c[0]),
                        unit_target(&key, "learning_outcomes"),
                        vec![],
                    );
                }
                los.push(LearningOutcome {
                    number: c[0].clone(),
                    text,
                    criteria: Vec::new(),
                    indicative_content: Vec::new(),
                    assessor_guidance: None,
                });
                lo_lines.push(n);
                if let (Some(num), Some(t)) = (c.get(2), c.get(3)) {
                    push_content(&mut los, num, t, n, source, &key, f);
                }
            }
            Some([_, _, _]) => {
                if let Some(t) = c.get(1) {
                    push_content(&mut los, &c[0], t, n, source, &key, f);
                }
            }
            _ => {}
        }
    }
    if los.is_empty() {
        return Err(malformed(p.start, "unit has no learning outcomes"));
    }
    for (i, lo) in los.iter().enumerate() {
        let expected = format!("{}.{}", p.n, i + 1);
        if lo.number != expected {
            f.open(
                FindingKind::InferredNumber,
                lo_lines[i],
                source.line(lo_lines[i]),
                format!(
                    "Learning outcome {} where {expected} was expected",
                    lo.number
                ),
                unit_target(&key, "learning_outcomes"),
                vec![],
            );
        }
        if lo.indicative_content.is_empty() {
            f.open(
                FindingKind::MissingValue,
                lo_lines[i],
                source.line(lo_lines[i]),
                format!("Learning outcome {} has no indicative content", lo.number),
                unit_target(&key, "learning_outcomes"),
                vec![],
            );
        }
    }

    // ---- Assessment: components and their weights ----
    let mut texts: Vec<(usize, String)> = Vec::new();
    texts.extend(assessment.clone());
    texts.extend(unit_assessment.clone());
    let mut components: Vec<AssessmentComponent> = Vec::new();
    let main = assessment.as_ref().map(|(_, t)| t.as_str()).unwrap_or("");
    if main.contains("(contributing") {
        let segs: Vec<&str> = main.split("(contributing").collect();
        for i in 1..segs.len() {
            let before = segs[i - 1];
            let name_part = match before.rfind(") and ") {
                Some(j) => &before[j + 6..],
                None => before
                    .rsplit_once("comprising ")
                    .map(|x| x.1)
                    .unwrap_or(before),
            };
            let weight = number_before(segs[i], "%").unwrap_or(0);
            components.push(AssessmentComponent {
                name: strip_article(name_part),
                weight_percent: weight,
                words: None,
            });
        }
    } else if let Some((_, after)) = texts.iter().find_map(|(_, t)| t.split_once("assessed by ")) {
        let phrase = after
            .split([',', ';', '('])
            .next()
            .unwrap_or(after)
            .split(" through ")
            .next()
            .unwrap_or(after);
        let name = strip_article(phrase);
        let name = match name.split_once("-word ") {
            Some((_, rest)) => rest.to_string(),
            None => name,
        };
        components.push(AssessmentComponent {
            name,
            weight_percent: 100,
            words: None,
        });
    }
    // A word count ("a 3000-word work-based project") for a single component.
    let words = texts.iter().find_map(|(_, t)| number_before(t, "-word"));
    if let (Some(w), [only]) = (words, components.as_mut_slice()) {
        only.words = Some(w);
    }
    let total: u32 = components.iter().map(|c| c.weight_percent).sum();
    if components.is_empty() || total != 100 {
        f.open(
            FindingKind::MissingValue,
            assessment.as_ref().map(|(n, _)| *n).unwrap_or(p.start),
            assessment.as_ref().map(|(_, t)| t.as_str()).unwrap_or(""),
            format!("{ao_ref}'s assessment components could not be read to 100% (read {total}%)"),
            unit_target(&key, "assessment_components"),
            vec![],
        );
    }
    // "This assignment represents 20%" against "represents 100% of the overall assessment".
    let mut shares: Vec<(usize, u32)> = Vec::new();
    for n in p.start..p.end {
        if !source.line(n).contains('%') {
            continue;
        }
        let l = source.line(n).to_lowercase();
        let mut rest = l.as_str();
        while let Some(i) = rest.find("represents ") {
            rest = &rest[i + "represents ".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if rest[digits.len()..].starts_with('%')
                && let Some(v) = number(&digits)
            {
                shares.push((n, v));
            }
        }
    }
    if let Some(&(first_line, first)) = shares.first()
        && let Some(&(other_line, other)) = shares.iter().find(|(_, v)| *v != first)
    {
        let (odd_line, odd, usual) = if shares.iter().filter(|(_, v)| *v == first).count() == 1 {
            (first_line, first, other)
        } else {
            (other_line, other, first)
        };
        f.open(
            FindingKind::Disagreement,
            odd_line,
            source.line(odd_line),
            format!(
                "{ao_ref}'s assignment is said to represent {odd}% of the overall assessment here but {usual}% elsewhere (lines {}); the components' weights within the unit are unaffected, the draft keeps {usual}% (the unit is the whole Award assessment) until a person decides",
                shares
                    .iter()
                    .filter(|(_, v)| *v == usual)
                    .map(|(n, _)| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            unit_target(&key, "assessment_components"),
            vec![format!("{usual}%"), format!("{odd}%")],
        );
    }
    let real_work = texts
        .iter()
        .find(|(_, t)| t.contains("work-based project"))
        .map(|(n, _)| *n);
    let sim_line = assessment.as_ref().map(|(n, _)| *n).unwrap_or(p.start);
    f.repaired(
        FindingKind::Other,
        real_work.unwrap_or(sim_line),
        source.line(real_work.unwrap_or(sim_line)),
        match real_work {
            Some(_) => format!(
                "The syllabus says nothing about simulation; {ao_ref} is assessed by a work-based project on the candidate's own organisation, i.e. real work: simulation recorded as not permitted"
            ),
            None => format!(
                "The syllabus says nothing about simulation and permits none; {ao_ref} is assessed by an ISMM-set case-study assignment, centre marked: simulation recorded as not permitted"
            ),
        },
        unit_target(&key, "simulation"),
        vec!["not_permitted".into()],
    );

    let purpose = match (&aims, &rationale) {
        (Some((_, a)), Some((_, r))) => Some(format!("{a}\n\n{r}")),
        (Some((_, a)), None) => Some(a.clone()),
        (None, Some((_, r))) => Some(r.clone()),
        (None, None) => None,
    };
    let assessment_method = {
        let t: Vec<&str> = texts.iter().map(|(_, t)| t.as_str()).collect();
        (!t.is_empty()).then(|| t.join("\n\n"))
    };
    Ok(Unit {
        key,
        ofqual_ref: None,
        ao_ref,
        other_refs: Vec::new(),
        title: p.title.clone(),
        level,
        credit: None,
        glh: glh.map(|g| g.1),
        tqt: None,
        purpose,
        sector: None,
        learning_outcomes: los,
        assessment_method,
        simulation: Simulation::NotPermitted,
        evidence_occasions: None,
        centre_authentication: false,
        assessment_guidance: None,
        ksb: Vec::new(),
        nos: nos.to_vec(),
        apprenticeship_text: None,
        assessment_components: components,
    })
}

fn strip_article(s: &str) -> String {
    let t = s.trim();
    let t = t
        .strip_prefix("a ")
        .or_else(|| t.strip_prefix("an "))
        .unwrap_or(t);
    t.trim().to_string()
}

fn push_content(
    los: &mut [LearningOutcome],
    num: &str,
    text: &str,
    line: usize,
    source: &Source,
    key: &str,
    f: &mut Findings,
) {
    let Some(lo) = los.last_mut() else {
        f.open(
            FindingKind::Other,
            line,
            source.line(line),
            format!("Indicative content {num} comes before any learning outcome; dropped"),
            unit_target(key, "learning_outcomes"),
            vec![text.to_string()],
        );
        return;
    };
    let expected = format!("{}.{}", lo.number, lo.indicative_content.len() + 1);
    if num != expected {
        f.open(
            FindingKind::InferredNumber,
            line,
            source.line(line),
            format!(
                "Indicative content numbered {num} under learning outcome {} (expected {expected}); kept as printed",
                lo.number
            ),
            unit_target(key, "learning_outcomes"),
            vec![num.to_string(), expected],
        );
    }
    lo.indicative_content.push(ContentItem {
        number: Some(num.to_string()),
        text: text.to_string(),
    });
}
