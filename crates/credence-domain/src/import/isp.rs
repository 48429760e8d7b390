//! The ISP "Professional Sales" specifications, Level 3 and Level 5 (seeds `000_…` and
//! `001_…`): Key Facts, Award structures, Rules of Combination, the unit overview by group,
//! the unit specifications of Appendix 1 and (Level 3) the KSB mapping of Appendix 3.
//!
//! The text comes from a PDF: cells split across lines and tabs, numbers lost, titles cut,
//! look-alike letters, and tables of one document that disagree. Repairs the document itself
//! decides are recorded as repaired findings with the seed's line; disagreements between
//! tables and anything undecidable are open findings.

mod ksb;
mod rules;
mod tables;
mod units;
mod util;

use std::collections::BTreeMap;

use super::text::{Source, cells, squash};
use super::{
    FindingKind, Findings, ImportError, ImportReport, Imported, Layout, qualification_target,
    unit_target,
};
use crate::ident::{Qan, UnitRef};
use crate::model::{
    AwardingOrganisation, ChangeEntry, Grading, KsbMapping, Qualification, QualificationSize,
    QualificationUnit, Range, Requirement, Simulation, Specification, Unit,
};
use rules::RuleTarget;
use tables::{QualRow, TableKind, Tables, UnitRow};
use units::UnitSpec;
use util::{title_key, uk_date};

/// The source with its page furniture marked, and the findings collected so far.
pub(crate) struct Ctx<'s, 'a> {
    src: &'s Source<'a>,
    furniture: Vec<bool>,
    pub findings: Findings,
}

impl<'a> Ctx<'_, 'a> {
    pub fn line(&self, n: usize) -> &'a str {
        self.src.line(n)
    }
    pub fn len(&self) -> usize {
        self.src.len()
    }
    /// Running headers and footers ("Specifications for Level 3 ...", "Page 26 of 87").
    pub fn is_furniture(&self, n: usize) -> bool {
        self.furniture.get(n).copied().unwrap_or(false)
    }
}

fn malformed(layout: Layout, line: usize, reason: &str) -> ImportError {
    ImportError::Malformed {
        layout: layout.describe(),
        line,
        reason: reason.to_string(),
    }
}

/// A heading line: the whole line, no tab (the Contents list has page numbers after a tab).
fn find_heading(ctx: &Ctx, from: usize, starts: &str) -> Option<usize> {
    (from.max(1)..=ctx.len()).find(|n| {
        let l = ctx.line(*n);
        !l.contains('\t') && l.trim().starts_with(starts)
    })
}

pub fn parse(source: &Source, layout: Layout) -> Result<Imported, ImportError> {
    let furniture = (0..=source.len())
        .map(|n| n > 0 && util::is_page_furniture(source.line(n)))
        .collect();
    let mut ctx = Ctx {
        src: source,
        furniture,
        findings: Findings::default(),
    };
    let (title_line, title) = source
        .numbered()
        .find(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| (n, squash(l)))
        .ok_or_else(|| malformed(layout, 1, "the document has no title"))?;
    // The layout was recognised by its structure; the title is whatever the first line
    // says ("ISP Level 3 Qualifications in Professional Sales", or another suite's).
    let title_level = level_in(&title);
    let doc_level = title_level.unwrap_or(match layout {
        Layout::IspLevel5 => 5,
        _ => 3,
    });
    let key = super::text::spec_key("isp", doc_level, &title);
    let change_log = change_log(&mut ctx);
    let contents_end = find_heading(&ctx, 1, "Change Control").unwrap_or(1);
    let app1 = find_heading(&ctx, contents_end, "Appendix 1").ok_or_else(|| {
        malformed(
            layout,
            ctx.len(),
            "no 'Appendix 1' (unit specifications) found",
        )
    })?;
    let app2 = find_heading(&ctx, app1, "Appendix 2");
    let app3 = find_heading(&ctx, app1, "Appendix 3");
    let units_end = app2.or(app3).unwrap_or(ctx.len() + 1);

    let tables = tables::scan(&ctx, app1, app3);
    if tables.quals.is_empty() {
        return Err(malformed(
            layout,
            contents_end,
            "no qualification (QAN) table found",
        ));
    }
    // The level the qualifications' own titles give, where they agree, stands for the
    // document's when its title says another (or none).
    let mut quals_levels: Vec<u8> = tables
        .quals
        .iter()
        .filter_map(|r| level_in(&r.title))
        .collect();
    quals_levels.sort_unstable();
    quals_levels.dedup();
    let doc_level = match (title_level, quals_levels.as_slice()) {
        (Some(t), [q]) if t != *q => {
            ctx.findings.open(
                FindingKind::Disagreement,
                title_line,
                &title,
                format!(
                    "The document's title says Level {t} but every qualification in its table is titled Level {q}: check the title (the draft keeps it and its key {key}) and the qualifications' levels (Level {q} is used where a qualification's title gives none)"
                ),
                None,
                vec![format!("Level {t}"), format!("Level {q}")],
            );
            *q
        }
        (None, [q]) => *q,
        _ => doc_level,
    };
    let specs = units::parse_all(&mut ctx, &tables, app1, units_end);
    if specs.is_empty() {
        return Err(malformed(
            layout,
            app1,
            "no unit specification found in Appendix 1",
        ));
    }
    let doc_sector = doc_sector(&mut ctx, &specs);
    let general = General::read(&mut ctx, contents_end, app1);
    let units = build_units(&mut ctx, &tables, &specs, doc_sector.as_deref(), &general);
    let qualifications = build_qualifications(
        &mut ctx,
        &tables,
        &units,
        &general,
        &change_log,
        (doc_level, contents_end, app1),
    );
    let last = change_log.last();
    let specification = Specification {
        key,
        title,
        awarding_organisation: AwardingOrganisation {
            code: "ISP".into(),
            name: "Institute of Sales Professionals".into(),
        },
        document_version: last.map(|c| c.version.clone()),
        published_on: last.and_then(|c| c.date.clone()),
        change_log,
        sector: doc_sector,
        qualifications,
        units,
    };
    let mut findings = ctx.findings.into_vec();
    findings.sort_by_key(|f| f.line);
    Ok(Imported {
        specification,
        report: ImportReport {
            layout,
            source_lines: source.len(),
            findings,
        },
    })
}

