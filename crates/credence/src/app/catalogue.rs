//! Catalogue use cases: import, correct, publish, browse, search, export.

use super::authz::CatalogueScope;
use super::{App, AppError, AppResult};
use crate::store::{NewVersion, VersionRow};
use credence_domain::corrections::{self, Corrections};
use credence_domain::export::{self, CatalogueExport, ExportedVersion, VersionStatus};
use credence_domain::import::{self, ImportReport, Imported};
use credence_domain::model::{AwardingOrganisation, Qualification, Specification, Unit};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// A published, current specification with its catalogue version.
#[derive(Clone)]
pub struct CurrentSpec {
    pub version: VersionRow,
    pub spec: Arc<Specification>,
}

/// The whole current catalogue (newest published version of every specification).
#[derive(Clone, Default)]
pub struct Catalogue {
    pub specs: Vec<CurrentSpec>,
}

impl Catalogue {
    pub fn qualification(&self, qan: &str) -> Option<(&CurrentSpec, &Qualification)> {
        self.specs.iter().find_map(|cs| {
            cs.spec
                .qualifications
                .iter()
                .find(|q| q.qan == qan)
                .map(|q| (cs, q))
        })
    }

    /// What a registration's code names (a QAN, or a unit on its own by its Ofqual
    /// reference), as [`Specification::programme`] reads it, in the current catalogue.
    pub fn programme(
        &self,
        code: &str,
    ) -> Option<(&CurrentSpec, std::borrow::Cow<'_, Qualification>)> {
        self.qualification(code)
            .map(|(cs, q)| (cs, std::borrow::Cow::Borrowed(q)))
            .or_else(|| {
                self.specs
                    .iter()
                    .find_map(|cs| cs.spec.programme(code).map(|q| (cs, q)))
            })
    }

    /// Units a learner can take on their own (each has an Ofqual reference), each once, in
    /// catalogue order.
    pub fn units_on_their_own(&self) -> Vec<(&CurrentSpec, &Unit)> {
        let mut seen = std::collections::HashSet::new();
        self.specs
            .iter()
            .flat_map(|cs| cs.spec.units.iter().map(move |u| (cs, u)))
            .filter(|(_, u)| u.ofqual_ref.is_some())
            .filter(|(_, u)| seen.insert(u.ofqual_ref.clone()))
            .collect()
    }

    /// A unit by its key, URL slug or AO reference.
    pub fn unit(&self, id: &str) -> Option<(&CurrentSpec, &Unit)> {
        self.specs.iter().find_map(|cs| {
            cs.spec
                .units
                .iter()
                .find(|u| u.key == id || unit_slug(&u.key) == id)
                .map(|u| (cs, u))
        })
    }

    /// Every qualification (in any current specification) that lists the unit.
    pub fn qualifications_with_unit(&self, key: &str) -> Vec<(&CurrentSpec, &Qualification)> {
        self.specs
            .iter()
            .flat_map(|cs| cs.spec.qualifications.iter().map(move |q| (cs, q)))
            .filter(|(_, q)| q.units.iter().any(|qu| qu.unit == key))
            .collect()
    }

    pub fn qualifications(&self) -> impl Iterator<Item = (&CurrentSpec, &Qualification)> {
        self.specs
            .iter()
            .flat_map(|cs| cs.spec.qualifications.iter().map(move |q| (cs, q)))
    }

