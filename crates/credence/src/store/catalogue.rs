//! Catalogue versions and the index of published catalogue content.

use super::{Store, StoreError, StoreResult, now};
use credence_domain::model::Specification;

/// A catalogue version without its (large) documents.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionRow {
    pub catalogue_version_id: i64,
    pub spec_key: String,
    pub version_number: i64,
    #[sqlx(try_from = "String")]
    pub status: super::VersionStatus,
    pub is_current: i64,
    pub ao_code: String,
    pub title: String,
    pub source_name: String,
    pub source_sha256: String,
    pub open_findings: i64,
    pub imported_at: String,
    pub published_at: Option<String>,
}

/// A catalogue version with its documents (JSON text).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionDocuments {
    pub catalogue_version_id: i64,
    pub specification_json: String,
    pub report_json: String,
    pub source_text: String,
}

/// What an import hands the store.
pub struct NewVersion<'a> {
    pub spec: &'a Specification,
    pub status: &'a str,
    pub source_name: &'a str,
    pub source_sha256: &'a str,
    pub source_text: &'a str,
    pub specification_json: &'a str,
    pub report_json: &'a str,
    pub open_findings: i64,
    /// Kept from an export when re-importing one; otherwise now.
    pub imported_at: Option<&'a str>,
    pub published_at: Option<&'a str>,
    /// Kept from an export when re-importing one; otherwise the next number.
    pub version_number: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CriterionHit {
    pub unit_key: String,
    pub ao_ref: String,
    pub unit_title: String,
    pub level: i64,
    pub number: String,
    pub text: String,
    pub spec_key: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AoRow {
    pub ao_code: String,
    pub name: String,
}

const VERSION_COLUMNS: &str = "catalogue_version_id, spec_key, version_number, status, is_current, ao_code, title, source_name, source_sha256, open_findings, imported_at, published_at";

impl Store {
    /// Insert a new catalogue version (draft or, when re-importing an export, published),
    /// with its AO, in one transaction. Returns its id.
    pub async fn insert_catalogue_version(&self, new: NewVersion<'_>) -> StoreResult<i64> {
        let at = now();
        let mut tx = self.begin().await?;
        let ao = &new.spec.awarding_organisation;
        let exists: Option<(String,)> =
            sqlx::query_as("select ao_code from awarding_organisation where ao_code = $1")
                .bind(&ao.code)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            sqlx::query(
                "insert into awarding_organisation (ao_code, name, created_at) values ($1, $2, $3)",
            )
            .bind(&ao.code)
            .bind(&ao.name)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        }
        let number = match new.version_number {
            Some(n) => n,
            None => {
                let (max,): (Option<i64>,) = sqlx::query_as(
                    "select max(version_number) from catalogue_version where spec_key = $1",
                )
                .bind(&new.spec.key)
                .fetch_one(&mut *tx)
                .await?;
                max.unwrap_or(0) + 1
            }
        };
        let taken: Option<(i64,)> = sqlx::query_as(
            "select catalogue_version_id from catalogue_version where spec_key = $1 and version_number = $2",
        )
        .bind(&new.spec.key)
        .bind(number)
        .fetch_optional(&mut *tx)
        .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "version {number} of {} already exists",
                new.spec.key
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "insert into catalogue_version (spec_key, version_number, status, is_current, ao_code, title, source_name, source_sha256, source_text, specification_json, report_json, open_findings, imported_at, published_at, created_at, updated_at) \
             values ($1, $2, $3, 0, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) returning catalogue_version_id",
        )
        .bind(&new.spec.key)
        .bind(number)
        .bind(new.status)
        .bind(&ao.code)
        .bind(&new.spec.title)
        .bind(new.source_name)
        .bind(new.source_sha256)
        .bind(new.source_text)
        .bind(new.specification_json)
        .bind(new.report_json)
        .bind(new.open_findings)
        .bind(new.imported_at.unwrap_or(&at))
        .bind(new.published_at)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await?;
        if new.status == "published" {
            index_published(&mut tx, id, new.spec).await?;
            refresh_current(&mut tx, &new.spec.key).await?;
        }
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    /// Replace a draft's documents (after corrections). Published versions never change:
    /// updating one is a conflict.
    pub async fn update_draft(
        &self,
        id: i64,
        specification_json: &str,
        report_json: &str,
        open_findings: i64,
    ) -> StoreResult<()> {
        let done = sqlx::query(
            "update catalogue_version set specification_json = $1, report_json = $2, open_findings = $3, updated_at = $4 where catalogue_version_id = $5 and status = 'draft'",
        )
        .bind(specification_json)
        .bind(report_json)
        .bind(open_findings)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return match self.version(id).await? {
                Some(_) => Err(StoreError::Conflict(format!(
                    "catalogue version {id} is published and cannot change: import the specification again to make a new version"
                ))),
                None => Err(StoreError::NotFound),
            };
        }
        Ok(())
    }

    /// Publish a draft: it becomes immutable, is indexed, and becomes the current version of
    /// its specification. One transaction.
    pub async fn publish_version(&self, id: i64, spec: &Specification) -> StoreResult<String> {
        let at = now();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update catalogue_version set status = 'published', published_at = $1, updated_at = $1 where catalogue_version_id = $2 and status = 'draft' and open_findings = 0",
        )
        .bind(&at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            drop(tx);
            return match self.version(id).await? {
                None => Err(StoreError::NotFound),
                Some(v) if v.status == "published" => Err(StoreError::Conflict(format!(
                    "catalogue version {id} is already published"
                ))),
                Some(v) => Err(StoreError::Conflict(format!(
                    "catalogue version {id} still has {} open finding(s): resolve them before publishing",
                    v.open_findings
                ))),
            };
        }
        index_published(&mut tx, id, spec).await?;
        refresh_current(&mut tx, &spec.key).await?;
        self.commit(tx, &[]).await?;
        Ok(at)
    }

    pub async fn versions(&self) -> StoreResult<Vec<VersionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {VERSION_COLUMNS} from catalogue_version order by spec_key, version_number"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn version(&self, id: i64) -> StoreResult<Option<VersionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {VERSION_COLUMNS} from catalogue_version where catalogue_version_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn version_documents(&self, id: i64) -> StoreResult<Option<VersionDocuments>> {
        Ok(sqlx::query_as(
            "select catalogue_version_id, specification_json, report_json, source_text from catalogue_version where catalogue_version_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The current (newest published) version of every specification.
    pub async fn current_versions(&self) -> StoreResult<Vec<VersionRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select {VERSION_COLUMNS} from catalogue_version where is_current = 1 order by ao_code, spec_key"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn awarding_organisations(&self) -> StoreResult<Vec<AoRow>> {
        Ok(
            sqlx::query_as("select ao_code, name from awarding_organisation order by ao_code")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Assessment criteria of the current catalogue whose text contains every word of
    /// `query` (case-insensitive).
    pub async fn search_criteria(
        &self,
        words: &[String],
        limit: i64,
    ) -> StoreResult<Vec<CriterionHit>> {
        let mut sql = String::from(
            "select ac.unit_key, u.ao_ref, u.title as unit_title, u.level, ac.number, ac.text, v.spec_key \
             from assessment_criterion ac \
             join catalogue_version v on v.catalogue_version_id = ac.catalogue_version_id and v.is_current = 1 \
             join unit u on u.catalogue_version_id = ac.catalogue_version_id and u.unit_key = ac.unit_key where 1 = 1",
        );
        for i in 0..words.len() {
            sql.push_str(&format!(" and ac.search_text like ${}", i + 1));
        }
        sql.push_str(&format!(
            " order by v.spec_key, u.ao_ref, ac.number limit ${}",
            words.len() + 1
        ));
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for w in words {
            q = q.bind(format!("%{}%", escape_like(&w.to_lowercase())));
        }
        Ok(q.bind(limit).fetch_all(&self.pool).await?)
    }
}

/// `%` and `_` in a user's words are literal. Both databases treat `\` as the escape only
/// when asked, so the wildcards are removed instead of escaped.
fn escape_like(s: &str) -> String {
    s.replace(['%', '_'], "")
}

async fn index_published(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    spec: &Specification,
) -> StoreResult<()> {
    for q in &spec.qualifications {
        sqlx::query(
            "insert into qualification (catalogue_version_id, qan, title, level, ao_code) values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&q.qan)
        .bind(&q.title)
        .bind(i64::from(q.level))
        .bind(&spec.awarding_organisation.code)
        .execute(&mut **tx)
        .await?;
    }
    for u in &spec.units {
        sqlx::query(
            "insert into unit (catalogue_version_id, unit_key, ao_ref, title, level) values ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&u.key)
        .bind(&u.ao_ref)
        .bind(&u.title)
        .bind(i64::from(u.level))
        .execute(&mut **tx)
        .await?;
        for (number, text) in u.judged_items() {
            sqlx::query(
                "insert into assessment_criterion (catalogue_version_id, unit_key, number, text, search_text) values ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(&u.key)
            .bind(number)
            .bind(text)
            .bind(text.to_lowercase())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// Mark the newest published version of `spec_key` current, and no other.
async fn refresh_current(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    spec_key: &str,
) -> StoreResult<()> {
    sqlx::query("update catalogue_version set is_current = 0 where spec_key = $1")
        .bind(spec_key)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "update catalogue_version set is_current = 1 where catalogue_version_id = (select catalogue_version_id from catalogue_version where spec_key = $1 and status = 'published' order by version_number desc limit 1)",
    )
    .bind(spec_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