/// "Level 3" in a title.
fn level_in(title: &str) -> Option<u8> {
    let ws: Vec<&str> = title.split_whitespace().collect();
    ws.windows(2)
        .find(|w| w[0] == "Level")
        .and_then(|w| w[1].parse().ok())
        .or_else(|| {
            ws.iter().find_map(|w| {
                w.strip_prefix('L')
                    .filter(|d| d.len() == 1)
                    .and_then(|d| d.parse().ok())
            })
        })
}

fn change_log(ctx: &mut Ctx) -> Vec<ChangeEntry> {
    let mut out = Vec::new();
    let Some(head) = (1..=ctx.len()).find(|n| {
        let c = cells(ctx.line(*n));
        c.first().is_some_and(|f| *f == "Version") && c.iter().any(|x| x.contains("date"))
    }) else {
        return out;
    };
    for n in head + 1..=ctx.len() {
        let c = cells(ctx.line(n));
        let Some(first) = c.first() else { break };
        let version = first.split_whitespace().next().unwrap_or("");
        if !(version.starts_with('V') && version[1..].starts_with(|d: char| d.is_ascii_digit())) {
            break;
        }
        let date = c.get(1).and_then(|d| uk_date(d));
        if let Some((iso, true)) = &date {
            ctx.findings.repaired(
                FindingKind::Other,
                n,
                ctx.line(n),
                format!(
                    "Change control date '{}' has a two-digit year; read as {iso} (day/month/year).",
                    c.get(1).copied().unwrap_or("")
                ),
                None,
                vec![iso.clone()],
            );
        }
        out.push(ChangeEntry {
            version: version.to_string(),
            date: date.map(|d| d.0),
            summary: c.get(2).map(|s| squash(s)).unwrap_or_default(),
        });
    }
    out
}

fn doc_sector(ctx: &mut Ctx, specs: &[UnitSpec]) -> Option<String> {
    let sector = units::sector_of(specs)?;
    // The cover (line 5) says "15.4 Sales & Marketing"; the units say "15.4 - Marketing and
    // Sales", Ofqual's name for sector 15.4.
    let code = sector.split(' ').next().unwrap_or("");
    if let Some(n) = (1..=20.min(ctx.len())).find(|n| ctx.line(*n).trim().starts_with(code))
        && let Some(cover) = util::sector_text(ctx.line(n))
        && title_key(&cover) != title_key(&sector)
    {
        ctx.findings.repaired(
            FindingKind::Other,
            n,
            ctx.line(n),
            format!(
                "The cover names sector {code} '{cover}'; every unit specification gives '{sector}' (Ofqual's name), which is used."
            ),
            None,
            vec![sector.clone(), cover],
        );
    }
    Some(sector)
}

/// Statements that apply to every qualification of the document.
struct General {
    assessment: Option<String>,
    minimum_age: Option<u8>,
    entry_requirements: Option<String>,
    pass_only: bool,
    award_rule_text: Option<String>,
}

