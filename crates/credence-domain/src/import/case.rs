//! 1EdTech CASE 1.1 `CFPackage` (JSON) in: from another system (an OpenSALT framework) or
//! Credence's own export ([`crate::export::case_package`]).
//!
//! Items are mapped by their `CFItemType` (or the title of their `CFItemTypeURI`):
//! Qualification, Unit, Learning Outcome, Assessment Criterion, Apprenticeship Standard and
//! Knowledge / Skill / Behaviour / KSB; the tree by `isChildOf` associations (criterion →
//! outcome → unit → qualification), ordered by `sequenceNumber`; a unit's KSB mappings by
//! `isRelatedTo`. A qualification's QAN is its `humanCodingScheme`, its title its
//! `fullStatement`, its level its `educationLevel`; a unit's `humanCodingScheme` is its
//! Ofqual reference (or its own reference). CASE has no field for a credit value, a group,
//! a rule of combination and the rest: Credence's own package carries them in the objects'
//! `extensions` (see [`crate::export::CASE_EXTENSION`]) and reads them back; a package
//! without them gets an open finding for each thing it lacks, never a silent default.

use super::text::{Source, slug};
use super::{
    FindingKind, Findings, ImportError, ImportReport, Imported, Layout, qualification_target,
    unit_target,
};
use crate::export::{
    CASE_EXTENSION, CriterionExtension, DocumentExtension, KsbExtension, MembershipExtension,
    OutcomeExtension, QualificationExtension, UnitExtension,
};
use crate::ident::{Qan, UnitRef};
use crate::model::{
    AssessmentCriterion, AwardingOrganisation, Grading, KsbMapping, LearningOutcome, Qualification,
    QualificationSize, QualificationUnit, Range, Requirement, Simulation, Specification, Unit,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

const LAYOUT: &str = "CASE 1.1 package";

/// The item types Credence maps, as a person reads them in a message.
const KNOWN_TYPES: &str = "Qualification, Unit, Learning Outcome, Assessment Criterion, Apprenticeship Standard, Knowledge, Skill, Behaviour, KSB";

fn malformed(line: usize, reason: impl Into<String>) -> ImportError {
    ImportError::Malformed {
        layout: LAYOUT,
        line,
        reason: reason.into(),
    }
}

/// Does this text claim to be a CASE package: a JSON object with the keys `CFDocument` and
/// `CFItems`? (A Credence catalogue export has neither.) Broken JSON that names both is
/// still taken for a package, so that its error says what is wrong with it.
pub fn is_package(text: &str) -> bool {
    let t = text.trim_start();
    if !t.starts_with('{') || !t.contains("\"CFDocument\"") || !t.contains("\"CFItems\"") {
        return false;
    }
    match serde_json::from_str::<Value>(t) {
        Ok(v) => v.get("CFDocument").is_some() && v.get("CFItems").is_some(),
        Err(_) => true,
    }
}

/// The packages of a JSON array of CASE packages (what `credence catalogue export --format
/// case` writes: one package per specification), each as its own JSON text; `None` when
/// the bytes are not such an array.
pub fn packages_in_array(bytes: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.trim_start().starts_with('[') || !text.contains("\"CFDocument\"") {
        return None;
    }
    let values: Vec<Value> = serde_json::from_str(text).ok()?;
    let all_packages = !values.is_empty()
        && values
            .iter()
            .all(|v| v.get("CFDocument").is_some() && v.get("CFItems").is_some());
    all_packages.then(|| {
        values
            .iter()
            .map(|v| serde_json::to_string_pretty(v).unwrap_or_default())
            .collect()
    })
}

#[derive(Deserialize)]
struct Package {
    #[serde(rename = "CFDocument")]
    document: Document,
    #[serde(rename = "CFItems")]
    items: Vec<Item>,
    #[serde(rename = "CFAssociations", default)]
    associations: Vec<Association>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    identifier: String,
    #[serde(default)]
    title: String,
    creator: Option<String>,
    publisher: Option<String>,
    #[serde(default)]
    subject: Vec<String>,
    version: Option<String>,
    extensions: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    identifier: String,
    #[serde(default)]
    full_statement: String,
    human_coding_scheme: Option<String>,
    #[serde(rename = "CFItemType")]
    item_type: Option<String>,
    #[serde(rename = "CFItemTypeURI")]
    item_type_uri: Option<Link>,
    #[serde(default)]
    education_level: Vec<String>,
    extensions: Option<Value>,
}

#[derive(Deserialize)]
struct Link {
    identifier: String,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Association {
    identifier: String,
    association_type: String,
    sequence_number: Option<i64>,
    #[serde(rename = "originNodeURI")]
    origin: Link,
    #[serde(rename = "destinationNodeURI")]
    destination: Link,
    extensions: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Qualification,
    Unit,
    Outcome,
    Criterion,
    Standard,
    Ksb,
}

impl Item {
    fn type_name(&self) -> Option<&str> {
        self.item_type
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| {
                self.item_type_uri
                    .as_ref()
                    .map(|l| l.title.as_str())
                    .filter(|t| !t.trim().is_empty())
            })
    }

    fn kind(&self) -> Option<Kind> {
        let t: String = self
            .type_name()?
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Some(match t.as_str() {
            "qualification" => Kind::Qualification,
            "unit" => Kind::Unit,
            "learningoutcome" | "outcome" => Kind::Outcome,
            "assessmentcriterion" | "assessmentcriteria" | "criterion" => Kind::Criterion,
            "apprenticeshipstandard" => Kind::Standard,
            "knowledge" | "skill" | "behaviour" | "behavior" | "ksb" => Kind::Ksb,
            _ => return None,
        })
    }

    fn code(&self) -> Option<&str> {
        self.human_coding_scheme
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }

    fn statement(&self) -> String {
        self.full_statement.trim().to_string()
    }

    /// How a message names the item: its code, statement and identifier.
    fn name(&self) -> String {
        let statement: String = self.full_statement.trim().chars().take(100).collect();
        format!(
            "{} \"{statement}\" (identifier {})",
            self.code().unwrap_or("(no humanCodingScheme)"),
            self.identifier
        )
    }

    /// What a finding shows as seen: the code and statement.
    fn seen(&self) -> String {
        format!("{} {}", self.code().unwrap_or(""), self.full_statement)
    }

    /// Its level: the first `educationLevel` that is a level 1 to 8.
    fn level(&self) -> Option<u8> {
        self.education_level
            .iter()
            .find_map(|l| l.trim().parse::<u8>().ok().filter(|l| (1..=8).contains(l)))
    }
}

/// Credence's extension of an object, if it has one that reads as `T`.
fn extension<T: DeserializeOwned>(extensions: &Option<Value>) -> Option<T> {
    extensions
        .as_ref()?
        .get(CASE_EXTENSION)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// "L3B1 AC1.1" → "1.1", "LO2" → "2": the last word's number.
fn number_in_code(code: &str) -> Option<String> {
    let last = code.split_whitespace().last()?;
    let n = last.trim_start_matches(|c: char| !c.is_ascii_digit());
    (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .then(|| n.trim_end_matches('.').to_string())
}

/// "Institute of Sales Professionals" → "ISP": the capitals of its words.
fn initials(name: &str) -> String {
    name.split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(char::is_ascii_uppercase)
        .collect()
}

/// A child in the tree, in its parent's order.
struct Child<'a> {
    item: &'a Item,
    association: &'a Association,
}

/// The package's associations, indexed.
struct Tree<'a> {
    /// `isChildOf` children of each parent, ordered by `sequenceNumber` then package order.
    children: HashMap<&'a str, Vec<Child<'a>>>,
    /// `isRelatedTo` associations from each origin.
    related: HashMap<&'a str, Vec<Child<'a>>>,
    /// `isChildOf` parents of each item.
    parents: HashMap<&'a str, Vec<&'a Item>>,
}

impl<'a> Tree<'a> {
    fn children(&self, parent: &str, kind: Kind) -> impl Iterator<Item = &Child<'a>> {
        self.children
            .get(parent)
            .into_iter()
            .flatten()
            .filter(move |c| c.item.kind() == Some(kind))
    }
}

