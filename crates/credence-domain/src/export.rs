//! Exports of the catalogue: Credence's own JSON (which import reads back to the identical
//! catalogue) and the 1EdTech CASE 1.1 package (CFDocument, CFItems, CFAssociations, CFDefinitions) so that
//! other learning systems can take the criteria.

use crate::import::ImportReport;
use crate::model::{
    AssessmentComponent, AwardingOrganisation, ChangeEntry, ContentItem, Grading,
    QualificationSize, Range, Requirement, Simulation, Specification, UnitKey,
};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Value of the `format` field of a Credence catalogue export.
pub const FORMAT: &str = "credence-catalogue";
/// Version of the export format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The whole catalogue: every version of every specification, drafts included.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueExport {
    pub format: String,
    pub format_version: u32,
    pub versions: Vec<ExportedVersion>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Draft,
    Published,
}

impl VersionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
        }
    }
}

/// One catalogue version: the content of one imported specification and its report.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedVersion {
    /// The specification's stable key (`isp-l3-professional-sales`).
    pub key: String,
    /// 1, 2, ... per key, in import order.
    pub version: u32,
    pub status: VersionStatus,
    /// Name of the file it was imported from.
    pub source_name: String,
    /// SHA-256 of the source text, hex.
    pub source_sha256: String,
    /// RFC 3339 time of import and of publication.
    pub imported_at: String,
    pub published_at: Option<String>,
    pub specification: Specification,
    pub report: ImportReport,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("not a Credence catalogue export: {0}")]
    Format(String),
    #[error(
        "this export is format version {found}; this Credence reads version {FORMAT_VERSION}: export it again from a matching Credence"
    )]
    Version { found: u32 },
    #[error("version {version} of {key}: {reason}")]
    Inconsistent {
        key: String,
        version: u32,
        reason: String,
    },
}

/// Does this text look like a Credence export (rather than a specification)?
pub fn is_export(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(200)];
    let s = String::from_utf8_lossy(head);
    s.trim_start().starts_with('{') && s.contains(FORMAT)
}

pub fn to_json(export: &CatalogueExport) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(export).unwrap_or_default()
}