impl General {
    fn read(ctx: &mut Ctx, from: usize, to: usize) -> General {
        let para_after = |heading: &str| -> Vec<(usize, String)> {
            let Some(h) = find_heading(ctx, from, heading).filter(|h| *h < to) else {
                return Vec::new();
            };
            let mut out = Vec::new();
            for n in h + 1..to {
                let l = ctx.line(n).trim();
                if l.is_empty() || ctx.is_furniture(n) {
                    continue;
                }
                // The next heading: a short line without a full stop, not a list item.
                if l.len() < 60
                    && !l.ends_with('.')
                    && !l.ends_with(':')
                    && !l.starts_with("- ")
                    && l.starts_with(|c: char| c.is_uppercase())
                {
                    break;
                }
                out.push((n, squash(l)));
            }
            out
        };
        let entry = para_after("Learner entry requirements");
        let mut minimum_age = None;
        let mut entry_text = Vec::new();
        for (_, p) in &entry {
            if let Some(i) = p.find("approved for learners ") {
                minimum_age = p[i + "approved for learners ".len()..]
                    .split_whitespace()
                    .next()
                    .and_then(|w| w.parse().ok());
            } else {
                entry_text.push(p.clone());
            }
        }
        let assessment = para_after("Qualification Assessment");
        let pass_only = assessment
            .iter()
            .any(|(_, p)| p.contains("only graded at Pass"));
        if !pass_only {
            ctx.findings.open(
                FindingKind::MissingValue,
                from,
                ctx.line(from),
                "The specification does not say how its qualifications are graded; the draft assumes Pass only.",
                None,
                vec![],
            );
        }
        let award_rule_text = (from..to)
            .map(|n| ctx.line(n).trim())
            .find(|l| l.contains("Award qualifications are available for"))
            .map(squash);
        General {
            assessment: assessment.first().map(|p| p.1.clone()),
            minimum_age,
            entry_requirements: Some(entry_text.join("\n\n")).filter(|t| !t.is_empty()),
            pass_only,
            award_rule_text,
        }
    }
}

/// An observation of one numeric value in one place.
struct Obs {
    value: Option<u32>,
    source: String,
    line: usize,
    spec: bool,
}

/// Reconcile one value across the unit specification and the tables: disagreements are open,
/// empty cells are filled from the others (repaired), a value given nowhere is missing.
fn reconcile(ctx: &mut Ctx, key: &str, field: &str, obs: &[Obs]) -> Option<u32> {
    let draft = obs.iter().find_map(|o| o.value);
    let mut distinct: Vec<u32> = Vec::new();
    for v in obs.iter().filter_map(|o| o.value) {
        if !distinct.contains(&v) {
            distinct.push(v);
        }
    }
    let Some(draft) = draft else {
        let at = obs.first().map_or(0, |o| o.line);
        ctx.findings.open(
            FindingKind::MissingValue,
            at,
            ctx.line(at),
            format!("Unit {key}: no {field} is given anywhere in the document."),
            unit_target(key, field),
            vec![],
        );
        return None;
    };
    if distinct.len() > 1
        && let Some(odd) = obs.iter().find(|o| o.value.is_some_and(|v| v != draft))
    {
        let listing: Vec<String> = obs
            .iter()
            .filter_map(|o| o.value.map(|v| format!("{v} ({})", o.source)))
            .collect();
        let whose = if obs.first().is_some_and(|o| o.spec && o.value.is_some()) {
            "the unit specification's own value"
        } else {
            "the first table's value"
        };
        ctx.findings.open(
            FindingKind::Disagreement,
            odd.line,
            ctx.line(odd.line),
            format!(
                "Unit {key}: the tables disagree on {field}: {}. The draft holds {draft}, {whose}, until a person decides.",
                listing.join("; ")
            ),
            unit_target(key, field),
            distinct.iter().map(u32::to_string).collect(),
        );
    }
    for o in obs.iter().filter(|o| o.value.is_none()) {
        let message = if o.spec {
            format!(
                "Unit {key}: the unit specification leaves {field} empty; {draft} taken from the other tables of the document."
            )
        } else {
            format!(
                "Unit {key}: the {field} cell is empty in the {}; the unit specification and other tables give {draft}.",
                o.source
            )
        };
        ctx.findings.repaired(
            FindingKind::InferredNumber,
            o.line,
            ctx.line(o.line),
            message,
            unit_target(key, field),
            vec![draft.to_string()],
        );
    }
    Some(draft)
}

fn rows_of<'t>(tables: &'t Tables, spec: &UnitSpec) -> Vec<&'t UnitRow> {
    tables
        .units
        .iter()
        .filter(|r| {
            r.ao == spec.ao
                || spec.ofqual_ref.as_ref().is_some_and(|k| {
                    UnitRef::parse(&r.ref_raw).is_ok_and(|u| u.as_str() == k)
                        && util::ao_ref(&r.ao).is_none()
                })
        })
        .collect()
}

