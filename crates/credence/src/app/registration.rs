//! Registering learners at a centre: one at a time, or in bulk from a CSV file. The rules
//! (ULN, age, approval, duplicates) are `credence_domain::people::registration`; this
//! gathers what they check against and stores the result in one transaction.

use super::{App, AppError, AppResult};
use crate::store::NewLearnerRegistration;
use credence_domain::ident::{ProgrammeCode, Qan, UnitRef};
use credence_domain::people::registration::{
    self, NewRegistration, QualificationInfo, RegistrationContext, RegistrationInput,
};
use credence_domain::people::uln::Uln;
use std::collections::{HashMap, HashSet};

/// One learner as typed in the registration page.
#[derive(Default, serde::Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    pub given_name: String,
    #[serde(default)]
    pub family_name: String,
    #[serde(default)]
    pub date_of_birth: String,
    #[serde(default)]
    pub uln: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub qan: String,
    /// A unit on its own (its Ofqual reference), instead of a qualification.
    #[serde(default)]
    pub unit: String,
    /// The units the learner will take (their plan), as references separated by spaces or
    /// commas; empty to choose the plan later.
    #[serde(default)]
    pub units: String,
}

pub enum RegisterError {
    /// (field id, message) for the form.
    Fields(Vec<(String, String)>),
    App(AppError),
}

impl From<AppError> for RegisterError {
    fn from(e: AppError) -> Self {
        RegisterError::App(e)
    }
}

/// What a bulk registration did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct BulkOutcome {
    /// Data rows in the file.
    pub rows: usize,
    /// Rows with at least one error.
    pub bad_rows: usize,
    /// Learners registered (0 when the file had errors and good rows were not chosen).
    pub registered: usize,
    /// Every problem, "row N, column: message", in file order.
    pub errors: Vec<String>,
    /// The learners registered (for inviting them to sign in).
    #[serde(skip)]
    pub learners: Vec<i64>,
}

impl BulkOutcome {
    /// The rows with errors (the header is row 1), in file order, each once.
    pub fn left_out_rows(&self) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .errors
            .iter()
            .filter_map(|e| e.strip_prefix("Row "))
            .filter_map(|e| e.split([',', ':']).next())
            .filter_map(|n| n.trim().parse().ok())
            .collect();
        rows.sort_unstable();
        rows.dedup();
        rows
    }
}

impl App {
    /// What registration checks against, for one centre, today.
    pub async fn registration_context(
        &self,
        centre: i64,
    ) -> AppResult<(RegistrationContext, HashMap<String, i64>)> {
        let cat = self.catalogue().await?;
        let mut qualifications = HashMap::new();
        let mut versions = HashMap::new();
        for (cs, q) in cat.qualifications() {
            if let Ok(qan) = Qan::parse(&q.qan) {
                qualifications.insert(
                    ProgrammeCode::Qualification(qan),
                    QualificationInfo {
                        title: q.title.clone(),
                        minimum_age: q.minimum_age,
                    },
                );
                versions.insert(q.qan.clone(), cs.version.catalogue_version_id);
            }
        }
        // Units on their own, by their Ofqual reference (a qualification of the same
        // specification that lists the unit brings no age limit to the unit alone).
        for (cs, u) in cat.units_on_their_own() {
            if let Some(Ok(r)) = u.ofqual_ref.as_deref().map(UnitRef::parse) {
                versions
                    .entry(r.as_str().to_string())
                    .or_insert(cs.version.catalogue_version_id);
                qualifications
                    .entry(ProgrammeCode::Unit(r))
                    .or_insert(QualificationInfo {
                        title: u.title.clone(),
                        minimum_age: None,
                    });
            }
        }
        let approved: HashSet<ProgrammeCode> = self
            .store
            .approvals(centre)
            .await?
            .into_iter()
            .filter_map(|a| ProgrammeCode::parse(&a.qan).ok())
            .collect();
        let mut ctx = RegistrationContext {
            today: chrono::Utc::now().date_naive(),
            approved,
            qualifications,
            existing: HashSet::new(),
        };
        // Both keys of every existing registration (ULN and name + date of birth), so a
        // learner on record with a ULN is recognised when entered again without one.
        for (uln, given, family, dob, qan) in self.store.centre_registration_keys(centre).await? {
            let (Ok(qan), Ok(dob)) = (ProgrammeCode::parse(&qan), registration::parse_date(&dob))
            else {
                continue;
            };
            let uln = uln.as_deref().and_then(|u| Uln::parse(u).ok());
            ctx.add_existing(uln.as_ref(), &given, &family, dob, &qan);
        }
        Ok((ctx, versions))
    }