    /// Qualifications and units a search names: a QAN (with or without its slashes, or
    /// part of one), a unit's reference (its AO reference, Ofqual reference or key, with or
    /// without punctuation) or words of a title (every word, in any order, any case).
    /// Exact references come first, then the rest in catalogue order.
    pub fn find(&self, query: &str) -> (Vec<&Qualification>, Vec<&Unit>) {
        let code = squash(query);
        let words: Vec<String> = query
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|w| !w.is_empty())
            .collect();
        if code.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let titled = |title: &str| {
            let t = title.to_lowercase();
            words.iter().all(|w| t.contains(w.as_str()))
        };
        // A reference matches in part only when the query is long enough to mean it.
        let refers = |r: &str| {
            let r = squash(r);
            r == code || (code.len() >= 4 && r.contains(&code))
        };
        let mut quals: Vec<(bool, &Qualification)> = self
            .qualifications()
            .map(|(_, q)| q)
            .filter(|q| refers(&q.qan) || titled(&q.title))
            .map(|q| (squash(&q.qan) == code, q))
            .collect();
        quals.sort_by_key(|(exact, _)| !exact);
        let mut seen = std::collections::HashSet::new();
        let mut units: Vec<(bool, &Unit)> = self
            .specs
            .iter()
            .flat_map(|cs| cs.spec.units.iter())
            .filter(|u| seen.insert(u.key.clone()))
            .filter_map(|u| {
                let refs = std::iter::once(u.ao_ref.as_str())
                    .chain(u.ofqual_ref.as_deref())
                    .chain(u.other_refs.iter().map(String::as_str))
                    .chain(std::iter::once(u.key.as_str()));
                let mut exact = false;
                let mut hit = false;
                for r in refs {
                    exact |= squash(r) == code;
                    hit |= refers(r);
                }
                (hit || titled(&u.title)).then_some((exact, u))
            })
            .collect();
        units.sort_by_key(|(exact, _)| !exact);
        (
            quals.into_iter().map(|(_, q)| q).collect(),
            units.into_iter().map(|(_, u)| u).collect(),
        )
    }
}

/// A reference without case, spaces or punctuation: "610/3788/6" and "6103788 6" agree, and
/// "L/650/7899" is "l6507899".
fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// URL form of a QAN: `610/3788/6` → `610-3788-6`.
pub fn qan_slug(qan: &str) -> String {
    qan.replace('/', "-")
}

/// URL form of a unit key: `L/650/7899` → `L-650-7899`; `ISMM:Unit 1` → `ISMM-Unit-1`.
pub fn unit_slug(key: &str) -> String {
    key.replace(['/', ':', ' '], "-")
}

/// QAN from its URL form (either form accepted).
pub fn qan_from_slug(s: &str) -> String {
    s.replace('-', "/")
}

/// What an import did.
#[derive(Debug)]
pub struct ImportOutcome {
    pub versions: Vec<ImportedVersion>,
}

#[derive(Debug)]
pub struct ImportedVersion {
    pub id: i64,
    pub spec_key: String,
    pub version_number: i64,
    pub status: String,
    pub report: ImportReport,
    /// Set when an identical source was already imported: nothing new was created.
    pub unchanged_from: Option<i64>,
}

/// An error about one package of an array, saying which (same kind, so the same status).
fn in_package(e: AppError, n: usize, of: usize) -> AppError {
    let at = |m: String| format!("package {n} of {of}: {m}; nothing was imported");
    match e {
        AppError::Validation(m) => AppError::Validation(at(m)),
        AppError::Import(e) => AppError::Validation(at(e.to_string())),
        AppError::Corrections(e) => AppError::Validation(at(e.to_string())),
        AppError::Conflict(m) => AppError::Conflict(at(m)),
        AppError::Forbidden(m) => AppError::Forbidden(at(m)),
        other => other,
    }
}

/// One specification or package read and checked, not yet stored.
struct PreparedImport {
    imported: Imported,
    text: String,
    sha: String,
    spec_json: String,
    report_json: String,
    /// The version an identical earlier import made, if any.
    unchanged: Option<VersionRow>,
}