fn check_refs(ctx: &mut Ctx, spec: &UnitSpec, rows: &[&UnitRow]) {
    let Some(own) = &spec.ofqual_ref else { return };
    let mut others: Vec<(String, &UnitRow)> = Vec::new();
    for r in rows {
        match UnitRef::parse(&r.ref_raw) {
            Ok(u) if u.as_str() == own => {}
            Ok(u) => others.push((u.to_string(), r)),
            Err(_) => ctx.findings.repaired(
                FindingKind::InvalidIdentifier,
                r.line,
                ctx.line(r.line),
                format!(
                    "Unit {}: the {} prints the Ofqual reference '{}', which is not valid; the unit specification (line {}) gives {own}.",
                    spec.ao,
                    r.source(),
                    r.ref_raw,
                    spec.lines.reference
                ),
                unit_target(own, "ofqual_ref"),
                vec![own.clone(), r.ref_raw.clone()],
            ),
        }
    }
    if let Some((_, first)) = others.first() {
        let mut cands = vec![own.clone()];
        for (o, _) in &others {
            if !cands.contains(o) {
                cands.push(o.clone());
            }
        }
        let listing: Vec<String> = others
            .iter()
            .map(|(o, r)| format!("{o} ({})", r.source()))
            .collect();
        ctx.findings.open(
            FindingKind::Disagreement,
            first.line,
            ctx.line(first.line),
            format!(
                "Unit {}: the unit specification (line {}) gives Ofqual reference {own}, but {}. The draft keys the unit by {own}, the unit specification's own value, until a person decides.",
                spec.ao,
                spec.lines.reference,
                listing.join("; ")
            ),
            unit_target(own, "ofqual_ref"),
            cands,
        );
    }
}