    /// A ULN identifies, it does not authorize: the rows whose ULN is on record for a
    /// learner with another family name or date of birth, each with its message.
    async fn identity_mismatches(
        &self,
        rows: &[NewRegistration],
    ) -> AppResult<Vec<(usize, String)>> {
        let ulns: Vec<String> = rows
            .iter()
            .filter_map(|r| r.uln.as_ref().map(|u| u.as_str().to_string()))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if ulns.is_empty() {
            return Ok(Vec::new());
        }
        let on_record: HashMap<String, registration::OnRecord> = self
            .store
            .learners_by_ulns(&ulns)
            .await?
            .into_iter()
            .filter_map(|l| {
                let dob = registration::parse_date(&l.date_of_birth).ok()?;
                Some((
                    l.uln?,
                    registration::OnRecord {
                        family_name: l.family_name,
                        date_of_birth: dob,
                    },
                ))
            })
            .collect();
        Ok(rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let known = on_record.get(r.uln.as_ref()?.as_str())?;
                registration::identity_mismatch(r, known).map(|m| (i, m))
            })
            .collect())
    }

    /// The rows whose `units` (their plan, given at registration) do not meet the
    /// qualification's rules of combination, each with every unmet requirement; the units of
    /// the others become unit keys.
    async fn plan_problems(&self, rows: &mut [NewRegistration]) -> AppResult<Vec<(usize, String)>> {
        if rows.iter().all(|r| r.units.is_empty()) {
            return Ok(Vec::new());
        }
        let cat = self.catalogue().await?;
        let mut out = Vec::new();
        for (i, r) in rows
            .iter_mut()
            .enumerate()
            .filter(|(_, r)| !r.units.is_empty())
        {
            let Some((cs, q)) = cat.programme(r.qan.as_str()) else {
                continue;
            };
            let rc =
                credence_domain::rules::Catalogue::new(std::slice::from_ref(&*q), &cs.spec.units);
            let eval = rc.evaluate(r.qan.as_str(), &r.units)?;
            let mut problems: Vec<String> = eval
                .not_counted
                .iter()
                .map(|n| format!("{}: {}", n.unit, n.reason))
                .collect();
            problems.extend(eval.unmet.iter().map(|u| u.message.clone()));
            if problems.is_empty() {
                r.units = eval.counted.iter().map(|k| k.to_string()).collect();
            } else {
                out.push((
                    i,
                    format!(
                        "these units do not meet the rules of {}: {}",
                        r.qan,
                        problems.join("; ")
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Store the registrations with their audit entry, which names the learners by id.
    async fn store_registrations_audited(
        &self,
        centre: i64,
        valid: &[NewRegistration],
        versions: &HashMap<String, i64>,
        progress: impl FnMut(usize),
        entry: crate::store::AuditDraft,
        task: Option<crate::store::TaskMark>,
    ) -> AppResult<Vec<i64>> {
        let rows: Vec<NewLearnerRegistration> = valid
            .iter()
            .map(|r| NewLearnerRegistration {
                uln: r.uln.as_ref().map(|u| u.as_str().to_string()),
                given_name: r.given_name.clone(),
                family_name: r.family_name.clone(),
                date_of_birth: r.date_of_birth.format("%Y-%m-%d").to_string(),
                email: r.email.clone(),
                qan: r.qan.to_string(),
                catalogue_version_id: versions.get(r.qan.as_str()).copied().unwrap_or_default(),
                // A unit on its own: the learner's plan is that unit.
                units: if r.qan.is_unit() && r.units.is_empty() {
                    vec![r.qan.to_string()]
                } else {
                    r.units.clone()
                },
                plan_by: plan_by(&entry),
            })
            .collect();
        let store = match task {
            Some(task) => self.store.audited(entry).recording_task(task),
            None => self.store.audited(entry),
        };
        Ok(store.register_learners(centre, &rows, progress).await?)
    }

    /// Register one learner typed in the page. Returns the learner's id.
    pub async fn register_one(
        &self,
        scope: &super::authz::CentreScope,
        form: &RegisterForm,
        address: &str,
    ) -> Result<i64, RegisterError> {
        let centre = scope.centre_id();
        let (ctx, versions) = self.registration_context(centre).await?;
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let input = RegistrationInput {
            given_name: form.given_name.clone(),
            family_name: form.family_name.clone(),
            date_of_birth: form.date_of_birth.clone(),
            qan: form.qan.clone(),
            unit: opt(&form.unit),
            uln: opt(&form.uln),
            email: opt(&form.email),
        };
        let mut valid = registration::validate_registration(&input, &ctx).map_err(|errors| {
            RegisterError::Fields(
                errors
                    .into_iter()
                    .map(|e| {
                        let field = e.field.unwrap_or_else(|| "given_name".into());
                        let message = form_wording(&field, &e.message);
                        (field, message)
                    })
                    .collect(),
            )
        })?;
        // Their plan, if chosen now: checked against the qualification's rules.
        valid.units = super::rules::split_units(&form.units);
        if valid.qan.is_unit() && !valid.units.is_empty() {
            return Err(RegisterError::Fields(vec![(
                "units".into(),
                "A unit taken on its own is the learner's whole plan: leave the units empty".into(),
            )]));
        }
        if let Some((_, why)) = self
            .plan_problems(std::slice::from_mut(&mut valid))
            .await?
            .into_iter()
            .next()
        {
            return Err(RegisterError::Fields(vec![(
                "units".into(),
                format!(
                    "{}. Leave it empty to choose the plan later, on the learner's plan page",
                    capitalise(&why)
                ),
            )]));
        }
        if let Some((_, why)) = self
            .identity_mismatches(std::slice::from_ref(&valid))
            .await?
            .into_iter()
            .next()
        {
            return Err(RegisterError::Fields(vec![(
                "uln".into(),
                capitalise(&why),
            )]));
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "learner_registered",
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({"qan": valid.qan.to_string(), "units": valid.units}),
        );
        let ids = self
            .store_registrations_audited(
                centre,
                std::slice::from_ref(&valid),
                &versions,
                |_| {},
                entry,
                None,
            )
            .await?;
        let learner = ids
            .first()
            .copied()
            .ok_or_else(|| AppError::Internal("no learner id returned".into()))?;
        Ok(learner)
    }

    /// Register learners from a CSV file. With errors in the file nothing is registered,
    /// unless `good_rows` asks for the valid rows to be registered anyway.
    pub async fn register_csv(
        &self,
        scope: &super::authz::CentreScope,
        bytes: &[u8],
        good_rows: bool,
        address: &str,
        progress: impl FnMut(usize),
    ) -> AppResult<BulkOutcome> {
        self.register_csv_as_task(scope, bytes, good_rows, address, progress, None)
            .await
    }

    /// [`App::register_csv`] as a long task's write: with `task`, the registrations commit
    /// together with the task's result (`task.result` with the outcome added under
    /// `outcome` and the learners' ids under `learners`), and only while the task's worker
    /// still holds it.
    pub async fn register_csv_as_task(
        &self,
        scope: &super::authz::CentreScope,
        bytes: &[u8],
        good_rows: bool,
        address: &str,
        progress: impl FnMut(usize),
        task: Option<crate::store::TaskMark>,
    ) -> AppResult<BulkOutcome> {
        let centre = scope.centre_id();
        let (ctx, versions) = self.registration_context(centre).await?;
        let batch = registration::parse_registrations(bytes, &ctx);
        if let Some(e) = batch.file_error {
            return Err(AppError::Validation(e));
        }
        let rows = batch.rows.len();
        let mut batch = batch;
        let mut refused: Vec<(usize, &str, String)> = self
            .identity_mismatches(&batch.valid)
            .await?
            .into_iter()
            .map(|(i, why)| (i, "uln", why))
            .collect();
        let plans = self.plan_problems(&mut batch.valid).await?;
        for (i, why) in plans {
            if !refused.iter().any(|(j, _, _)| *j == i) {
                refused.push((
                    i,
                    "units",
                    format!("{why}. Leave the column empty to choose the plan later"),
                ));
            }
        }
        if !refused.is_empty() {
            let drop: HashSet<usize> = refused.iter().map(|(i, _, _)| *i).collect();
            for (i, column, why) in refused {
                let r = &batch.valid[i];
                batch.errors.push(registration::RowError {
                    row: r.row.unwrap_or(0),
                    column: Some(column.into()),
                    value: if column == "uln" {
                        r.uln
                            .as_ref()
                            .map(|u| u.as_str().to_string())
                            .unwrap_or_default()
                    } else {
                        r.units.join(" ")
                    },
                    message: why,
                });
            }
            batch.errors.sort_by_key(|e| e.row);
            let mut k = 0;
            batch.valid.retain(|_| {
                k += 1;
                !drop.contains(&(k - 1))
            });
        }
        let bad: HashSet<usize> = batch.errors.iter().map(|e| e.row).collect();
        let errors: Vec<String> = batch
            .errors
            .iter()
            .map(|e| match &e.column {
                Some(c) => format!("Row {}, {c}: {}", e.row, e.message),
                None => format!("Row {}: {}", e.row, e.message),
            })
            .collect();
        if !errors.is_empty() && !good_rows || batch.valid.is_empty() {
            return Ok(BulkOutcome {
                rows,
                bad_rows: bad.len(),
                registered: 0,
                errors,
                learners: Vec::new(),
            });
        }
        let entry = Self::entry(
            Some(scope.who()),
            Some(address),
            "learners_registered_from_file",
            &format!("centre {centre}"),
            Some(centre),
            None,
            serde_json::json!({"registered": batch.valid.len(), "rows": rows, "rows_with_errors": bad.len(), "with_plans": batch.valid.iter().filter(|r| !r.units.is_empty()).count()}),
        );
        let mut outcome = BulkOutcome {
            rows,
            bad_rows: bad.len(),
            registered: batch.valid.len(),
            errors,
            learners: Vec::new(),
        };
        let task = match task {
            Some(mut task) => {
                if let serde_json::Value::Object(m) = &mut task.result {
                    m.insert("outcome".into(), serde_json::to_value(&outcome)?);
                }
                Some(task)
            }
            None => None,
        };
        outcome.learners = self
            .store_registrations_audited(centre, &batch.valid, &versions, progress, entry, task)
            .await?;
        Ok(outcome)
    }
}

/// The person an audit entry names (`person:ID` or `operator:ID`), as who chose the plans.
fn plan_by(entry: &crate::store::AuditDraft) -> Option<i64> {
    let who = entry.actor.as_deref()?;
    who.strip_prefix("person:")
        .or_else(|| who.strip_prefix("operator:"))?
        .parse()
        .ok()
}

/// A field's message as the one-learner form says it: the field named as the form labels it
/// ("Enter the learner's given name", not "given_name is missing"), which a CSV file's
/// report keeps for its columns.
pub fn form_wording(field: &str, message: &str) -> String {
    if message.starts_with(&format!("{field} is missing")) {
        let says = match field {
            "given_name" => "Enter the learner's given name",
            "family_name" => "Enter the learner's family name",
            "date_of_birth" => "Enter the learner's date of birth, for example 27/03/2001",
            "qan" => "Choose the qualification",
            "uln" => "Enter the learner's Unique Learner Number (ULN), or leave it empty",
            "email" => "Enter the learner's email address, or leave it empty",
            _ => "",
        };
        if !says.is_empty() {
            return says.into();
        }
    }
    capitalise(message)
}

/// Messages start with a capital letter on a page.
fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