/// Read an export back, checking that it is whole and consistent.
pub fn parse(bytes: &[u8]) -> Result<CatalogueExport, ExportError> {
    let export: CatalogueExport =
        serde_json::from_slice(bytes).map_err(|e| ExportError::Format(e.to_string()))?;
    if export.format != FORMAT {
        return Err(ExportError::Format(format!(
            "the format field is '{}', expected '{FORMAT}'",
            export.format
        )));
    }
    if export.format_version != FORMAT_VERSION {
        return Err(ExportError::Version {
            found: export.format_version,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for v in &export.versions {
        let bad = |reason: String| ExportError::Inconsistent {
            key: v.key.clone(),
            version: v.version,
            reason,
        };
        if !seen.insert((v.key.clone(), v.version)) {
            return Err(bad("appears twice".into()));
        }
        if v.key != v.specification.key {
            return Err(bad(format!(
                "the specification inside is {}",
                v.specification.key
            )));
        }
        check_specification(&v.specification).map_err(bad)?;
        if v.status == VersionStatus::Published && v.report.open_count() > 0 {
            return Err(bad("is published but has open findings".into()));
        }
    }
    Ok(export)
}

/// Structural checks every stored specification passes.
pub fn check_specification(spec: &Specification) -> Result<(), String> {
    let mut keys = std::collections::HashSet::new();
    for u in &spec.units {
        if !keys.insert(u.key.as_str()) {
            return Err(format!("unit {} appears twice", u.key));
        }
    }
    let mut qans = std::collections::HashSet::new();
    for q in &spec.qualifications {
        if !qans.insert(q.qan.as_str()) {
            return Err(format!("qualification {} appears twice", q.qan));
        }
        for qu in &q.units {
            if !keys.contains(qu.unit.as_str()) {
                return Err(format!(
                    "qualification {} lists unit {} which is not in the specification",
                    q.qan, qu.unit
                ));
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// 1EdTech CASE 1.1

/// The CASE version Credence's packages follow (`CFDocument.caseVersion`).
pub const CASE_VERSION: &str = "1.1";
/// Where the CASE REST service is served, under the public base URL.
pub const CASE_PATH: &str = "/ims/case/v1p1";

/// Namespace for Credence's name-based (v5) CASE identifiers: the same catalogue version
/// always gets the same identifiers, so a consumer can re-import without duplicates.
const CASE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_0c2a_9a4e_4d59_9b8e_2f0c_5e7a_1c33);

fn case_id(parts: &[&str]) -> String {
    Uuid::new_v5(&CASE_NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

/// A CASE `LinkURI` (and `LinkGenURI`, which has the same required fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkUri {
    pub title: String,
    pub identifier: String,
    pub uri: String,
}

/// A CASE 1.1 `CFPackage`: the document with all its items, associations and the
/// definitions they use.
#[derive(Debug, Clone, Serialize)]
pub struct CfPackage {
    #[serde(rename = "CFDocument")]
    pub document: CfDocument,
    #[serde(rename = "CFItems")]
    pub items: Vec<CfItem>,
    #[serde(rename = "CFAssociations")]
    pub associations: Vec<CfAssociation>,
    #[serde(rename = "CFDefinitions")]
    pub definitions: CfDefinitions,
}

/// `CFPckgDocument`. The REST service's `CFDocument` adds `CFPackageURI` (see
/// [`CfPackage::package_link`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CfDocument {
    pub identifier: String,
    pub uri: String,
    pub case_version: String,
    pub creator: String,
    pub title: String,
    pub last_change_date_time: String,
    pub publisher: String,
    pub description: String,
    pub subject: Vec<String>,
    pub language: String,
    pub version: String,
    pub adoption_status: String,
    /// Credence's own fields, under [`CASE_EXTENSION`]: a [`DocumentExtension`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
}

/// `CFPckgItem`. The REST service's `CFItem` adds `CFDocumentURI`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CfItem {
    pub identifier: String,
    pub uri: String,
    pub full_statement: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub abbreviated_statement: Option<String>,
    pub human_coding_scheme: String,
    #[serde(rename = "CFItemType")]
    pub item_type: String,
    #[serde(rename = "CFItemTypeURI")]
    pub item_type_uri: LinkUri,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub education_level: Vec<String>,
    pub language: String,
    pub last_change_date_time: String,
    /// Credence's own fields, under [`CASE_EXTENSION`]: a [`QualificationExtension`],
    /// [`UnitExtension`], [`OutcomeExtension`] or [`CriterionExtension`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
}

/// `CFPckgAssociation`. The REST service's `CFAssociation` adds `CFDocumentURI`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CfAssociation {
    pub identifier: String,
    pub uri: String,
    /// `isChildOf` (the tree) or `isRelatedTo` (a unit's apprenticeship KSB mapping).
    pub association_type: String,
    /// Position among the parent's children, for `isChildOf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence_number: Option<u32>,
    #[serde(rename = "originNodeURI")]
    pub origin_node_uri: LinkUri,
    #[serde(rename = "destinationNodeURI")]
    pub destination_node_uri: LinkUri,
    pub last_change_date_time: String,
    /// Credence's own fields, under [`CASE_EXTENSION`]: a unit's group in a qualification
    /// ([`MembershipExtension`]) or a unit's own KSB mapping ([`KsbExtension`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extensions: Option<serde_json::Value>,
}

/// The key under which Credence writes its own fields in a CASE object's `extensions`
/// (`"extensions": {"credence": {...}}`). CASE 1.1 has no field for a credit value, a
/// group, a rule of combination and the rest; the extension carries them so that Credence
/// reads its own package back to the same specification. Other systems may ignore it; see
/// docs/catalogue-format.md for what is lost without it.
pub const CASE_EXTENSION: &str = "credence";

fn extension<T: Serialize>(value: &T) -> Option<serde_json::Value> {
    // Plain data with string keys always serialises.
    let v = serde_json::to_value(value).ok()?;
    Some(serde_json::json!({ CASE_EXTENSION: v }))
}

/// The document's extension: what identifies the specification in Credence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentExtension {
    pub key: String,
    pub awarding_organisation: AwardingOrganisation,
    pub document_version: Option<String>,
    pub published_on: Option<String>,
    #[serde(default)]
    pub change_log: Vec<ChangeEntry>,
}

/// A qualification item's extension (its QAN, title and level are the item's
/// `humanCodingScheme`, `fullStatement` and `educationLevel`; its units its `isChildOf`
/// children).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualificationExtension {
    pub size: QualificationSize,
    pub credit: Range,
    pub glh: Option<Range>,
    pub tqt: Option<Range>,
    pub grading: Grading,
    pub assessment: Option<String>,
    pub minimum_age: Option<u8>,
    pub entry_requirements: Option<String>,
    #[serde(default)]
    pub rules: Vec<Requirement>,
    #[serde(default)]
    pub rules_text: Vec<String>,
}

/// A unit item's extension (its title and level are the item's `fullStatement` and
/// `educationLevel`; its learning outcomes its `isChildOf` children).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitExtension {
    pub key: UnitKey,
    pub ofqual_ref: Option<String>,
    pub ao_ref: String,
    #[serde(default)]
    pub other_refs: Vec<String>,
    pub credit: Option<u32>,
    pub glh: Option<u32>,
    pub tqt: Option<u32>,
    pub purpose: Option<String>,
    pub sector: Option<String>,
    pub assessment_method: Option<String>,
    pub simulation: Simulation,
    pub evidence_occasions: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub centre_authentication: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment_guidance: Option<String>,
    #[serde(default)]
    pub nos: Vec<String>,
    pub apprenticeship_text: Option<String>,
    #[serde(default)]
    pub assessment_components: Vec<AssessmentComponent>,
}

/// A learning outcome item's extension (its text is the item's `fullStatement`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeExtension {
    pub number: String,
    #[serde(default)]
    pub indicative_content: Vec<ContentItem>,
    pub assessor_guidance: Option<String>,
}