fn check_titles(ctx: &mut Ctx, spec: &UnitSpec, rows: &[&UnitRow]) -> String {
    let mut full = spec.title.clone();
    let mut sources: Vec<(String, String, usize)> = Vec::new();
    if let Some((t, l)) = &spec.heading {
        sources.push((t.clone(), format!("unit heading, line {l}"), *l));
    }
    for r in rows {
        if !r.title.is_empty() {
            sources.push((r.title.clone(), r.source(), r.line));
        }
    }
    // The unit specification's own title cut short: complete it from a table.
    let fk = title_key(&full);
    if let Some((t, src, _)) = sources.iter().find(|(t, _, _)| {
        let k = title_key(t);
        k.len() > fk.len() && (k.ends_with(&fk) || k.starts_with(&fk))
    }) {
        ctx.findings.repaired(
            FindingKind::CompletedTitle,
            spec.lines.title,
            ctx.line(spec.lines.title),
            format!(
                "Unit {}: the unit specification's title '{full}' is cut short; completed from the {src}.",
                spec.key
            ),
            unit_target(&spec.key, "title"),
            vec![t.clone(), full.clone()],
        );
        full = t.clone();
    }
    let fk = title_key(&full);
    let mut disagree: Vec<(String, String, usize)> = Vec::new();
    for (t, src, line) in &sources {
        let k = title_key(t);
        if k == fk {
            continue;
        }
        if fk.ends_with(&k) || fk.starts_with(&k) {
            ctx.findings.repaired(
                FindingKind::CompletedTitle,
                *line,
                ctx.line(*line),
                format!(
                    "Unit {}: the {src} prints the title cut short as '{t}'; the complete title is '{full}' (unit specification, line {}).",
                    spec.key, spec.lines.title
                ),
                unit_target(&spec.key, "title"),
                vec![full.clone(), t.clone()],
            );
        } else {
            disagree.push((t.clone(), src.clone(), *line));
        }
    }
    if let Some((_, _, line)) = disagree.first() {
        let mut cands = vec![full.clone()];
        cands.extend(disagree.iter().map(|d| d.0.clone()));
        cands.dedup();
        ctx.findings.open(
            FindingKind::Disagreement,
            *line,
            ctx.line(*line),
            format!(
                "Unit {}: titles disagree: '{full}' (unit specification, line {}); {}. The draft holds the unit specification's title.",
                spec.key,
                spec.lines.title,
                disagree
                    .iter()
                    .map(|d| format!("'{}' ({})", d.0, d.1))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            unit_target(&spec.key, "title"),
            cands,
        );
    }
    full
}

fn merge_ksb(into: &mut Vec<KsbMapping>, more: Vec<KsbMapping>) {
    for m in more {
        if !into
            .iter()
            .any(|k| k.code == m.code && k.standard == m.standard)
        {
            into.push(m);
        }
    }
}

fn build_units(
    ctx: &mut Ctx,
    tables: &Tables,
    specs: &[UnitSpec],
    doc_sector: Option<&str>,
    general: &General,
) -> Vec<Unit> {
    let standard = specs
        .iter()
        .filter_map(|s| s.apprenticeship_text.as_deref())
        .find_map(ksb::first_standard);
    let mut out: Vec<Unit> = Vec::new();
    for spec in specs {
        let rows = rows_of(tables, spec);
        check_refs(ctx, spec, &rows);
        let title = check_titles(ctx, spec, &rows);
        let numeric: Vec<&UnitRow> = rows
            .iter()
            .copied()
            .filter(|r| r.kind != TableKind::Ksb)
            .collect();
        for r in numeric.iter().filter(|r| r.level_in_title) {
            ctx.findings.repaired(
                FindingKind::RejoinedText,
                r.line,
                ctx.line(r.line),
                format!(
                    "Unit {}: in the {} the level {} slid into the title cell and the level cell is empty; read as level {}.",
                    spec.key,
                    r.source(),
                    r.level.unwrap_or(0),
                    r.level.unwrap_or(0)
                ),
                unit_target(&spec.key, "level"),
                vec![r.level.unwrap_or(0).to_string()],
            );
        }
        let obs =
            |spec_value: Option<u32>, spec_line: usize, f: &dyn Fn(&UnitRow) -> Option<u32>| {
                let mut v = vec![Obs {
                    value: spec_value,
                    source: format!("unit specification, line {spec_line}"),
                    line: spec_line,
                    spec: true,
                }];
                v.extend(numeric.iter().map(|r| Obs {
                    value: f(r),
                    source: r.source(),
                    line: r.line,
                    spec: false,
                }));
                v
            };
        let level = reconcile(
            ctx,
            &spec.key,
            "level",
            &obs(
                spec.level.map(u32::from),
                spec.lines.level.max(spec.anchor),
                &|r| r.level.map(u32::from),
            ),
        );
        let credit = reconcile(
            ctx,
            &spec.key,
            "credit",
            &obs(spec.credit, spec.lines.credit.max(spec.anchor), &|r| {
                r.credit
            }),
        );
        let glh = reconcile(
            ctx,
            &spec.key,
            "glh",
            &obs(spec.glh, spec.lines.glh.max(spec.anchor), &|r| r.glh),
        );
        let tqt_obs: Vec<Obs> = numeric
            .iter()
            .map(|r| Obs {
                value: r.tqt,
                source: r.source(),
                line: r.line,
                spec: false,
            })
            .collect();
        let tqt = if tqt_obs.is_empty() {
            ctx.findings.open(
                FindingKind::MissingValue,
                spec.anchor,
                ctx.line(spec.anchor),
                format!("Unit {}: no table gives its TQT.", spec.key),
                unit_target(&spec.key, "tqt"),
                vec![],
            );
            None
        } else {
            reconcile(ctx, &spec.key, "tqt", &tqt_obs)
        };
        if let (Some(c), Some(t)) = (credit, tqt)
            && c * 10 != t
        {
            ctx.findings.open(
                FindingKind::Other,
                spec.lines.credit.max(spec.anchor),
                ctx.line(spec.lines.credit.max(spec.anchor)),
                format!(
                    "Unit {}: credit {c} does not match TQT {t} (one credit is ten hours of TQT); check which is right.",
                    spec.key
                ),
                unit_target(&spec.key, "tqt"),
                vec![t.to_string(), (c * 10).to_string()],
            );
        }
        let level = level.and_then(|l| u8::try_from(l).ok()).unwrap_or(0);
        let mut ksb = spec
            .apprenticeship_text
            .as_deref()
            .map(|t| ksb::parse(t, None))
            .unwrap_or_default();
        for r in rows.iter().filter(|r| r.kind == TableKind::Ksb) {
            merge_ksb(&mut ksb, ksb::parse(&r.ksb, standard.as_deref()));
        }
        let sector = spec
            .sector
            .clone()
            .or_else(|| doc_sector.map(str::to_string));
        out.push(Unit {
            key: spec.key.clone(),
            ofqual_ref: spec.ofqual_ref.clone(),
            ao_ref: spec.ao.clone(),
            other_refs: Vec::new(),
            title,
            level,
            credit,
            glh,
            tqt,
            purpose: spec.purpose.clone(),
            sector,
            learning_outcomes: spec.los.clone(),
            assessment_method: general.assessment.clone(),
            simulation: spec.simulation,
            evidence_occasions: None,
            centre_authentication: false,
            assessment_guidance: None,
            ksb,
            nos: Vec::new(),
            apprenticeship_text: spec.apprenticeship_text.as_deref().map(units::display),
            assessment_components: Vec::new(),
        });
    }
    // Units named in a table but without a specification.
    let mut missing: BTreeMap<String, &UnitRow> = BTreeMap::new();
    for r in &tables.units {
        if !specs.iter().any(|s| s.ao == r.ao) && util::ao_ref(&r.ao).is_some() {
            missing.entry(r.ao.clone()).or_insert(r);
        }
    }
    for (ao, r) in missing {
        let key = UnitRef::parse(&r.ref_raw)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("ISP:{ao}"));
        ctx.findings.open(
            FindingKind::MissingValue,
            r.line,
            ctx.line(r.line),
            format!(
                "Unit {ao} is listed in the {} but has no unit specification in Appendix 1; the draft holds only the table's values.",
                r.source()
            ),
            unit_target(&key, "learning_outcomes"),
            vec![],
        );
        out.push(Unit {
            key: key.clone(),
            ofqual_ref: UnitRef::parse(&r.ref_raw).ok().map(|u| u.to_string()),
            ao_ref: ao,
            other_refs: Vec::new(),
            title: r.title.clone(),
            level: r.level.unwrap_or(0),
            credit: r.credit,
            glh: r.glh,
            tqt: r.tqt,
            purpose: None,
            sector: doc_sector.map(str::to_string),
            learning_outcomes: Vec::new(),
            assessment_method: general.assessment.clone(),
            simulation: Simulation::NotPermitted,
            evidence_occasions: None,
            centre_authentication: false,
            assessment_guidance: None,
            ksb: Vec::new(),
            nos: Vec::new(),
            apprenticeship_text: None,
            assessment_components: Vec::new(),
        });
    }
    out
}