/// The longest search accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl App {
    /// Import a specification (its text), a CASE 1.1 package (or the array of packages
    /// `catalogue export --format case` writes), or a Credence catalogue export. A
    /// specification or package becomes a draft version, with `corrections` applied; with
    /// `publish`, it is published at once if nothing is left open. An identical re-import
    /// creates nothing and says so. Bad input changes nothing: every package of an array
    /// is read and checked before any is stored.
    pub async fn import(
        &self,
        scope: &CatalogueScope,
        source_name: &str,
        bytes: &[u8],
        corrections_file: Option<&[u8]>,
        publish: bool,
    ) -> AppResult<ImportOutcome> {
        if publish && !scope.is_operator() {
            return Err(AppError::Validation(
                "Publication is a separate step after review: import as a draft, review its findings, then publish it".into(),
            ));
        }
        if let Some(packages) = import::case::packages_in_array(bytes) {
            if corrections_file.is_some() {
                return Err(AppError::Validation(
                    "a corrections file applies to one specification: import the CASE packages one at a time to correct one"
                        .into(),
                ));
            }
            let mut prepared = Vec::new();
            for (i, p) in packages.iter().enumerate() {
                let name = format!("{source_name} (package {} of {})", i + 1, packages.len());
                let one = self
                    .prepare_import(scope, &name, p.as_bytes(), None)
                    .await
                    .map_err(|e| in_package(e, i + 1, packages.len()))?;
                if publish && one.unchanged.is_none() && one.imported.report.open_count() > 0 {
                    return Err(AppError::Conflict(format!(
                        "package {} of {} ({}) has {} open finding(s), so it cannot be published: nothing was imported. Import without --publish, resolve them, then publish",
                        i + 1,
                        packages.len(),
                        one.imported.specification.key,
                        one.imported.report.open_count()
                    )));
                }
                prepared.push((name, one));
            }
            let mut versions = Vec::new();
            for (name, one) in prepared {
                versions.push(self.commit_import(scope, &name, one, publish).await?);
            }
            return Ok(ImportOutcome { versions });
        }
        if !import::is_case_package(bytes) && export::is_export(bytes) {
            if corrections_file.is_some() {
                return Err(AppError::Validation(
                    "a corrections file applies to a specification, not to a catalogue export"
                        .into(),
                ));
            }
            return self.import_export(scope, bytes).await;
        }
        let one = self
            .prepare_import(scope, source_name, bytes, corrections_file)
            .await?;
        Ok(ImportOutcome {
            versions: vec![self.commit_import(scope, source_name, one, publish).await?],
        })
    }

    /// Read, correct and check one specification or package; stores nothing.
    async fn prepare_import(
        &self,
        scope: &CatalogueScope,
        source_name: &str,
        bytes: &[u8],
        corrections_file: Option<&[u8]>,
    ) -> AppResult<PreparedImport> {
        // Another system's CASE package is filed under the importing staff member's AO.
        let own_ao = match scope.only_ao() {
            Some(code) => self
                .store
                .awarding_organisations()
                .await?
                .into_iter()
                .find(|a| a.ao_code == code)
                .map(|a| AwardingOrganisation {
                    code: a.ao_code,
                    name: a.name,
                }),
            None => None,
        };
        let mut imported = import::import_filed_under(bytes, own_ao.as_ref())?;
        if let Some(c) = corrections_file {
            let parsed = Corrections::parse(c)?;
            corrections::apply(&mut imported, &parsed)?;
        }
        export::check_specification(&imported.specification).map_err(AppError::Validation)?;
        self.check_ownership(scope, &imported.specification).await?;
        let text = import::decode(bytes)?.to_string();
        let sha = sha256_hex(bytes);
        let spec_json = serde_json::to_string(&imported.specification)?;
        let report_json = serde_json::to_string(&imported.report)?;
        // An identical source with identical resulting content is not a new version.
        let mut unchanged = None;
        for v in self.store.versions().await? {
            if v.spec_key == imported.specification.key && v.source_sha256 == sha {
                let docs = self.store.version_documents(v.catalogue_version_id).await?;
                if docs.is_some_and(|d| d.specification_json == spec_json) {
                    unchanged = Some(v);
                    break;
                }
            }
        }
        tracing::debug!(source = source_name, "import prepared");
        Ok(PreparedImport {
            imported,
            text,
            sha,
            spec_json,
            report_json,
            unchanged,
        })
    }

    /// Store one prepared import as a draft (and publish it if asked and nothing is open).
    async fn commit_import(
        &self,
        scope: &CatalogueScope,
        source_name: &str,
        prepared: PreparedImport,
        publish: bool,
    ) -> AppResult<ImportedVersion> {
        let PreparedImport {
            imported,
            text,
            sha,
            spec_json,
            report_json,
            unchanged,
        } = prepared;
        if let Some(v) = unchanged {
            return Ok(ImportedVersion {
                id: v.catalogue_version_id,
                spec_key: v.spec_key.clone(),
                version_number: v.version_number,
                status: v.status.to_string(),
                report: imported.report,
                unchanged_from: Some(v.catalogue_version_id),
            });
        }
        let open = imported.report.open_count() as i64;
        scope.require_second_factor()?;
        let entry = Self::catalogue_entry(
            scope,
            "catalogue.import",
            &format!("specification {}", imported.specification.key),
            serde_json::json!({"ao": imported.specification.awarding_organisation.code, "source": source_name, "sha256": sha, "open_findings": open, "layout": imported.report.layout}),
        );
        let id = self
            .store
            .audited(entry)
            .insert_catalogue_version(NewVersion {
                spec: &imported.specification,
                status: "draft",
                source_name,
                source_sha256: &sha,
                source_text: &text,
                specification_json: &spec_json,
                report_json: &report_json,
                open_findings: open,
                imported_at: None,
                published_at: None,
                version_number: None,
            })
            .await?;
        let mut status = "draft".to_string();
        if publish {
            if open > 0 {
                return Err(AppError::Conflict(format!(
                    "imported as draft version {id}, but not published: {open} open finding(s) remain. Resolve them (credence catalogue findings {id}) and publish"
                )));
            }
            self.store
                .audited(Self::catalogue_entry(
                    scope,
                    "catalogue.publish",
                    &format!("catalogue version {id}"),
                    serde_json::json!({"specification": imported.specification.key}),
                ))
                .publish_version(id, &imported.specification)
                .await?;
            status = "published".into();
        }
        let row = self.store.version(id).await?.ok_or(AppError::Internal(
            "a version just inserted is missing".into(),
        ))?;
        Ok(ImportedVersion {
            id,
            spec_key: row.spec_key,
            version_number: row.version_number,
            status,
            report: imported.report,
            unchanged_from: None,
        })
    }

    /// Read a catalogue export back: every version it holds, as it was. Refused whole if any
    /// version already exists here.
    async fn import_export(
        &self,
        scope: &CatalogueScope,
        bytes: &[u8],
    ) -> AppResult<ImportOutcome> {
        let parsed = export::parse(bytes)?;
        let existing = self.store.versions().await?;
        // An export read back through pages or the API never creates an AO and never
        // publishes: its versions come in as drafts of AOs already here, the staff's own.
        if !scope.is_operator() {
            let known = self.store.awarding_organisations().await?;
            for v in &parsed.versions {
                let ao = &v.specification.awarding_organisation.code;
                if !known.iter().any(|k| k.ao_code == *ao) {
                    return Err(AppError::Forbidden(format!(
                        "this export names the awarding organisation {ao}, which is not in this catalogue: only the operator adds awarding organisations"
                    )));
                }
            }
        }
        for v in &parsed.versions {
            self.check_ownership(scope, &v.specification).await?;
        }
        scope.require_second_factor()?;
        for v in &parsed.versions {
            if existing
                .iter()
                .any(|e| e.spec_key == v.key && e.version_number == i64::from(v.version))
            {
                return Err(AppError::Conflict(format!(
                    "version {} of {} is already in this catalogue: nothing was imported",
                    v.version, v.key
                )));
            }
        }
        let mut out = Vec::new();
        // One transaction per version; the pre-check above makes a conflict part-way
        // impossible short of a concurrent import of the same export.
        for v in &parsed.versions {
            let spec_json = serde_json::to_string(&v.specification)?;
            let report_json = serde_json::to_string(&v.report)?;
            let status = if scope.is_operator() {
                v.status.as_str()
            } else {
                "draft"
            };
            let entry = Self::catalogue_entry(
                scope,
                "catalogue.import_export",
                &format!("specification {}", v.key),
                serde_json::json!({"ao": v.specification.awarding_organisation.code, "version": v.version, "status": status}),
            );
            let id = self
                .store
                .audited(entry)
                .insert_catalogue_version(NewVersion {
                    spec: &v.specification,
                    status,
                    source_name: &v.source_name,
                    source_sha256: &v.source_sha256,
                    source_text: "",
                    specification_json: &spec_json,
                    report_json: &report_json,
                    open_findings: v.report.open_count() as i64,
                    imported_at: Some(&v.imported_at),
                    published_at: if scope.is_operator() {
                        v.published_at.as_deref()
                    } else {
                        None
                    },
                    version_number: Some(i64::from(v.version)),
                })
                .await?;
            out.push(ImportedVersion {
                id,
                spec_key: v.key.clone(),
                version_number: i64::from(v.version),
                status: status.into(),
                report: v.report.clone(),
                unchanged_from: None,
            });
        }
        Ok(ImportOutcome { versions: out })
    }

    /// Apply corrections to a draft.
    pub async fn correct(
        &self,
        scope: &CatalogueScope,
        id: i64,
        corrections_file: &Corrections,
    ) -> AppResult<ImportReport> {
        let (row, mut imported) = self.version_in_scope(scope, id).await?;
        if row.status != "draft" {
            return Err(AppError::Conflict(format!(
                "catalogue version {id} is published and cannot change: import the specification again to make a new version"
            )));
        }
        corrections::apply(&mut imported, corrections_file)?;
        export::check_specification(&imported.specification).map_err(AppError::Validation)?;
        scope.require_second_factor()?;
        self.store
            .audited(Self::catalogue_entry(
                scope,
                "catalogue.correct",
                &format!("catalogue version {id}"),
                serde_json::json!({"specification": row.spec_key, "corrections": corrections_file.corrections.len()}),
            ))
            .update_draft(
                id,
                &serde_json::to_string(&imported.specification)?,
                &serde_json::to_string(&imported.report)?,
                imported.report.open_count() as i64,
            )
            .await?;
        Ok(imported.report)
    }

    pub async fn publish(&self, scope: &CatalogueScope, id: i64) -> AppResult<VersionRow> {
        let (row, imported) = self.version_in_scope(scope, id).await?;
        self.check_ownership(scope, &imported.specification).await?;
        scope.require_second_factor()?;
        self.store
            .audited(Self::catalogue_entry(
                scope,
                "catalogue.publish",
                &format!("catalogue version {id}"),
                serde_json::json!({"specification": row.spec_key}),
            ))
            .publish_version(id, &imported.specification)
            .await?;
        self.store
            .version(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("catalogue version {id}")))
    }

    /// An audit entry about the catalogue, by the scope's person or the operator.
    fn catalogue_entry(
        scope: &CatalogueScope,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> crate::store::AuditDraft {
        Self::entry(Some(scope.who()), None, action, subject, None, None, detail)
    }

    /// The versions the scope covers, drafts included.
    pub async fn versions(&self, scope: &CatalogueScope) -> AppResult<Vec<VersionRow>> {
        Ok(self
            .store
            .versions()
            .await?
            .into_iter()
            .filter(|v| scope.covers(&v.ao_code))
            .collect())
    }

    /// A version the scope covers, with its content; another AO's answers NotFound.
    pub async fn version_in_scope(
        &self,
        scope: &CatalogueScope,
        id: i64,
    ) -> AppResult<(VersionRow, Imported)> {
        let (row, imported) = self.version_content(id).await?;
        if !scope.covers(&row.ao_code) {
            return Err(AppError::NotFound(format!("catalogue version {id}")));
        }
        Ok((row, imported))
    }

    /// What changed from version `a` to version `b` of one specification (drafts too, for
    /// the AO that owns them).
    pub async fn version_diff(
        &self,
        scope: &CatalogueScope,
        a: i64,
        b: i64,
    ) -> AppResult<(VersionRow, VersionRow, Vec<credence_domain::diff::Change>)> {
        let (ra, ia) = self.version_in_scope(scope, a).await?;
        let (rb, ib) = self.version_in_scope(scope, b).await?;
        if ra.spec_key != rb.spec_key {
            return Err(AppError::Validation(format!(
                "versions {a} and {b} are of different specifications ({} and {}): compare two versions of one specification",
                ra.spec_key, rb.spec_key
            )));
        }
        let changes = credence_domain::diff::diff(&ia.specification, &ib.specification);
        Ok((ra, rb, changes))
    }

    /// Each AO owns its catalogue: a specification is its own AO's to import, and neither its
    /// key nor any of its QANs may belong to another AO's specification already here.
    async fn check_ownership(&self, scope: &CatalogueScope, spec: &Specification) -> AppResult<()> {
        let ao = &spec.awarding_organisation.code;
        if !scope.covers(ao) {
            return Err(AppError::Forbidden(format!(
                "this specification is {ao}'s: only {ao}'s staff may import, correct or publish it"
            )));
        }
        for v in self.store.versions().await? {
            if v.spec_key == spec.key && v.ao_code != *ao {
                return Err(AppError::Forbidden(format!(
                    "the specification {} belongs to {}, not {ao}",
                    spec.key, v.ao_code
                )));
            }
        }
        let cat = self.catalogue().await?;
        for q in &spec.qualifications {
            if let Some((cs, _)) = cat.qualification(&q.qan)
                && cs.spec.awarding_organisation.code != *ao
            {
                return Err(AppError::Forbidden(format!(
                    "the QAN {} is {}'s qualification: an awarding organisation imports only its own",
                    q.qan, cs.spec.awarding_organisation.code
                )));
            }
        }
        Ok(())
    }

    /// A version with its specification and report.
    pub async fn version_content(&self, id: i64) -> AppResult<(VersionRow, Imported)> {
        let row = self
            .store
            .version(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("catalogue version {id}")))?;
        let docs = self
            .store
            .version_documents(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("catalogue version {id}")))?;
        let specification = serde_json::from_str(&docs.specification_json)?;
        let report = serde_json::from_str(&docs.report_json)?;
        Ok((
            row,
            Imported {
                specification,
                report,
            },
        ))
    }

    /// The current catalogue. Published versions never change, so each is parsed once per
    /// server and kept; which versions are current is asked of the database every time, so
    /// any number of servers agree.
    pub async fn catalogue(&self) -> AppResult<Catalogue> {
        let rows = self.store.current_versions().await?;
        let mut specs = Vec::with_capacity(rows.len());
        for row in rows {
            let cached = self
                .published_cache
                .read()
                .map_err(|_| AppError::Internal("catalogue cache poisoned".into()))?
                .get(&row.catalogue_version_id)
                .cloned();
            let spec = match cached {
                Some(s) => s,
                None => {
                    let docs = self
                        .store
                        .version_documents(row.catalogue_version_id)
                        .await?
                        .ok_or_else(|| AppError::Internal("current version vanished".into()))?;
                    let spec: Arc<Specification> =
                        Arc::new(serde_json::from_str(&docs.specification_json)?);
                    self.published_cache
                        .write()
                        .map_err(|_| AppError::Internal("catalogue cache poisoned".into()))?
                        .insert(row.catalogue_version_id, spec.clone());
                    spec
                }
            };
            specs.push(CurrentSpec { version: row, spec });
        }
        Ok(Catalogue { specs })
    }

    /// The current catalogue as 1EdTech CASE 1.1 packages, one per specification, every URI
    /// under the public base URL (the CLI export and the CASE REST service both use this).
    pub async fn case_packages(&self) -> AppResult<Vec<export::CfPackage>> {
        let cat = self.catalogue().await?;
        Ok(cat
            .specs
            .iter()
            .map(|cs| {
                export::case_package(
                    &cs.spec,
                    u32::try_from(cs.version.version_number).unwrap_or(u32::MAX),
                    &self.public_url,
                    cs.version
                        .published_at
                        .as_deref()
                        .unwrap_or(&cs.version.imported_at),
                )
            })
            .collect())
    }

    /// Every published version that a newer one superseded, as CASE 1.1 packages (newest
    /// first): what Credence published under their identifiers keeps answering.
    pub async fn superseded_case_packages(&self) -> AppResult<Vec<export::CfPackage>> {
        let mut rows: Vec<VersionRow> = self
            .store
            .versions()
            .await?
            .into_iter()
            .filter(|v| v.status == crate::store::VersionStatus::Published && v.is_current == 0)
            .collect();
        rows.sort_by_key(|v| std::cmp::Reverse(v.catalogue_version_id));
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let spec = self
                .specification_of_version(row.catalogue_version_id)
                .await?;
            out.push(export::case_package(
                &spec,
                u32::try_from(row.version_number).unwrap_or(u32::MAX),
                &self.public_url,
                row.published_at.as_deref().unwrap_or(&row.imported_at),
            ));
        }
        Ok(out)
    }

    /// Search the current catalogue's assessment criteria (and the LOs judged directly).
    pub async fn search_criteria(
        &self,
        query: &str,
        limit: i64,
    ) -> AppResult<Vec<crate::store::CriterionHit>> {
        if query.chars().count() > MAX_SEARCH_CHARS {
            return Err(AppError::Validation(format!(
                "Search for at most {MAX_SEARCH_CHARS} characters: a few words from the criterion are enough"
            )));
        }
        let words: Vec<String> = query
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
            .filter(|w| !w.is_empty())
            .take(8)
            .collect();
        if words.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.search_criteria(&words, limit).await?)
    }

    /// The whole catalogue, every version, as the documented JSON export.
    pub async fn export(&self, include_drafts: bool) -> AppResult<CatalogueExport> {
        let mut versions = Vec::new();
        for row in self.store.versions().await? {
            if !include_drafts && row.status != "published" {
                continue;
            }
            let (row, imported) = self.version_content(row.catalogue_version_id).await?;
            versions.push(ExportedVersion {
                key: row.spec_key.clone(),
                version: u32::try_from(row.version_number).unwrap_or(u32::MAX),
                status: if row.status == "published" {
                    VersionStatus::Published
                } else {
                    VersionStatus::Draft
                },
                source_name: row.source_name,
                source_sha256: row.source_sha256,
                imported_at: row.imported_at,
                published_at: row.published_at,
                specification: imported.specification,
                report: imported.report,
            });
        }
        Ok(CatalogueExport {
            format: export::FORMAT.into(),
            format_version: export::FORMAT_VERSION,
            versions,
        })
    }

    /// Import the five specifications shipped with Credence, with the corrections we
    /// decided for their open points, and publish them: each one whose specification has no
    /// version here yet (so a run cut short finishes next time, and a newer import of a
    /// shipped specification is never overwritten). Returns how many were imported.
    pub async fn ensure_seeded(&self) -> AppResult<usize> {
        let existing = self.store.versions().await?;
        let mut n = 0;
        for seed in crate::seeds::SEEDS {
            let key = import::import(seed.text)?.specification.key;
            if existing.iter().any(|v| v.spec_key == key) {
                continue;
            }
            match self
                .import(
                    &CatalogueScope::operator("system:seed"),
                    seed.name,
                    seed.text,
                    Some(seed.corrections),
                    true,
                )
                .await
            {
                Ok(_) => n += 1,
                // Another server seeding at the same moment got there first.
                Err(AppError::Conflict(m)) if m.contains("already exists") => {}
                Err(e) => {
                    return Err(AppError::Internal(format!(
                        "the shipped specification {} did not import and publish: {e}",
                        seed.name
                    )));
                }
            }
        }
        Ok(n)
    }
}
