//! Exports of the catalogue: Credence's own JSON (which import reads back to the identical
//! catalogue) and the 1EdTech CASE 1.0 package (CFDocument, CFItems, CFAssociations) so that
//! other learning systems can take the criteria.

use crate::import::ImportReport;
use crate::model::Specification;
use serde::{Deserialize, Serialize};
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
// 1EdTech CASE 1.0

/// Namespace for Credence's name-based (v5) CASE identifiers: the same catalogue version
/// always gets the same identifiers, so a consumer can re-import without duplicates.
const CASE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_0c2a_9a4e_4d59_9b8e_2f0c_5e7a_1c33);

fn case_id(parts: &[&str]) -> String {
    Uuid::new_v5(&CASE_NAMESPACE, parts.join("\u{1f}").as_bytes()).to_string()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkUri {
    pub title: String,
    pub identifier: String,
    pub uri: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CfPackage {
    #[serde(rename = "CFDocument")]
    pub document: CfDocument,
    #[serde(rename = "CFItems")]
    pub items: Vec<CfItem>,
    #[serde(rename = "CFAssociations")]
    pub associations: Vec<CfAssociation>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CfDocument {
    pub identifier: String,
    pub uri: String,
    pub creator: String,
    pub title: String,
    pub last_change_date_time: String,
    pub publisher: String,
    pub description: String,
    pub subject: Vec<String>,
    pub language: String,
    pub version: String,
    pub adoption_status: String,
    #[serde(rename = "CFPackageURI")]
    pub package_uri: LinkUri,
}

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
    pub education_level: Vec<String>,
    pub language: String,
    pub last_change_date_time: String,
    #[serde(rename = "CFDocumentURI")]
    pub document_uri: LinkUri,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CfAssociation {
    pub identifier: String,
    pub uri: String,
    pub association_type: String,
    pub origin_node_uri: LinkUri,
    pub destination_node_uri: LinkUri,
    pub last_change_date_time: String,
    #[serde(rename = "CFDocumentURI")]
    pub document_uri: LinkUri,
}

/// The CASE package of one catalogue version. `base_uri` is where the CASE API is served
/// (`https://credence.example/ims/case/v1p0`); `version` is the catalogue version number;
/// `changed_at` the RFC 3339 time it was published.
pub fn case_package(
    spec: &Specification,
    version: u32,
    base_uri: &str,
    changed_at: &str,
) -> CfPackage {
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
        creator: spec.awarding_organisation.name.clone(),
        title: spec.title.clone(),
        last_change_date_time: changed_at.to_string(),
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
        package_uri: LinkUri {
            title: spec.title.clone(),
            identifier: doc_id.clone(),
            uri: uri("CFPackages", &doc_id),
        },
    };
    let mut items = Vec::new();
    let mut associations = Vec::new();
    let mut item = |path: &[&str], kind: &str, code: &str, statement: &str, level: u8| {
        let mut parts = vec![spec.key.as_str(), v.as_str()];
        parts.extend_from_slice(path);
        let id = case_id(&parts);
        let link = LinkUri {
            title: statement.chars().take(120).collect(),
            identifier: id.clone(),
            uri: uri("CFItems", &id),
        };
        items.push(CfItem {
            identifier: id,
            uri: link.uri.clone(),
            full_statement: statement.to_string(),
            abbreviated_statement: None,
            human_coding_scheme: code.to_string(),
            item_type: kind.to_string(),
            education_level: vec![level.to_string()],
            language: "en".into(),
            last_change_date_time: changed_at.to_string(),
            document_uri: doc_link.clone(),
        });
        link
    };
    let mut unit_links = std::collections::HashMap::new();
    let mut child_of = Vec::new();
    for u in &spec.units {
        let code = u.ofqual_ref.clone().unwrap_or_else(|| u.ao_ref.clone());
        let ul = item(&["unit", &u.key], "Unit", &code, &u.title, u.level);
        for lo in &u.learning_outcomes {
            let lol = item(
                &["unit", &u.key, "lo", &lo.number],
                "Learning Outcome",
                &format!("{} LO{}", u.ao_ref, lo.number),
                &lo.text,
                u.level,
            );
            for ac in &lo.criteria {
                let acl = item(
                    &["unit", &u.key, "ac", &ac.number],
                    "Assessment Criterion",
                    &format!("{} AC{}", u.ao_ref, ac.number),
                    &ac.text,
                    u.level,
                );
                child_of.push((acl, lol.clone()));
            }
            child_of.push((lol, ul.clone()));
        }
        unit_links.insert(u.key.clone(), ul);
    }
    for q in &spec.qualifications {
        let ql = item(
            &["qualification", &q.qan],
            "Qualification",
            &q.qan,
            &q.title,
            q.level,
        );
        for qu in &q.units {
            if let Some(ul) = unit_links.get(&qu.unit) {
                child_of.push((ul.clone(), ql.clone()));
            }
        }
        child_of.push((ql, doc_link.clone()));
    }
    for u in &spec.units {
        // A unit no qualification lists (OCR's single unit) hangs off the document.
        if !spec
            .qualifications
            .iter()
            .any(|q| q.units.iter().any(|qu| qu.unit == u.key))
            && let Some(ul) = unit_links.get(&u.key)
        {
            child_of.push((ul.clone(), doc_link.clone()));
        }
    }
    for (origin, dest) in child_of {
        let id = case_id(&[&doc_id, "isChildOf", &origin.identifier, &dest.identifier]);
        associations.push(CfAssociation {
            uri: uri("CFAssociations", &id),
            identifier: id,
            association_type: "isChildOf".into(),
            origin_node_uri: origin,
            destination_node_uri: dest,
            last_change_date_time: changed_at.to_string(),
            document_uri: doc_link.clone(),
        });
    }
    CfPackage {
        document,
        items,
        associations,
    }
}