/// "Minimum 13 Maximum 36", "Minimum 37", "6"; "65 to 184 hours", "185 hours +", "30".
fn range(text: &str) -> Option<Range> {
    let ws: Vec<&str> = text.split_whitespace().collect();
    let nums: Vec<u32> = ws.iter().filter_map(|w| w.parse().ok()).collect();
    let open = text.contains('+')
        || (text.to_lowercase().contains("minimum") && !text.to_lowercase().contains("maximum"));
    match nums.as_slice() {
        [n] if open => Some(Range::at_least(*n)),
        [n] => Some(Range::exactly(*n)),
        [a, b] => Some(Range::between(*a, *b)),
        _ => None,
    }
}

/// Title key for matching a Key Facts title to an Award heading: no "ISP", no level.
fn match_key(title: &str) -> String {
    let k = title_key(title);
    k.split(' ')
        .filter(|w| *w != "isp" && *w != "level" && !w.bytes().all(|b| b.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn similarity(a: &str, b: &str) -> f64 {
    let wa: Vec<&str> = a.split(' ').collect();
    let wb: Vec<&str> = b.split(' ').collect();
    let common = wa.iter().filter(|w| wb.contains(w)).count();
    let total = wa.len().max(wb.len()).max(1);
    common as f64 / total as f64
}

fn build_qualifications(
    ctx: &mut Ctx,
    tables: &Tables,
    units: &[Unit],
    general: &General,
    change_log: &[ChangeEntry],
    (doc_level, from, to): (u8, usize, usize),
) -> Vec<Qualification> {
    let key_of: BTreeMap<&str, &str> = units
        .iter()
        .map(|u| (u.ao_ref.as_str(), u.key.as_str()))
        .collect();
    let key_for = |ao: &str| key_of.get(ao).map(|k| k.to_string());
    let blocks = rules::blocks(ctx, from, to);
    let share = rules::share_sentence(ctx, from, to);
    let mut out: Vec<Qualification> = Vec::new();
    let mut level_inferred: Vec<String> = Vec::new();
    let mut lines: Vec<(String, usize)> = Vec::new();
    for row in &tables.quals {
        let qan = qan_of(ctx, row);
        let title = qual_title(ctx, row, &qan);
        let level = match level_in(&title) {
            Some(l) => l,
            None => {
                ctx.findings.repaired(
                    FindingKind::InferredNumber,
                    row.line,
                    ctx.line(row.line),
                    format!(
                        "Qualification {qan}: the title '{title}' has no level number; level {doc_level} taken from the document (all its qualifications are Level {doc_level})."
                    ),
                    qualification_target(&qan, "level"),
                    vec![doc_level.to_string()],
                );
                let fixed = title.replacen("Level ", &format!("Level {doc_level} "), 1);
                ctx.findings.open(
                    FindingKind::Other,
                    row.line,
                    ctx.line(row.line),
                    format!(
                        "Qualification {qan}: the certificate title is printed '{title}' without its level; the draft keeps the printed title. Confirm the title as it appears on the certificate."
                    ),
                    qualification_target(&qan, "title"),
                    vec![title.clone(), fixed],
                );
                level_inferred.push(qan.clone());
                doc_level
            }
        };
        let size = if title.contains("Diploma") {
            QualificationSize::Diploma
        } else if title.contains("Certificate") {
            QualificationSize::Certificate
        } else {
            QualificationSize::Award
        };
        let apprenticeship = title.contains("Apprenticeship");
        let credit = range(&row.credit).unwrap_or_else(|| {
            ctx.findings.open(
                FindingKind::MissingValue,
                row.line,
                ctx.line(row.line),
                format!(
                    "Qualification {qan}: no credit value could be read from '{}'.",
                    row.credit
                ),
                qualification_target(&qan, "credit"),
                vec![],
            );
            Range::exactly(0)
        });
        let mut q = Qualification {
            qan: qan.clone(),
            title: title.clone(),
            level,
            size,
            credit,
            glh: range(&row.glh),
            tqt: range(&row.tqt),
            grading: Grading::PassOnly,
            assessment: general.assessment.clone(),
            minimum_age: general.minimum_age,
            entry_requirements: general.entry_requirements.clone(),
            units: Vec::new(),
            rules: Vec::new(),
            rules_text: Vec::new(),
        };
        if !general.pass_only {
            // recorded once in General::read
        }
        match (size, apprenticeship) {
            (QualificationSize::Award, _) => award_units(ctx, tables, &mut q, row, &key_for),
            (_, true) => {
                q.units = tables
                    .units
                    .iter()
                    .filter(|r| r.kind == TableKind::Apprenticeship)
                    .filter_map(|r| key_for(&r.ao))
                    .map(|unit| QualificationUnit { unit, group: None })
                    .collect();
            }
            _ => {
                q.units = tables
                    .units
                    .iter()
                    .filter(|r| r.kind == TableKind::Group)
                    .filter_map(|r| {
                        key_for(&r.ao).map(|unit| QualificationUnit {
                            unit,
                            group: Some(r.context.clone()),
                        })
                    })
                    .collect();
            }
        }
        let target = match (size, apprenticeship) {
            (QualificationSize::Award, _) => None,
            (_, true) => Some(RuleTarget::Apprenticeship),
            (QualificationSize::Diploma, false) => Some(RuleTarget::Diploma),
            _ => Some(RuleTarget::Certificate),
        };
        let keys: Vec<String> = q.units.iter().map(|u| u.unit.clone()).collect();
        match target {
            None => {
                q.rules.push(Requirement::Mandatory { units: keys });
                q.rules_text.extend(general.award_rule_text.clone());
            }
            Some(t) => {
                match blocks.iter().find(|b| b.target == t) {
                    Some(b) => {
                        for (text, line) in &b.bullets {
                            q.rules_text.push(text.clone());
                            match rules::parse(text, &tables.groups, &keys) {
                                Some(r) => q.rules.push(r),
                                None => ctx.findings.open(
                                    FindingKind::Other,
                                    *line,
                                    ctx.line(*line),
                                    format!("Qualification {qan}: the rule '{text}' could not be read as a requirement; it is kept in rules_text only."),
                                    qualification_target(&qan, "rules"),
                                    vec![],
                                ),
                            }
                        }
                    }
                    None => ctx.findings.open(
                        FindingKind::MissingValue,
                        row.line,
                        ctx.line(row.line),
                        format!(
                            "Qualification {qan}: no rules of combination paragraph applies to it."
                        ),
                        qualification_target(&qan, "rules"),
                        vec![],
                    ),
                }
                if t != RuleTarget::Apprenticeship
                    && let Some((text, _)) = &share
                    && let Some(r) = rules::parse(text, &tables.groups, &keys)
                {
                    q.rules_text.push(text.clone());
                    q.rules.push(r);
                }
            }
        }
        check_credit_sum(ctx, &q, units, row.line);
        lines.push((qan.clone(), row.line));
        out.push(q);
    }
    duplicates(ctx, &out, &lines, &level_inferred, change_log);
    out
}

fn qan_of(ctx: &mut Ctx, row: &QualRow) -> String {
    match Qan::parse(&row.qan_raw) {
        Ok(q) => q.to_string(),
        Err(e) => {
            ctx.findings.open(
                FindingKind::InvalidIdentifier,
                row.line,
                ctx.line(row.line),
                format!("The QAN of '{}' is not valid: {e}.", row.title),
                qualification_target(&row.qan_raw, "qan"),
                vec![row.qan_raw.clone()],
            );
            row.qan_raw.clone()
        }
    }
}

fn qual_title(ctx: &mut Ctx, row: &QualRow, qan: &str) -> String {
    let mut title = row.title.clone();
    if let Some(m) = row.continued_on {
        ctx.findings.repaired(
            FindingKind::RejoinedText,
            m,
            ctx.line(m),
            format!(
                "Qualification {qan}: the title continues on the next line of the table; re-joined as '{title}'."
            ),
            qualification_target(qan, "title"),
            vec![title.clone()],
        );
    }
    // "ISP L3 Diploma in Sales (Apprenticeship Diploma)" (L3 line 166): every other
    // certificate title spells out "Level 3".
    if let Some(rest) = title.strip_prefix("ISP L")
        && let Some((d, tail)) = rest.split_once(' ')
        && d.len() == 1
        && d.bytes().all(|b| b.is_ascii_digit())
    {
        let fixed = format!("ISP Level {d} {tail}");
        ctx.findings.repaired(
            FindingKind::Other,
            row.line,
            ctx.line(row.line),
            format!(
                "Qualification {qan}: the title abbreviates the level ('{title}'); written out as '{fixed}' like every other certificate title of the document."
            ),
            qualification_target(qan, "title"),
            vec![fixed.clone(), title.clone()],
        );
        title = fixed;
    }
    title
}

fn award_units(
    ctx: &mut Ctx,
    tables: &Tables,
    q: &mut Qualification,
    row: &QualRow,
    key_for: &dyn Fn(&str) -> Option<String>,
) {
    let mk = match_key(&q.title);
    let heading = tables
        .award_headings
        .iter()
        .find(|(h, _)| match_key(h) == mk)
        .or_else(|| {
            tables
                .award_headings
                .iter()
                .map(|h| (similarity(&match_key(&h.0), &mk), h))
                .filter(|(s, _)| *s >= 0.6)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, h)| h)
        });
    let Some((h, hline)) = heading else {
        ctx.findings.open(
            FindingKind::MissingValue,
            row.line,
            ctx.line(row.line),
            format!(
                "Qualification {}: no Award structure table matches the title '{}'; its units are unknown.",
                q.qan, q.title
            ),
            qualification_target(&q.qan, "units"),
            vec![],
        );
        return;
    };
    if match_key(h) != mk {
        ctx.findings.open(
            FindingKind::Disagreement,
            *hline,
            ctx.line(*hline),
            format!(
                "Qualification {}: the Key Facts table (line {}) titles it '{}' but the Award structure heading reads '{h}'. The draft holds the Key Facts title, which the specification says is the title on the certificate.",
                q.qan, row.line, q.title
            ),
            qualification_target(&q.qan, "title"),
            vec![q.title.clone(), h.clone()],
        );
    }
    q.units = tables
        .units
        .iter()
        .filter(|r| r.kind == TableKind::Award && r.context == *h)
        .filter_map(|r| key_for(&r.ao))
        .map(|unit| QualificationUnit { unit, group: None })
        .collect();
}

/// The credit of an Award or the Apprenticeship Diploma must equal its units' credit.
fn check_credit_sum(ctx: &mut Ctx, q: &Qualification, units: &[Unit], line: usize) {
    if q.credit.max != Some(q.credit.min) || q.units.is_empty() {
        return;
    }
    if q.units.iter().any(|u| u.group.is_some()) {
        return;
    }
    let sum: u32 = q
        .units
        .iter()
        .filter_map(|qu| units.iter().find(|u| u.key == qu.unit))
        .filter_map(|u| u.credit)
        .sum();
    if sum != q.credit.min {
        ctx.findings.open(
            FindingKind::Disagreement,
            line,
            ctx.line(line),
            format!(
                "Qualification {}: its credit value is {} but its units add up to {sum} credits.",
                q.qan, q.credit.min
            ),
            qualification_target(&q.qan, "credit"),
            vec![q.credit.min.to_string(), sum.to_string()],
        );
    }
}

/// Two QANs for one certificate title (L3 lines 147 and 156).
fn duplicates(
    ctx: &mut Ctx,
    quals: &[Qualification],
    lines: &[(String, usize)],
    level_inferred: &[String],
    change_log: &[ChangeEntry],
) {
    let line_of = |qan: &str| lines.iter().find(|l| l.0 == qan).map_or(0, |l| l.1);
    let mut seen: Vec<usize> = Vec::new();
    for (i, a) in quals.iter().enumerate() {
        if seen.contains(&i) {
            continue;
        }
        let group: Vec<usize> = (i..quals.len())
            .filter(|j| match_key(&quals[*j].title) == match_key(&a.title))
            .collect();
        if group.len() < 2 {
            continue;
        }
        seen.extend(&group);
        let suspicious = group
            .iter()
            .copied()
            .find(|j| level_inferred.contains(&quals[*j].qan))
            .unwrap_or(group[group.len() - 1]);
        let sq = &quals[suspicious].qan;
        let others: Vec<String> = group
            .iter()
            .filter(|j| **j != suspicious)
            .map(|j| format!("{} (line {})", quals[*j].qan, line_of(&quals[*j].qan)))
            .collect();
        let name = a
            .title
            .split_once(" in ")
            .map_or(a.title.as_str(), |(_, t)| t);
        let history = change_log
            .iter()
            .find(|c| c.summary.contains(name))
            .map(|c| {
                format!(
                    " The change control row {} says: \"{}\".",
                    c.version, c.summary
                )
            })
            .unwrap_or_default();
        let at = line_of(sq);
        ctx.findings.open(
            FindingKind::Duplicate,
            at,
            ctx.line(at),
            format!(
                "Two QANs for one certificate: {sq} '{}' (line {at}) and {} '{}'. Both are kept in the draft; decide whether {sq} exists (its title is the damaged one).{history}",
                quals[suspicious].title,
                others.join(", "),
                a.title
            ),
            qualification_target(sq, "exists"),
            group.iter().map(|j| quals[*j].qan.clone()).collect(),
        );
    }
}