/// Read a CASE 1.1 package. A package without Credence's document extension (another
/// system's) is filed under `filed_under` when given (the importing staff member's AO),
/// else under the capitals of its publisher's name.
pub fn parse(
    text: &str,
    filed_under: Option<&AwardingOrganisation>,
) -> Result<Imported, ImportError> {
    let package: Package = serde_json::from_str(text).map_err(|e| {
        malformed(
            e.line().max(1),
            format!("this is not a CASE 1.1 CFPackage Credence can read: {e}"),
        )
    })?;
    let source = Source::new(text);
    // The line where an identifier first appears: what a finding points at.
    let line_of = |id: &str| {
        source
            .numbered()
            .find(|(_, l)| l.contains(id))
            .map_or(1, |(n, _)| n)
    };
    let doc = &package.document;
    if doc.identifier.trim().is_empty() {
        return Err(malformed(
            line_of("CFDocument"),
            "the CFDocument has no identifier",
        ));
    }
    if doc.title.trim().is_empty() {
        return Err(malformed(
            line_of(&doc.identifier),
            "the CFDocument has no title",
        ));
    }
    let mut items: HashMap<&str, &Item> = HashMap::new();
    for item in &package.items {
        if item.identifier.trim().is_empty() {
            return Err(malformed(
                line_of(&item.full_statement),
                format!("an item has no identifier: {}", item.name()),
            ));
        }
        if items.insert(item.identifier.as_str(), item).is_some() {
            return Err(malformed(
                line_of(&item.identifier),
                format!("the item {} appears twice", item.identifier),
            ));
        }
    }

    let mut f = Findings::default();
    let doc_id = doc.identifier.as_str();
    let doc_ext: Option<DocumentExtension> = extension(&doc.extensions);

    // ---- Associations: the tree and the KSB mappings ------------------------------------
    let mut ordered: Vec<(usize, &Association)> = package.associations.iter().enumerate().collect();
    ordered.sort_by_key(|(i, a)| (a.sequence_number.unwrap_or(i64::MAX), *i));
    let mut pkg = Tree {
        children: HashMap::new(),
        related: HashMap::new(),
        parents: HashMap::new(),
    };
    for (_, a) in ordered {
        let origin = items.get(a.origin.identifier.as_str()).copied();
        let in_package = |id: &str| id == doc_id || items.contains_key(id);
        let mut dangling = false;
        for (end, link) in [("origin", &a.origin), ("destination", &a.destination)] {
            if !in_package(&link.identifier) {
                dangling = true;
                f.open(
                    FindingKind::Other,
                    line_of(&a.identifier),
                    &format!("{} {}", a.association_type, link.title),
                    format!(
                        "The {} association {} has as its {end} \"{}\" (identifier {}), which is not in this package: the association is not imported",
                        a.association_type, a.identifier, link.title, link.identifier
                    ),
                    None,
                    vec![link.identifier.clone()],
                );
            }
        }
        let Some(origin) = origin.filter(|_| !dangling) else {
            continue;
        };
        match a.association_type.as_str() {
            "isChildOf" => {
                pkg.children
                    .entry(a.destination.identifier.as_str())
                    .or_default()
                    .push(Child {
                        item: origin,
                        association: a,
                    });
                if let Some(parent) = items.get(a.destination.identifier.as_str()) {
                    pkg.parents
                        .entry(origin.identifier.as_str())
                        .or_default()
                        .push(parent);
                }
            }
            "isRelatedTo"
                if origin.kind() == Some(Kind::Unit)
                    && items
                        .get(a.destination.identifier.as_str())
                        .is_some_and(|d| d.kind() == Some(Kind::Ksb)) =>
            {
                if let Some(dest) = items.get(a.destination.identifier.as_str()) {
                    pkg.related
                        .entry(origin.identifier.as_str())
                        .or_default()
                        .push(Child {
                            item: dest,
                            association: a,
                        });
                }
            }
            other => f.open(
                FindingKind::Other,
                line_of(&a.identifier),
                &format!("{other} {}", a.destination.title),
                format!(
                    "The {other} association {} from {} to \"{}\" (identifier {}) has no place in the catalogue (Credence maps isChildOf between qualifications, units, outcomes and criteria, and isRelatedTo from a unit to a KSB): not imported",
                    a.identifier,
                    origin.name(),
                    a.destination.title,
                    a.destination.identifier
                ),
                None,
                vec![],
            ),
        }
    }

    // ---- Awarding organisation and the document -----------------------------------------
    let publisher = doc
        .publisher
        .as_deref()
        .or(doc.creator.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let awarding_organisation = match (&doc_ext, filed_under) {
        (Some(e), _) => e.awarding_organisation.clone(),
        (None, Some(ao)) => {
            f.repaired(
                FindingKind::Other,
                line_of(doc_id),
                publisher.unwrap_or(""),
                format!(
                    "The package's publisher is '{}'; it is filed under {} ({}), the awarding organisation of the person who imported it",
                    publisher.unwrap_or("not named"),
                    ao.code,
                    ao.name
                ),
                None,
                vec![ao.code.clone()],
            );
            ao.clone()
        }
        (None, None) => {
            let name = publisher.unwrap_or("Unknown publisher").to_string();
            let code = match initials(&name) {
                c if c.len() >= 2 => c,
                _ => slug(&name).to_uppercase(),
            };
            f.open(
                FindingKind::Other,
                line_of(doc_id),
                &name,
                format!(
                    "The package's publisher is '{name}'; Credence files the specification under the awarding organisation {code} (the capitals of that name). Check it is the awarding organisation that owns these qualifications"
                ),
                None,
                vec![code.clone()],
            );
            AwardingOrganisation { code, name }
        }
    };
    let ao = awarding_organisation.code.clone();

    // ---- Item types Credence does not map -----------------------------------------------
    for item in &package.items {
        if item.kind().is_none() {
            let t = item.type_name().unwrap_or("(none)");
            f.open(
                FindingKind::Other,
                line_of(&item.identifier),
                &item.seen(),
                format!(
                    "Item {} is of type '{t}', which Credence does not map (it maps {KNOWN_TYPES}): not imported",
                    item.name()
                ),
                None,
                vec![t.to_string()],
            );
        }
    }

    let mut placed: HashSet<&str> = HashSet::new();

    // ---- Units --------------------------------------------------------------------------
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_key: HashMap<&str, String> = HashMap::new();
    for item in package
        .items
        .iter()
        .filter(|i| i.kind() == Some(Kind::Unit))
    {
        let line = line_of(&item.identifier);
        placed.insert(item.identifier.as_str());
        let ext: Option<UnitExtension> = extension(&item.extensions);
        let outcomes: Vec<&Child> = pkg.children(&item.identifier, Kind::Outcome).collect();
        let unit = match ext {
            Some(e) => Unit {
                key: e.key,
                ofqual_ref: e.ofqual_ref,
                ao_ref: e.ao_ref,
                other_refs: e.other_refs,
                title: item.statement(),
                level: item.level().unwrap_or(0),
                credit: e.credit,
                glh: e.glh,
                tqt: e.tqt,
                purpose: e.purpose,
                sector: e.sector,
                learning_outcomes: Vec::new(),
                assessment_method: e.assessment_method,
                simulation: e.simulation,
                evidence_occasions: e.evidence_occasions,
                centre_authentication: e.centre_authentication,
                assessment_guidance: e.assessment_guidance,
                ksb: Vec::new(),
                nos: e.nos,
                apprenticeship_text: e.apprenticeship_text,
                assessment_components: e.assessment_components,
            },
            None => {
                let code = item.code().unwrap_or(&item.identifier).to_string();
                let ofqual_ref = UnitRef::parse(&code).ok().map(|r| r.as_str().to_string());
                // Credence's outcomes are coded "{unit's own reference} LO{n}".
                let ao_ref = outcomes
                    .iter()
                    .find_map(|c| {
                        c.item
                            .code()
                            .and_then(|c| c.rsplit_once(' '))
                            .filter(|(_, lo)| lo.starts_with("LO"))
                            .map(|(head, _)| head.to_string())
                    })
                    .unwrap_or_else(|| code.clone());
                let key = ofqual_ref.clone().unwrap_or_else(|| format!("{ao}:{code}"));
                f.open(
                    FindingKind::MissingValue,
                    line,
                    &item.seen(),
                    format!(
                        "Unit {} has no credit value (CASE has no field for one): set it. Its GLH, TQT, purpose and assessment method are not given either, and simulation is recorded as not permitted",
                        item.name()
                    ),
                    unit_target(&key, "credit"),
                    vec![],
                );
                Unit {
                    key,
                    ofqual_ref,
                    ao_ref,
                    other_refs: Vec::new(),
                    title: item.statement(),
                    level: item.level().unwrap_or(0),
                    credit: None,
                    glh: None,
                    tqt: None,
                    purpose: None,
                    sector: None,
                    learning_outcomes: Vec::new(),
                    assessment_method: None,
                    simulation: Simulation::NotPermitted,
                    evidence_occasions: None,
                    centre_authentication: false,
                    assessment_guidance: None,
                    ksb: Vec::new(),
                    nos: Vec::new(),
                    apprenticeship_text: None,
                    assessment_components: Vec::new(),
                }
            }
        };
        let mut unit = unit;
        if item.level().is_none() {
            f.open(
                FindingKind::MissingValue,
                line,
                &item.seen(),
                format!(
                    "Unit {} has no level (no educationLevel from 1 to 8): set it",
                    item.name()
                ),
                unit_target(&unit.key, "level"),
                vec![],
            );
        }
        if units.iter().any(|u| u.key == unit.key) {
            f.open(
                FindingKind::Duplicate,
                line,
                &item.seen(),
                format!(
                    "Unit {} has the same reference as another unit of the package ({}): not imported",
                    item.name(),
                    unit.key
                ),
                unit_target(&unit.key, "exists"),
                vec![],
            );
            continue;
        }
        for (i, lo) in outcomes.iter().enumerate() {
            placed.insert(lo.item.identifier.as_str());
            let ext: Option<OutcomeExtension> = extension(&lo.item.extensions);
            let number = ext
                .as_ref()
                .map(|e| e.number.clone())
                .or_else(|| lo.item.code().and_then(number_in_code))
                .unwrap_or_else(|| (i + 1).to_string());
            let criteria = pkg
                .children(&lo.item.identifier, Kind::Criterion)
                .enumerate()
                .map(|(j, ac)| {
                    placed.insert(ac.item.identifier.as_str());
                    let ext: Option<CriterionExtension> = extension(&ac.item.extensions);
                    AssessmentCriterion {
                        number: ext
                            .map(|e| e.number)
                            .or_else(|| ac.item.code().and_then(number_in_code))
                            .unwrap_or_else(|| format!("{number}.{}", j + 1)),
                        text: ac.item.statement(),
                    }
                })
                .collect();
            let (indicative_content, assessor_guidance) = ext
                .map(|e| (e.indicative_content, e.assessor_guidance))
                .unwrap_or_default();
            unit.learning_outcomes.push(LearningOutcome {
                number,
                text: lo.item.statement(),
                criteria,
                indicative_content,
                assessor_guidance,
            });
        }
        for k in pkg
            .related
            .get(item.identifier.as_str())
            .into_iter()
            .flatten()
        {
            placed.insert(k.item.identifier.as_str());
            let standard = pkg
                .parents
                .get(k.item.identifier.as_str())
                .into_iter()
                .flatten()
                .find(|p| p.kind() == Some(Kind::Standard));
            if let Some(s) = standard {
                placed.insert(s.identifier.as_str());
            }
            let mapping = match extension::<KsbExtension>(&k.association.extensions) {
                Some(e) => KsbMapping {
                    standard: e.standard,
                    code: e.code,
                    text: e.text,
                },
                None => KsbMapping {
                    standard: standard
                        .map(|s| s.statement())
                        .unwrap_or_else(|| "(no standard named)".into()),
                    code: k
                        .item
                        .code()
                        .map_or_else(|| k.item.identifier.clone(), str::to_string),
                    text: k.item.statement(),
                },
            };
            unit.ksb.push(mapping);
        }
        unit_key.insert(item.identifier.as_str(), unit.key.clone());
        units.push(unit);
    }

    // ---- Qualifications -----------------------------------------------------------------
    let mut qualifications: Vec<Qualification> = Vec::new();
    for item in package
        .items
        .iter()
        .filter(|i| i.kind() == Some(Kind::Qualification))
    {
        let line = line_of(&item.identifier);
        placed.insert(item.identifier.as_str());
        let title = item.statement();
        let qan = match item.code().map(Qan::parse) {
            Some(Ok(q)) => q.as_str().to_string(),
            Some(Err(e)) => {
                let kept = item.code().unwrap_or_default().to_string();
                f.open(
                    FindingKind::InvalidIdentifier,
                    line,
                    &item.seen(),
                    format!(
                        "Qualification {} has no QAN: {e}. The draft keeps '{kept}' until a person sets the QAN",
                        item.name()
                    ),
                    qualification_target(&kept, "qan"),
                    vec![kept.clone()],
                );
                kept
            }
            None => {
                let kept = item.identifier.clone();
                f.open(
                    FindingKind::MissingValue,
                    line,
                    &item.seen(),
                    format!(
                        "Qualification {} has no QAN (no humanCodingScheme). The draft keeps its identifier until a person sets the QAN",
                        item.name()
                    ),
                    qualification_target(&kept, "qan"),
                    vec![],
                );
                kept
            }
        };
        if qualifications.iter().any(|q| q.qan == qan) {
            f.open(
                FindingKind::Duplicate,
                line,
                &item.seen(),
                format!(
                    "Qualification {} has the same QAN as another qualification of the package: not imported",
                    item.name()
                ),
                qualification_target(&qan, "exists"),
                vec![],
            );
            continue;
        }
        let level = item.level().unwrap_or_else(|| {
            f.open(
                FindingKind::MissingValue,
                line,
                &item.seen(),
                format!(
                    "Qualification {} has no level (no educationLevel from 1 to 8): set it",
                    item.name()
                ),
                qualification_target(&qan, "level"),
                vec![],
            );
            0
        });
        let mut members = Vec::new();
        for c in pkg.children(&item.identifier, Kind::Unit) {
            if let Some(key) = unit_key.get(c.item.identifier.as_str()) {
                let group = extension::<MembershipExtension>(&c.association.extensions)
                    .and_then(|m| m.group);
                if !members.iter().any(|m: &QualificationUnit| &m.unit == key) {
                    members.push(QualificationUnit {
                        unit: key.clone(),
                        group,
                    });
                }
            }
        }
        let q = match extension::<QualificationExtension>(&item.extensions) {
            Some(e) => Qualification {
                qan,
                title,
                level,
                size: e.size,
                credit: e.credit,
                glh: e.glh,
                tqt: e.tqt,
                grading: e.grading,
                assessment: e.assessment,
                minimum_age: e.minimum_age,
                entry_requirements: e.entry_requirements,
                units: members,
                rules: e.rules,
                rules_text: e.rules_text,
            },
            None => {
                let size = if title.contains("Diploma") {
                    QualificationSize::Diploma
                } else if title.contains("Certificate") {
                    QualificationSize::Certificate
                } else {
                    QualificationSize::Award
                };
                let all: Vec<String> = members.iter().map(|m| m.unit.clone()).collect();
                let credits: Option<u32> = all
                    .iter()
                    .map(|k| units.iter().find(|u| &u.key == k).and_then(|u| u.credit))
                    .sum();
                f.open(
                    FindingKind::MissingValue,
                    line,
                    &item.seen(),
                    format!(
                        "Qualification {} has no credit value (CASE has no field for one): set it",
                        item.name()
                    ),
                    qualification_target(&qan, "credit"),
                    credits.map(|c| c.to_string()).into_iter().collect(),
                );
                f.open(
                    FindingKind::MissingValue,
                    line,
                    &item.seen(),
                    format!(
                        "Qualification {} has no rules of combination, grading or size (CASE has no field for them): the draft requires every one of its {} unit(s), grades it pass only and takes its size ({size:?}) from its title. Check them against the specification",
                        item.name(),
                        all.len()
                    ),
                    qualification_target(&qan, "rules"),
                    vec![],
                );
                if all.is_empty() {
                    f.open(
                        FindingKind::MissingValue,
                        line,
                        &item.seen(),
                        format!(
                            "Qualification {} has no units (no Unit item is its child)",
                            item.name()
                        ),
                        qualification_target(&qan, "exists"),
                        vec![],
                    );
                }
                Qualification {
                    qan,
                    title,
                    level,
                    size,
                    credit: credits.map_or(Range::at_least(0), Range::exactly),
                    glh: None,
                    tqt: None,
                    grading: Grading::PassOnly,
                    assessment: None,
                    minimum_age: None,
                    entry_requirements: None,
                    units: members,
                    rules: vec![Requirement::Mandatory { units: all.clone() }],
                    rules_text: Vec::new(),
                }
            }
        };
        qualifications.push(q);
    }

    // ---- Items of a known type with no place in the tree --------------------------------
    for item in &package.items {
        let Some(kind) = item.kind() else { continue };
        if placed.contains(item.identifier.as_str()) {
            continue;
        }
        let (what, needs) = match kind {
            Kind::Outcome => ("learning outcome", "the child (isChildOf) of a Unit"),
            Kind::Criterion => (
                "assessment criterion",
                "the child (isChildOf) of a Learning Outcome of a Unit",
            ),
            Kind::Ksb => (
                "KSB",
                "related (isRelatedTo) to a Unit, as the child of an Apprenticeship Standard",
            ),
            Kind::Standard => (
                "apprenticeship standard",
                "the parent of a KSB a Unit maps to",
            ),
            Kind::Unit | Kind::Qualification => continue,
        };
        f.open(
            FindingKind::Other,
            line_of(&item.identifier),
            &item.seen(),
            format!("The {what} {} is not {needs}: not imported", item.name()),
            None,
            vec![],
        );
    }

    let specification = Specification {
        key: doc_ext
            .as_ref()
            .map_or_else(|| format!("case-{}", slug(doc_id)), |e| e.key.clone()),
        title: doc.title.trim().to_string(),
        awarding_organisation,
        document_version: match &doc_ext {
            Some(e) => e.document_version.clone(),
            None => doc.version.clone().filter(|v| !v.trim().is_empty()),
        },
        published_on: doc_ext.as_ref().and_then(|e| e.published_on.clone()),
        change_log: doc_ext.map(|e| e.change_log).unwrap_or_default(),
        sector: doc.subject.first().cloned(),
        qualifications,
        units,
    };
    let mut findings = f.into_vec();
    findings.sort_by_key(|x| x.line);
    Ok(Imported {
        specification,
        report: ImportReport {
            layout: Layout::CasePackage,
            source_lines: source.len(),
            findings,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_initials() {
        assert_eq!(number_in_code("L3B1 AC1.1").as_deref(), Some("1.1"));
        assert_eq!(number_in_code("Unit 1 LO1.2").as_deref(), Some("1.2"));
        assert_eq!(number_in_code("LO3").as_deref(), Some("3"));
        assert_eq!(number_in_code("COMP-A"), None);
        assert_eq!(initials("Institute of Sales Professionals"), "ISP");
        assert!(is_package(r#"{"CFDocument": {}, "CFItems": []}"#));
        assert!(is_package(r#"{"CFDocument": {}, "CFItems": [ "#));
        assert!(!is_package(
            r#"{"format": "credence-catalogue", "versions": []}"#
        ));
        assert!(!is_package("CFDocument CFItems"));
    }
}