/// An assessment criterion item's extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionExtension {
    pub number: String,
}

/// The extension of a unit's `isChildOf` association to a qualification: its group there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembershipExtension {
    pub group: Option<String>,
}

/// The extension of a unit's `isRelatedTo` association to a KSB: the unit's own mapping
/// (one KSB item serves every unit that maps to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KsbExtension {
    pub standard: String,
    pub code: String,
    pub text: String,
}

/// `CFDefinition`: the item types the package's items name.
#[derive(Debug, Clone, Serialize)]
pub struct CfDefinitions {
    #[serde(rename = "CFItemTypes")]
    pub item_types: Vec<CfItemType>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CfItemType {
    pub identifier: String,
    pub uri: String,
    pub title: String,
    pub description: String,
    pub hierarchy_code: String,
    pub type_code: String,
    pub last_change_date_time: String,
}

impl CfPackage {
    /// The document as a `LinkURI` (the REST service's `CFDocumentURI`).
    pub fn document_link(&self) -> LinkUri {
        LinkUri {
            title: self.document.title.clone(),
            identifier: self.document.identifier.clone(),
            uri: self.document.uri.clone(),
        }
    }
    /// The package as a `LinkURI` (the REST service's `CFPackageURI`): the package has the
    /// document's identifier.
    pub fn package_link(&self) -> LinkUri {
        let uri = match self.document.uri.rsplit_once("/CFDocuments/") {
            Some((base, id)) => format!("{base}/CFPackages/{id}"),
            None => self.document.uri.clone(),
        };
        LinkUri {
            title: self.document.title.clone(),
            identifier: self.document.identifier.clone(),
            uri,
        }
    }
}

/// The item types Credence uses: title, hierarchy code, description.
const ITEM_TYPES: &[(&str, &str, &str)] = &[
    ("Qualification", "1", "A regulated qualification (QAN)"),
    (
        "Unit",
        "2",
        "A unit of assessment, shared by the qualifications that list it",
    ),
    (
        "Learning Outcome",
        "3",
        "What the learner will (be able to) do",
    ),
    (
        "Assessment Criterion",
        "4",
        "What the learner must show to meet a learning outcome",
    ),
    (
        "Apprenticeship Standard",
        "5",
        "An apprenticeship standard units map to",
    ),
    (
        "Knowledge",
        "5.1",
        "A knowledge statement (K) of an apprenticeship standard",
    ),
    (
        "Skill",
        "5.2",
        "A skill statement (S) of an apprenticeship standard",
    ),
    (
        "Behaviour",
        "5.3",
        "A behaviour statement (B) of an apprenticeship standard",
    ),
    (
        "KSB",
        "5.4",
        "A knowledge, skill or behaviour statement of an apprenticeship standard",
    ),
];

/// CASE wants an ISO 8601 date-time; the store may hold `YYYY-MM-DD HH:MM:SS` (UTC).
fn date_time(t: &str) -> String {
    let t = t.trim().replacen(' ', "T", 1);
    let has_zone = t.ends_with('Z')
        || t.get(19..)
            .is_some_and(|rest| rest.contains('+') || rest.contains('-'));
    if t.len() == 10 {
        format!("{t}T00:00:00Z")
    } else if has_zone {
        t
    } else {
        format!("{t}Z")
    }
}

/// The CASE 1.1 package of one catalogue version. `public_url` is Credence's public base URL
/// (`https://credence.example`, no trailing slash): every `uri` is
/// `{public_url}/ims/case/v1p1/{CFDocuments|CFItems|CFAssociations|CFItemTypes}/{identifier}`.
/// `version` is the catalogue version number; `changed_at` the time it was published.
///
/// Items: each qualification, unit (once, however many qualifications share it), learning
/// outcome and assessment criterion, and each apprenticeship standard and KSB a unit maps to.
/// Associations: `isChildOf` for the whole tree (criterion → outcome → unit → each
/// qualification listing it → document; KSB → standard → document) and `isRelatedTo` from a
/// unit to each KSB it maps to.
pub fn case_package(
    spec: &Specification,
    version: u32,
    public_url: &str,
    changed_at: &str,
) -> CfPackage {
    let changed_at = date_time(changed_at);
    let base_uri = format!("{}{CASE_PATH}", public_url.trim_end_matches('/'));
    let v = version.to_string();
    let doc_id = case_id(&[&spec.key, &v]);
    let uri = |kind: &str, id: &str| format!("{base_uri}/{kind}/{id}");
    let doc_link = LinkUri {
        title: spec.title.clone(),
        identifier: doc_id.clone(),
        uri: uri("CFDocuments", &doc_id),
    };
    let document = CfDocument {
        identifier: doc_id.clone(),
        uri: doc_link.uri.clone(),
        case_version: CASE_VERSION.into(),
        creator: spec.awarding_organisation.name.clone(),
        title: spec.title.clone(),
        last_change_date_time: changed_at.clone(),
        publisher: spec.awarding_organisation.name.clone(),
        description: format!(
            "{} as published by {} (document {}), catalogue version {v}",
            spec.title,
            spec.awarding_organisation.code,
            spec.document_version.as_deref().unwrap_or("unversioned")
        ),
        subject: spec.sector.iter().cloned().collect(),
        language: "en".into(),
        version: v.clone(),
        adoption_status: "Adopted".into(),
        extensions: extension(&DocumentExtension {
            key: spec.key.clone(),
            awarding_organisation: spec.awarding_organisation.clone(),
            document_version: spec.document_version.clone(),
            published_on: spec.published_on.clone(),
            change_log: spec.change_log.clone(),
        }),
    };
    let item_types: Vec<CfItemType> = ITEM_TYPES
        .iter()
        .map(|(title, code, description)| {
            let id = case_id(&["CFItemType", title]);
            CfItemType {
                uri: uri("CFItemTypes", &id),
                identifier: id,
                title: (*title).to_string(),
                description: (*description).to_string(),
                hierarchy_code: (*code).to_string(),
                type_code: title.replace(' ', ""),
                last_change_date_time: changed_at.clone(),
            }
        })
        .collect();
    let type_link = |kind: &str| {
        item_types
            .iter()
            .find(|t| t.title == kind)
            .map(|t| LinkUri {
                title: t.title.clone(),
                identifier: t.identifier.clone(),
                uri: t.uri.clone(),
            })
            .unwrap_or_else(|| LinkUri {
                title: kind.to_string(),
                identifier: case_id(&["CFItemType", kind]),
                uri: uri("CFItemTypes", &case_id(&["CFItemType", kind])),
            })
    };
    let mut items: Vec<CfItem> = Vec::new();
    let mut seen = HashSet::new();
    let mut item = |path: &[&str],
                    kind: &str,
                    code: &str,
                    statement: &str,
                    level: Option<u8>,
                    extensions: Option<serde_json::Value>| {
        let mut parts = vec![spec.key.as_str(), v.as_str()];
        parts.extend_from_slice(path);
        let id = case_id(&parts);
        let link = LinkUri {
            title: statement.chars().take(120).collect(),
            identifier: id.clone(),
            uri: uri("CFItems", &id),
        };
        if seen.insert(id.clone()) {
            items.push(CfItem {
                identifier: id,
                uri: link.uri.clone(),
                full_statement: statement.to_string(),
                abbreviated_statement: None,
                human_coding_scheme: code.to_string(),
                item_type: kind.to_string(),
                item_type_uri: type_link(kind),
                education_level: level.map(|l| l.to_string()).into_iter().collect(),
                language: "en".into(),
                last_change_date_time: changed_at.clone(),
                extensions,
            });
        }
        link
    };
    let mut unit_links = HashMap::new();
    let mut child_of = Vec::new();
    let mut related = Vec::new();
    let mut placed = HashSet::new();
    for u in &spec.units {
        let code = u.ofqual_ref.clone().unwrap_or_else(|| u.ao_ref.clone());
        let ul = item(
            &["unit", &u.key],
            "Unit",
            &code,
            &u.title,
            Some(u.level),
            extension(&UnitExtension {
                key: u.key.clone(),
                ofqual_ref: u.ofqual_ref.clone(),
                ao_ref: u.ao_ref.clone(),
                other_refs: u.other_refs.clone(),
                credit: u.credit,
                glh: u.glh,
                tqt: u.tqt,
                purpose: u.purpose.clone(),
                sector: u.sector.clone(),
                assessment_method: u.assessment_method.clone(),
                simulation: u.simulation,
                evidence_occasions: u.evidence_occasions,
                centre_authentication: u.centre_authentication,
                assessment_guidance: u.assessment_guidance.clone(),
                nos: u.nos.clone(),
                apprenticeship_text: u.apprenticeship_text.clone(),
                assessment_components: u.assessment_components.clone(),
            }),
        );
        for lo in &u.learning_outcomes {
            let lol = item(
                &["unit", &u.key, "lo", &lo.number],
                "Learning Outcome",
                &format!("{} LO{}", u.ao_ref, lo.number),
                &lo.text,
                Some(u.level),
                extension(&OutcomeExtension {
                    number: lo.number.clone(),
                    indicative_content: lo.indicative_content.clone(),
                    assessor_guidance: lo.assessor_guidance.clone(),
                }),
            );
            child_of.push((lol.clone(), ul.clone(), None));
            for ac in &lo.criteria {
                let acl = item(
                    &["unit", &u.key, "ac", &ac.number],
                    "Assessment Criterion",
                    &format!("{} AC{}", u.ao_ref, ac.number),
                    &ac.text,
                    Some(u.level),
                    extension(&CriterionExtension {
                        number: ac.number.clone(),
                    }),
                );
                child_of.push((acl, lol.clone(), None));
            }
        }
        for k in &u.ksb {
            let sl = item(
                &["standard", &k.standard],
                "Apprenticeship Standard",
                &k.standard,
                &k.standard,
                None,
                None,
            );
            let kind = match k.code.chars().next() {
                Some('K') => "Knowledge",
                Some('S') => "Skill",
                Some('B') => "Behaviour",
                _ => "KSB",
            };
            let text = if k.text.trim().is_empty() {
                &k.code
            } else {
                &k.text
            };
            let kl = item(
                &["standard", &k.standard, "ksb", &k.code],
                kind,
                &k.code,
                text,
                None,
                None,
            );
            if placed.insert(sl.identifier.clone()) {
                child_of.push((sl.clone(), doc_link.clone(), None));
            }
            if placed.insert(kl.identifier.clone()) {
                child_of.push((kl.clone(), sl, None));
            }
            related.push((
                ul.clone(),
                kl,
                extension(&KsbExtension {
                    standard: k.standard.clone(),
                    code: k.code.clone(),
                    text: k.text.clone(),
                }),
            ));
        }
        unit_links.insert(u.key.clone(), ul);
    }
    for q in &spec.qualifications {
        let ql = item(
            &["qualification", &q.qan],
            "Qualification",
            &q.qan,
            &q.title,
            Some(q.level),
            extension(&QualificationExtension {
                size: q.size,
                credit: q.credit,
                glh: q.glh,
                tqt: q.tqt,
                grading: q.grading.clone(),
                assessment: q.assessment.clone(),
                minimum_age: q.minimum_age,
                entry_requirements: q.entry_requirements.clone(),
                rules: q.rules.clone(),
                rules_text: q.rules_text.clone(),
            }),
        );
        for qu in &q.units {
            if let Some(ul) = unit_links.get(&qu.unit) {
                child_of.push((
                    ul.clone(),
                    ql.clone(),
                    extension(&MembershipExtension {
                        group: qu.group.clone(),
                    }),
                ));
            }
        }
        child_of.push((ql, doc_link.clone(), None));
    }
    for u in &spec.units {
        // A unit no qualification lists (OCR's single unit) hangs off the document.
        if !spec
            .qualifications
            .iter()
            .any(|q| q.units.iter().any(|qu| qu.unit == u.key))
            && let Some(ul) = unit_links.get(&u.key)
        {
            child_of.push((ul.clone(), doc_link.clone(), None));
        }
    }
    let mut associations: Vec<CfAssociation> = Vec::new();
    let mut made = HashSet::new();
    let mut children: HashMap<String, u32> = HashMap::new();
    for (origin, dest, extensions) in child_of {
        let id = case_id(&[&doc_id, "isChildOf", &origin.identifier, &dest.identifier]);
        if !made.insert(id.clone()) {
            continue;
        }
        let n = children.entry(dest.identifier.clone()).or_insert(0);
        *n += 1;
        associations.push(CfAssociation {
            uri: uri("CFAssociations", &id),
            identifier: id,
            association_type: "isChildOf".into(),
            sequence_number: Some(*n),
            origin_node_uri: origin,
            destination_node_uri: dest,
            last_change_date_time: changed_at.clone(),
            extensions,
        });
    }
    for (origin, dest, extensions) in related {
        let id = case_id(&[&doc_id, "isRelatedTo", &origin.identifier, &dest.identifier]);
        if !made.insert(id.clone()) {
            continue;
        }
        associations.push(CfAssociation {
            uri: uri("CFAssociations", &id),
            identifier: id,
            association_type: "isRelatedTo".into(),
            sequence_number: None,
            origin_node_uri: origin,
            destination_node_uri: dest,
            last_change_date_time: changed_at.clone(),
            extensions,
        });
    }
    let used: HashSet<&str> = items.iter().map(|i| i.item_type.as_str()).collect();
    let item_types = item_types
        .iter()
        .filter(|t| used.contains(t.title.as_str()))
        .cloned()
        .collect();
    CfPackage {
        document,
        items,
        associations,
        definitions: CfDefinitions { item_types },
    }
}
