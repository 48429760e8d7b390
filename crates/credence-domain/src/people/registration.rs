//! Registering learners on a qualification, or on a unit on its own: one at a time ([`validate_registration`]) or in bulk
//! from a CSV file ([`parse_registrations`]), with every problem of every row named.
//!
//! # The CSV file
//! A header row, then one row per learner. Header names are matched ignoring case, surrounding
//! spaces, and spaces or dashes for underscores, in any order; unknown columns are ignored.
//!
//! | column | | also accepted as |
//! |---|---|---|
//! | `given_name` | required | `first_name`, `forename`, `forenames`, `given_names`, `firstname` |
//! | `family_name` | required | `last_name`, `surname`, `lastname` |
//! | `date_of_birth` | required | `dob`, `birth_date`; values `YYYY-MM-DD` or `DD/MM/YYYY` |
//! | `qan` | required, unless `unit` is given | `qualification_number` |
//! | `unit` | a unit on its own, instead of `qan`: its Ofqual reference (`H/502/8599`) | `unit_reference`, `unit_ref`, `ofqual_unit_reference` |
//! | `uln` | optional | `unique_learner_number` |
//! | `email` | optional | `email_address`, `e_mail` |
//!
//! Rows are numbered as a spreadsheet shows them: the header is row 1, the first learner row 2
//! (blank lines count, a quoted value over several lines does not). Wholly empty rows are skipped.
//! A UTF-8 byte order mark (Excel's "CSV UTF-8") is ignored; a header without commas but with
//! semicolons or tabs switches to that separator.
//!
//! # Who is a duplicate
//! A learner is known by their ULN when they have one, otherwise by their name and date of birth
//! (ignoring case and spacing) — see [`LearnerKey`]. Within a file, a row without a ULN also
//! matches an earlier row with a ULN but the same name and date of birth, and a row with a ULN
//! matches an earlier row without one in the same way. Against the centre's existing
//! registrations ([`RegistrationContext::existing`]) a row with a ULN is matched by its ULN, a row
//! without by name and date of birth; [`RegistrationContext::add_existing`] records both keys.
//!
//! # Ages
//! The age on `today` is in whole years; someone born on 29 February turns a year older on
//! 1 March in years without one.

use crate::ident::{ProgrammeCode, UnitRef};
use crate::people::uln::Uln;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// What Credence knows about a qualification when registering on it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualificationInfo {
    /// The title as on the certificate.
    pub title: String,
    /// The age approval: `Some(18)` for "18 plus"; `None` when there is none.
    pub minimum_age: Option<u8>,
}

/// How a learner is recognised as the same person: their ULN, or failing that their name and
/// date of birth, normalised (lower case, single spaces).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LearnerKey {
    Uln {
        uln: Uln,
    },
    Person {
        given_name: String,
        family_name: String,
        #[serde(with = "super::iso_date")]
        #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
        date_of_birth: NaiveDate,
    },
}

/// Lower case with runs of whitespace made one space, trimmed.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        for c in word.chars() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Runs of whitespace made one space, trimmed (case kept).
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, word) in s.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

impl LearnerKey {
    pub fn uln(uln: &Uln) -> LearnerKey {
        LearnerKey::Uln { uln: uln.clone() }
    }
    /// The key by name and date of birth, normalised.
    pub fn person(given_name: &str, family_name: &str, date_of_birth: NaiveDate) -> LearnerKey {
        LearnerKey::Person {
            given_name: normalise(given_name),
            family_name: normalise(family_name),
            date_of_birth,
        }
    }
}

impl fmt::Display for LearnerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LearnerKey::Uln { uln } => write!(f, "ULN {uln}"),
            LearnerKey::Person {
                given_name,
                family_name,
                date_of_birth,
            } => write!(
                f,
                "{given_name} {family_name} born {}",
                uk_day(*date_of_birth)
            ),
        }
    }
}

/// Everything registration checks against, gathered by the caller for one centre.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistrationContext {
    /// The date ages and "in the future" are judged on.
    #[serde(with = "super::iso_date")]
    pub today: NaiveDate,
    /// The qualifications this centre is approved for.
    pub approved: HashSet<ProgrammeCode>,
    /// Every qualification Credence knows (at the published version).
    pub qualifications: HashMap<ProgrammeCode, QualificationInfo>,
    /// Registrations already at this centre: see [`RegistrationContext::add_existing`].
    pub existing: HashSet<(LearnerKey, ProgrammeCode)>,
}

impl RegistrationContext {
    pub fn new(today: NaiveDate) -> RegistrationContext {
        RegistrationContext {
            today,
            ..RegistrationContext::default()
        }
    }

    /// Adds a qualification Credence knows, and whether this centre is approved for it.
    pub fn add_qualification(
        &mut self,
        qan: ProgrammeCode,
        info: QualificationInfo,
        approved: bool,
    ) {
        if approved {
            self.approved.insert(qan.clone());
        }
        self.qualifications.insert(qan, info);
    }

    /// Records an existing registration under every key it may be matched by: its ULN when it
    /// has one, and its name and date of birth.
    pub fn add_existing(
        &mut self,
        uln: Option<&Uln>,
        given_name: &str,
        family_name: &str,
        date_of_birth: NaiveDate,
        qan: &ProgrammeCode,
    ) {
        if let Some(u) = uln {
            self.existing.insert((LearnerKey::uln(u), qan.clone()));
        }
        self.existing.insert((
            LearnerKey::person(given_name, family_name, date_of_birth),
            qan.clone(),
        ));
    }
}

/// A registration that passed every check, ready to store.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRegistration {
    /// The spreadsheet row it came from; `None` when entered in the page.
    pub row: Option<usize>,
    /// As entered, with surrounding and repeated spaces removed.
    pub given_name: String,
    pub family_name: String,
    #[serde(with = "super::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date_of_birth: NaiveDate,
    pub uln: Option<Uln>,
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "610/3788/6"))]
    pub qan: ProgrammeCode,
    pub qualification_title: String,
    /// The units the learner will take (their plan), as given in the file's optional
    /// `units` column (references separated by spaces, commas or semicolons). Checked
    /// against the qualification's rules of combination where the catalogue is at hand.
    #[serde(default)]
    pub units: Vec<String>,
}

impl NewRegistration {
    /// The key the learner is best known by: the ULN if any, else name and date of birth.
    pub fn learner_key(&self) -> LearnerKey {
        match &self.uln {
            Some(u) => LearnerKey::uln(u),
            None => self.person_key(),
        }
    }
    /// The key by name and date of birth.
    pub fn person_key(&self) -> LearnerKey {
        LearnerKey::person(&self.given_name, &self.family_name, self.date_of_birth)
    }
}

/// One registration as typed in the page: all text, as the form sends it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistrationInput {
    pub given_name: String,
    pub family_name: String,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`.
    pub date_of_birth: String,
    /// The qualification's QAN; empty when registering on a unit on its own.
    #[serde(default)]
    pub qan: String,
    /// A unit on its own, by its Ofqual unit reference (`H/502/8599`), instead of a QAN.
    #[serde(default)]
    pub unit: Option<String>,
    /// Empty or absent when the learner has no ULN.
    #[serde(default)]
    pub uln: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A problem with one field (or, when `field` is `None`, with the registration as a whole).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field (`given_name`, `family_name`, `date_of_birth`, `qan`, `uln`, `email`).
    pub field: Option<String>,
    /// The value as given.
    pub value: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// A problem with one row of a file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The spreadsheet row (the header is row 1).
    pub row: usize,
    /// The column, by its canonical name; `None` for the row as a whole (duplicates).
    pub column: Option<String>,
    pub value: String,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "row {}, {c}: {}", self.row, self.message),
            None => write!(f, "row {}: {}", self.row, self.message),
        }
    }
}

/// What became of one row.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RowOutcome {
    /// Passed every check: `valid[index]`.
    Valid { index: usize },
    /// Failed: this many entries of `errors` carry its row number.
    Invalid { errors: usize },
}

/// One non-empty data row of a file.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowResult {
    pub row: usize,
    pub outcome: RowOutcome,
}

/// The result of checking a whole file. Nothing here is registered yet: the caller registers
/// `valid` only if `errors` is empty, or if the administrator chooses to register the good rows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistrationBatch {
    /// Every non-empty data row, in file order.
    pub rows: Vec<RowResult>,
    /// The rows that passed, in file order.
    pub valid: Vec<NewRegistration>,
    /// Every problem of every row, in row order.
    pub errors: Vec<RowError>,
    /// A problem with the file as a whole (then `rows` is empty).
    pub file_error: Option<String>,
}

impl RegistrationBatch {
    /// No file error, no row errors, at least one learner.
    pub fn is_clean(&self) -> bool {
        self.file_error.is_none() && self.errors.is_empty() && !self.valid.is_empty()
    }
    /// How many rows have at least one error.
    pub fn rows_with_errors(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| matches!(r.outcome, RowOutcome::Invalid { .. }))
            .count()
    }
    /// One line for the top of the page: "3 learners: 2 ready to register, 1 row with errors
    /// (4 problems)".
    pub fn summary(&self) -> String {
        if let Some(e) = &self.file_error {
            return e.clone();
        }
        let n = self.rows.len();
        let bad = self.rows_with_errors();
        let learners = plural(n, "learner", "learners");
        if bad == 0 {
            return format!("{learners}: all ready to register");
        }
        format!(
            "{learners}: {} ready to register, {} with errors ({})",
            self.valid.len(),
            plural(bad, "row", "rows"),
            plural(self.errors.len(), "problem", "problems")
        )
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The required columns, by canonical name.
pub const REQUIRED_COLUMNS: [&str; 4] = ["given_name", "family_name", "date_of_birth", "qan"];
/// The optional columns, by canonical name.
pub const OPTIONAL_COLUMNS: [&str; 2] = ["uln", "email"];

/// A file to download and fill in.
pub fn template_csv() -> &'static str {
    "given_name,family_name,date_of_birth,qan,uln,email\n\
     Jane,Smith,2001-02-28,610/3788/6,1234567899,jane.smith@example.org\n"
}

// ---------------------------------------------------------------------------------------------
// Checking one registration.

const GIVEN: &str = "given_name";
const FAMILY: &str = "family_name";
const DOB: &str = "date_of_birth";
const QAN: &str = "qan";
const UNIT: &str = "unit";
const ULN: &str = "uln";
const EMAIL: &str = "email";

/// The fields of one registration as text, trimmed.
#[derive(Clone, Copy)]
struct Raw<'a> {
    given: &'a str,
    family: &'a str,
    dob: &'a str,
    qan: &'a str,
    /// The column the code came from: `qan`, or `unit` for a unit on its own.
    code_field: &'static str,
    uln: &'a str,
    email: &'a str,
}

/// What the QAN text says, worked out once per distinct text.
#[derive(Clone)]
struct QanJudgement<'c> {
    qan: Option<ProgrammeCode>,
    info: Option<&'c QualificationInfo>,
    /// At most one problem: invalid, unknown or not approved.
    problem: Option<String>,
}

fn judge_qan<'c>(raw: &str, as_unit: bool, ctx: &'c RegistrationContext) -> QanJudgement<'c> {
    let none = |problem: String| QanJudgement {
        qan: None,
        info: None,
        problem: Some(problem),
    };
    if raw.is_empty() {
        return none(
            "qan is missing: give the qualification's QAN as NNN/NNNN/C, e.g. 610/3788/6 (or, for a unit on its own, its Ofqual unit reference in the unit column, e.g. H/502/8599)"
                .into(),
        );
    }
    let parsed = if as_unit {
        UnitRef::parse(raw)
            .map(ProgrammeCode::Unit)
            .map_err(|e| format!("{e}; copy the unit's Ofqual reference from its specification"))
    } else {
        ProgrammeCode::parse(raw)
            .map_err(|e| format!("{e}; copy the QAN from the qualification's specification"))
    };
    let qan = match parsed {
        Ok(q) => q,
        Err(problem) => return none(problem),
    };
    let Some(info) = ctx.qualifications.get(&qan) else {
        let problem = match &qan {
            ProgrammeCode::Qualification(_) => format!(
                "{qan} is not a qualification in Credence's catalogue: check the QAN, or ask the awarding organisation whether it is published"
            ),
            ProgrammeCode::Unit(_) => format!(
                "unit {qan} is not offered on its own in Credence's catalogue: check the unit reference, or ask the awarding organisation whether it is published"
            ),
        };
        return QanJudgement {
            qan: Some(qan),
            info: None,
            problem: Some(problem),
        };
    };
    let problem = (!ctx.approved.contains(&qan)).then(|| {
        format!(
            "this centre is not approved for {} ({}): ask the awarding organisation to approve the centre for it before registering learners",
            qan.describe(),
            info.title
        )
    });
    QanJudgement {
        qan: Some(qan),
        info: Some(info),
        problem,
    }
}

/// The fields that parsed, for building the registration and its keys.
struct Checked {
    given: String,
    family: String,
    dob: Option<NaiveDate>,
    uln: Option<Uln>,
    email: Option<String>,
}

fn push(errs: &mut Vec<FieldError>, field: Option<&str>, value: &str, message: String) {
    errs.push(FieldError {
        field: field.map(str::to_string),
        value: value.to_string(),
        message,
    });
}

/// Checks every field on its own (not duplicates), pushing every problem.
fn check_fields(
    raw: Raw<'_>,
    qan: &QanJudgement<'_>,
    today: NaiveDate,
    errs: &mut Vec<FieldError>,
) -> Checked {
    if raw.given.is_empty() {
        push(
            errs,
            Some(GIVEN),
            raw.given,
            "given_name is missing: give the learner's given (first) name".into(),
        );
    }
    if raw.family.is_empty() {
        push(
            errs,
            Some(FAMILY),
            raw.family,
            "family_name is missing: give the learner's family name (surname)".into(),
        );
    }
    let dob = if raw.dob.is_empty() {
        push(
            errs,
            Some(DOB),
            raw.dob,
            "date_of_birth is missing: give the learner's date of birth as YYYY-MM-DD or DD/MM/YYYY"
                .into(),
        );
        None
    } else {
        match parse_date(raw.dob) {
            Err(m) => {
                push(errs, Some(DOB), raw.dob, m);
                None
            }
            Ok(d) if d > today => {
                push(
                    errs,
                    Some(DOB),
                    raw.dob,
                    format!(
                        "'{}' is after today ({}): a date of birth cannot be in the future; check the year",
                        raw.dob,
                        uk_day(today)
                    ),
                );
                None
            }
            Ok(d) => {
                let age = age_on(d, today);
                if age > 120 {
                    push(
                        errs,
                        Some(DOB),
                        raw.dob,
                        format!(
                            "'{}' would make the learner {age} years old: check the year",
                            raw.dob
                        ),
                    );
                } else if let (Some(min), Some(q)) =
                    (qan.info.and_then(|i| i.minimum_age), &qan.qan)
                    && age < i32::from(min)
                {
                    push(
                        errs,
                        Some(DOB),
                        raw.dob,
                        format!(
                            "the learner is {age} on {}; {q} is approved for learners aged {min} and over (they turn {min} on {})",
                            uk_day(today),
                            uk_day(turns(d, min))
                        ),
                    );
                }
                Some(d)
            }
        }
    };
    if let Some(p) = &qan.problem {
        push(errs, Some(raw.code_field), raw.qan, p.clone());
    }
    let uln = if raw.uln.is_empty() {
        None
    } else {
        match Uln::parse(raw.uln) {
            Ok(u) => Some(u),
            Err(e) => {
                push(
                    errs,
                    Some(ULN),
                    raw.uln,
                    format!("{e}; or leave the ULN empty if the learner has none"),
                );
                None
            }
        }
    };
    let email = if raw.email.is_empty() {
        None
    } else if looks_like_email(raw.email) {
        Some(raw.email.to_string())
    } else {
        push(
            errs,
            Some(EMAIL),
            raw.email,
            format!(
                "'{}' is not an email address: write it as name@example.org, or leave it empty",
                raw.email
            ),
        );
        None
    };
    Checked {
        given: tidy(raw.given),
        family: tidy(raw.family),
        dob,
        uln,
        email,
    }
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The learner's age in whole years on `today`.
pub fn age_on(date_of_birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - date_of_birth.year();
    if (today.month(), today.day()) < (date_of_birth.month(), date_of_birth.day()) {
        age -= 1;
    }
    age
}

/// The day someone born on `dob` turns `age` (29 February birthdays: 1 March in other years).
fn turns(dob: NaiveDate, age: u8) -> NaiveDate {
    let y = dob.year() + i32::from(age);
    NaiveDate::from_ymd_opt(y, dob.month(), dob.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, 3, 1))
        .unwrap_or(dob)
}

/// A day as people in the UK write it: "1 December 2026".
pub fn uk_day(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), MONTHS[d.month0() as usize], d.year())
}

/// The months' names, January first.
pub const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses a date of birth as admins type it: `YYYY-MM-DD` (also with `/` or `.`), or day first
/// `DD/MM/YYYY` (also `D/M/YYYY`, and with `-` or `.`). The error says what is wrong.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    let form = || {
        format!(
            "'{t}' is not a date in a form Credence reads: write YYYY-MM-DD (2001-02-28) or DD/MM/YYYY (28/02/2001)"
        )
    };
    let Some(sep) = t.chars().find(|c| !c.is_ascii_digit()) else {
        return Err(form());
    };
    if !matches!(sep, '-' | '/' | '.') {
        return Err(form());
    }
    let mut parts = t.split(sep);
    let (Some(a), Some(b), Some(c), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(form());
    };
    let (Some(na), Some(nb), Some(nc)) = (digits(a), digits(b), digits(c)) else {
        return Err(form());
    };
    let (y, m, d, day_first) = if a.len() == 4
        && (1..=2).contains(&b.len())
        && (1..=2).contains(&c.len())
    {
        (na, nb, nc, false)
    } else if c.len() == 4 && (1..=2).contains(&a.len()) && (1..=2).contains(&b.len()) {
        (nc, nb, na, true)
    } else if c.len() == 2 && (1..=2).contains(&a.len()) && (1..=2).contains(&b.len()) {
        return Err(format!(
            "'{t}' has a two-digit year: write the year in full, e.g. {a}{sep}{b}{sep}19{c} or {a}{sep}{b}{sep}20{c}"
        ));
    } else {
        return Err(form());
    };
    if !(1..=12).contains(&m) {
        if day_first && (1..=12).contains(&d) {
            return Err(format!(
                "'{t}' has no month {m}: dates are read day first (DD/MM/YYYY); it looks month first, so swap the day and the month"
            ));
        }
        return Err(format!("'{t}' is not a date: there is no month {m}"));
    }
    let year = i32::try_from(y).map_err(|_| form())?;
    NaiveDate::from_ymd_opt(year, m, d).ok_or_else(|| {
        let name = usize::try_from(m - 1)
            .ok()
            .and_then(|i| MONTHS.get(i))
            .copied()
            .unwrap_or("that month");
        format!("'{t}' is not a real date: {name} {y} has no day {d}")
    })
}

/// Checks one registration typed in the page against `ctx`, including whether it is already
/// registered at the centre. Every problem is returned, not just the first.
pub fn validate_registration(
    input: &RegistrationInput,
    ctx: &RegistrationContext,
) -> Result<NewRegistration, Vec<FieldError>> {
    let unit = input.unit.as_deref().unwrap_or("").trim();
    let as_unit = input.qan.trim().is_empty() && !unit.is_empty();
    let raw = Raw {
        given: input.given_name.trim(),
        family: input.family_name.trim(),
        dob: input.date_of_birth.trim(),
        qan: if as_unit { unit } else { input.qan.trim() },
        code_field: if as_unit { UNIT } else { QAN },
        uln: input.uln.as_deref().unwrap_or("").trim(),
        email: input.email.as_deref().unwrap_or("").trim(),
    };
    let judged = judge_qan(raw.qan, as_unit, ctx);
    let mut errs = Vec::new();
    if !as_unit && !unit.is_empty() {
        push(
            &mut errs,
            Some(UNIT),
            unit,
            "give either a qualification (qan) or a unit on its own (unit), not both".into(),
        );
    }
    let checked = check_fields(raw, &judged, ctx.today, &mut errs);
    let keys = keys_of(&checked);
    if let (Some(q), Some(key)) = (&judged.qan, keys.primary()) {
        let probe = (key, q.clone());
        if ctx.existing.contains(&probe) {
            push(
                &mut errs,
                None,
                &probe.0.to_string(),
                already_registered(&probe.0, q),
            );
        }
    }
    match build(checked, &judged, None) {
        Some(reg) if errs.is_empty() => Ok(reg),
        _ => Err(errs),
    }
}

fn already_registered(key: &LearnerKey, qan: &ProgrammeCode) -> String {
    let qan = qan.describe();
    match key {
        LearnerKey::Uln { uln } => format!(
            "the learner with ULN {uln} is already registered on {qan} at this centre: leave this registration out"
        ),
        LearnerKey::Person { .. } => format!(
            "a learner with the same name and date of birth is already registered on {qan} at this centre: leave this registration out, or give the learner's ULN if they are a different person"
        ),
    }
}

struct Keys {
    uln: Option<LearnerKey>,
    person: Option<LearnerKey>,
}

impl Keys {
    fn primary(&self) -> Option<LearnerKey> {
        self.uln.clone().or_else(|| self.person.clone())
    }
}

fn keys_of(c: &Checked) -> Keys {
    Keys {
        uln: c.uln.as_ref().map(LearnerKey::uln),
        person: match c.dob {
            Some(d) if !c.given.is_empty() && !c.family.is_empty() => {
                Some(LearnerKey::person(&c.given, &c.family, d))
            }
            _ => None,
        },
    }
}

fn build(c: Checked, q: &QanJudgement<'_>, row: Option<usize>) -> Option<NewRegistration> {
    let (Some(dob), Some(qan), Some(info)) = (c.dob, &q.qan, q.info) else {
        return None;
    };
    if c.given.is_empty() || c.family.is_empty() {
        return None;
    }
    Some(NewRegistration {
        row,
        given_name: c.given,
        family_name: c.family,
        date_of_birth: dob,
        uln: c.uln,
        email: c.email,
        qan: qan.clone(),
        qualification_title: info.title.clone(),
        units: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------------
// The CSV file.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Given,
    Family,
    Dob,
    Qan,
    Uln,
    Email,
    Units,
    Unit,
}

impl Field {
    fn canonical(self) -> &'static str {
        match self {
            Field::Given => GIVEN,
            Field::Family => FAMILY,
            Field::Dob => DOB,
            Field::Qan => QAN,
            Field::Uln => ULN,
            Field::Email => EMAIL,
            Field::Units => "units",
            Field::Unit => UNIT,
        }
    }
    fn of_header(h: &str) -> Option<Field> {
        let mut n = String::with_capacity(h.len());
        for c in h.trim().chars() {
            match c {
                ' ' | '-' => n.push('_'),
                c => n.extend(c.to_lowercase()),
            }
        }
        Some(match n.as_str() {
            "given_name" | "given_names" | "first_name" | "firstname" | "forename"
            | "forenames" => Field::Given,
            "family_name" | "last_name" | "lastname" | "surname" => Field::Family,
            "date_of_birth" | "dob" | "birth_date" => Field::Dob,
            "qan" | "qualification_number" => Field::Qan,
            "uln" | "unique_learner_number" => Field::Uln,
            "email" | "email_address" | "e_mail" => Field::Email,
            "units" | "unit_references" | "plan" | "learning_plan" => Field::Units,
            "unit" | "unit_reference" | "unit_ref" | "ofqual_unit_reference" => Field::Unit,
            _ => return None,
        })
    }
}

const ALL_FIELDS: [Field; 8] = [
    Field::Given,
    Field::Family,
    Field::Dob,
    Field::Qan,
    Field::Uln,
    Field::Email,
    Field::Units,
    Field::Unit,
];

fn file_error(message: String) -> RegistrationBatch {
    RegistrationBatch {
        file_error: Some(message),
        ..RegistrationBatch::default()
    }
}

const SAVE_AS: &str = "in Excel use File > Save As and choose \"CSV UTF-8 (Comma delimited)\"";

/// A problem visible before reading any row: empty, not text, not UTF-8.
fn sniff(bytes: &[u8]) -> Result<&str, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(
            "The file is empty: it needs a header row (given_name, family_name, date_of_birth, qan, and optionally uln and email) and then one row per learner"
                .into(),
        );
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(format!(
            "This is a spreadsheet workbook (.xlsx or .ods), not a CSV file: {SAVE_AS}, then upload that file"
        ));
    }
    if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(format!(
            "This is an old Excel workbook (.xls), not a CSV file: {SAVE_AS}, then upload that file"
        ));
    }
    if bytes.starts_with(b"%PDF") {
        return Err("This is a PDF, not a CSV file: upload the spreadsheet saved as CSV".into());
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(format!(
            "This file is saved as Unicode (UTF-16) text, which Credence does not read: {SAVE_AS}"
        ));
    }
    if bytes.contains(&0) {
        return Err(format!(
            "This is not a text file (it contains binary data): upload the learners as a CSV file; {SAVE_AS}"
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        format!(
            "The file is not UTF-8 text (the first character Credence cannot read is on line {line}, often an accented letter or a £ sign): {SAVE_AS}, then upload it again"
        )
    })
}

/// The separator: a comma, unless the header line has none but has semicolons or tabs.
fn separator(text: &str) -> u8 {
    let header = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    if header.contains(',') {
        b','
    } else if header.contains(';') {
        b';'
    } else if header.contains('\t') {
        b'\t'
    } else {
        b','
    }
}

/// Checks a whole CSV file of registrations against `ctx`. One pass over the rows, with hash
/// lookups for duplicates: linear in the size of the file.
pub fn parse_registrations(bytes: &[u8], ctx: &RegistrationContext) -> RegistrationBatch {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match sniff(bytes) {
        Ok(t) => t,
        Err(m) => return file_error(m),
    };
    let sep = separator(text);
    let (sep_text, sep_name) = match sep {
        b';' => (";", "semicolon"),
        b'\t' => ("\t", "tab"),
        _ => (",", "comma"),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sep)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();

    // The header.
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            return file_error(
                "The file is empty: it needs a header row and then one row per learner".into(),
            );
        }
        Err(e) => return file_error(format!("The file cannot be read as CSV ({e}): {SAVE_AS}")),
    }
    let mut extra_lines = newlines_in(&record);
    let header_len = record.len();
    let mut index: [Option<usize>; ALL_FIELDS.len()] = [None; ALL_FIELDS.len()];
    for (col, h) in record.iter().enumerate() {
        let Some(f) = Field::of_header(h) else {
            continue;
        };
        let slot = &mut index[f as usize];
        if let Some(first) = *slot {
            return file_error(format!(
                "The header has two {} columns (columns {} and {}): keep one of them",
                f.canonical(),
                first + 1,
                col + 1
            ));
        }
        *slot = Some(col);
    }
    // A `unit` column stands in for `qan` (registrations on a unit on its own).
    let has_unit = index[Field::Unit as usize].is_some();
    let missing: Vec<&str> = ALL_FIELDS[..4]
        .iter()
        .filter(|f| index[**f as usize].is_none() && !(**f == Field::Qan && has_unit))
        .map(|f| f.canonical())
        .collect();
    if !missing.is_empty() {
        let found: Vec<String> = record
            .iter()
            .filter(|h| !h.trim().is_empty())
            .map(|h| format!("'{}'", h.trim()))
            .collect();
        let what = if missing.len() == 1 {
            format!("no {} column", missing[0])
        } else {
            format!("no {} columns", join_and(&missing))
        };
        let found = if found.is_empty() {
            "the first row is empty".to_string()
        } else {
            format!("the first row has {}", found.join(", "))
        };
        return file_error(format!(
            "The file has {what}: the first row must be a header naming given_name, family_name, date_of_birth and qan (or unit, for a unit on its own; uln, email and units are optional); {found}"
        ));
    }

    let mut batch = RegistrationBatch::default();
    let mut qans: HashMap<String, QanJudgement<'_>> = HashMap::new();
    let mut seen = Seen::new();
    let mut errs: Vec<FieldError> = Vec::new();
    // Absent optional columns read as empty.
    let col = |f: Field| index[f as usize].unwrap_or(usize::MAX);
    let (ig, ifa, id, iq, iu, ie) = (
        col(Field::Given),
        col(Field::Family),
        col(Field::Dob),
        col(Field::Qan),
        col(Field::Uln),
        col(Field::Email),
    );
    let iunits = col(Field::Units);
    let iunit = col(Field::Unit);

    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                batch.file_error = Some(format!(
                    "The file cannot be read as CSV from line {line} ({e}): {SAVE_AS}"
                ));
                batch.rows.clear();
                batch.valid.clear();
                batch.errors.clear();
                return batch;
            }
        }
        let row = first_line(text, &record).saturating_sub(extra_lines);
        extra_lines += newlines_in(&record);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let as_unit = field(iq).is_empty() && !field(iunit).is_empty();
        let raw = Raw {
            given: field(ig),
            family: field(ifa),
            dob: field(id),
            qan: if as_unit { field(iunit) } else { field(iq) },
            code_field: if as_unit { UNIT } else { QAN },
            uln: field(iu),
            email: field(ie),
        };
        errs.clear();
        if !as_unit && !field(iunit).is_empty() {
            push(
                &mut errs,
                Some(UNIT),
                field(iunit),
                "give either a qualification (qan) or a unit on its own (unit) on each row, not both"
                    .into(),
            );
        }
        if record.len() > header_len && record.iter().skip(header_len).any(|f| !f.trim().is_empty())
        {
            let extra: Vec<&str> = record.iter().skip(header_len).collect();
            push(
                &mut errs,
                None,
                &extra.join(sep_text),
                format!(
                    "this row has {} values but the header has {header_len} columns: a value containing a {} must be in double quotes",
                    record.len(),
                    sep_name
                ),
            );
        }
        let memo = format!("{}\u{0}{}", raw.code_field, raw.qan);
        if !qans.contains_key(&memo) {
            qans.insert(memo.clone(), judge_qan(raw.qan, as_unit, ctx));
        }
        let Some(judged) = qans.get(&memo) else {
            continue;
        };
        let checked = check_fields(raw, judged, ctx.today, &mut errs);
        let keys = keys_of(&checked);
        if let Some(q) = &judged.qan {
            duplicates(row, keys, q, ctx, &mut seen, &mut errs);
        }
        let units: Vec<String> = field(iunits)
            .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect();
        let reg = build(checked, judged, Some(row)).map(|mut r| {
            r.units = units;
            r
        });
        match reg {
            Some(reg) if errs.is_empty() => {
                batch.rows.push(RowResult {
                    row,
                    outcome: RowOutcome::Valid {
                        index: batch.valid.len(),
                    },
                });
                batch.valid.push(reg);
            }
            _ => {
                batch.rows.push(RowResult {
                    row,
                    outcome: RowOutcome::Invalid { errors: errs.len() },
                });
                batch.errors.extend(errs.drain(..).map(|e| RowError {
                    row,
                    column: e.field,
                    value: e.value,
                    message: e.message,
                }));
            }
        }
    }
    if batch.rows.is_empty() {
        return file_error(
            "The file has a header row but no learners: add one row per learner below the header"
                .into(),
        );
    }
    batch
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The line a record starts on. The reader's position is where it began looking, before any
/// blank lines it skipped; those lines are counted here.
fn first_line(text: &str, record: &csv::StringRecord) -> usize {
    let Some(p) = record.position() else {
        return 0;
    };
    let start = usize::try_from(p.byte()).unwrap_or(usize::MAX);
    let skipped = text
        .as_bytes()
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .filter(|&&b| b == b'\n')
        .count();
    usize::try_from(p.line())
        .unwrap_or(usize::MAX)
        .saturating_add(skipped)
}

fn newlines_in(record: &csv::StringRecord) -> usize {
    record
        .iter()
        .map(|f| f.bytes().filter(|&b| b == b'\n').count())
        .sum()
}

/// Duplicate checks of one row: against the centre's registrations and earlier rows.
fn duplicates(
    row: usize,
    keys: Keys,
    qan: &ProgrammeCode,
    ctx: &RegistrationContext,
    seen: &mut Seen,
    errs: &mut Vec<FieldError>,
) {
    let Keys { uln, person } = keys;
    let has_uln = uln.is_some();
    let in_qan = match seen.get_mut(qan) {
        Some(m) => m,
        None => seen.entry(qan.clone()).or_default(),
    };
    if let Some(primary) = uln.as_ref().or(person.as_ref()) {
        // Against the centre's existing registrations: by ULN if any, else by name and birth
        // date.
        if !ctx.existing.is_empty() && ctx.existing.contains(&(primary.clone(), qan.clone())) {
            push(
                errs,
                None,
                &primary.to_string(),
                already_registered(primary, qan),
            );
        }
        // Against earlier rows.
        let mut earlier = in_qan.get(primary).map(|&(r, _)| (r, primary));
        if earlier.is_none()
            && has_uln
            && let Some(p) = &person
            && let Some(&(r, false)) = in_qan.get(p)
        {
            // A row with a ULN matches an earlier row without one by name and birth date.
            earlier = Some((r, p));
        }
        if let Some((r, key)) = earlier {
            let why = match key {
                LearnerKey::Uln { uln } => format!("the same ULN {uln}"),
                LearnerKey::Person { .. } => "the same name and date of birth".to_string(),
            };
            push(
                errs,
                None,
                &key.to_string(),
                format!(
                    "this row repeats row {r}: {why} on {}; remove one of the two rows",
                    qan.describe()
                ),
            );
        }
    }
    for key in [uln, person].into_iter().flatten() {
        in_qan.entry(key).or_insert((row, has_uln));
    }
}

/// Rows seen so far, per QAN: learner key -> (earliest row, whether that row had a ULN).
type Seen = HashMap<ProgrammeCode, HashMap<LearnerKey, (usize, bool)>>;

// ---------------------------------------------------------------------------------------------
// Synthetic data.

const SYNTH_GIVEN: [&str; 16] = [
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo", "Freya",
    "Oscar", "Lily", "Harry", "Grace", "Muhammad",
];
const SYNTH_FAMILY: [&str; 16] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel",
    "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "O'Neill",
];

/// `n` valid registration rows (header included) on `qan`, each learner with a distinct valid
/// ULN, aged 19 to 58 on `today`; every third date of birth is written day first. For
/// benchmarks and demo data.
pub fn synthetic_csv(n: usize, qan: &str, today: NaiveDate) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64 + n * 80);
    out.push_str("given_name,family_name,date_of_birth,qan,uln,email\n");
    let mut base: u64 = 100_000_000;
    for i in 0..n {
        let uln = loop {
            let nine = base.to_string();
            base += 1;
            if let Some(u) = super::uln::uln_with_check_digit(&nine) {
                break u;
            }
        };
        let years = 19 + u32::try_from(i % 40).unwrap_or(0);
        let dob = today
            .checked_sub_months(Months::new(12 * years))
            .and_then(|d| d.checked_sub_days(Days::new((i % 360) as u64)))
            .unwrap_or(today);
        let given = SYNTH_GIVEN[i % SYNTH_GIVEN.len()];
        let family = SYNTH_FAMILY[(i / SYNTH_GIVEN.len()) % SYNTH_FAMILY.len()];
        let date = if i % 3 == 2 {
            dob.format("%d/%m/%Y")
        } else {
            dob.format("%Y-%m-%d")
        };
        let _ = writeln!(
            out,
            "{given},{family},{date},{qan},{uln},learner{i}@example.org"
        );
    }
    out
}

/// What is on record for a ULN: the family name and date of birth its learner was registered
/// with.
#[derive(Debug, Clone)]
pub struct OnRecord {
    pub family_name: String,
    pub date_of_birth: NaiveDate,
}

/// A ULN identifies, it does not authorize: a row joins the learner on record only when the
/// family name (ignoring case and spaces) and the date of birth agree too. Otherwise the
/// message says which of them differ, without showing what is on record, and what to do.
pub fn identity_mismatch(row: &NewRegistration, on_record: &OnRecord) -> Option<String> {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let family = norm(&row.family_name) != norm(&on_record.family_name);
    let dob = row.date_of_birth != on_record.date_of_birth;
    let differ = match (family, dob) {
        (false, false) => return None,
        (true, false) => "family name",
        (false, true) => "date of birth",
        (true, true) => "family name and date of birth",
    };
    Some(format!(
        "this ULN is already on record for a learner with a different {differ}. A ULN is checked against the family name and date of birth: check the ULN, name and date of birth with the learner or the Learning Records Service, then register them again"
    ))
}

#[cfg(test)]
mod identity_tests {
    use super::*;

    fn row(family: &str, dob: (i32, u32, u32)) -> NewRegistration {
        NewRegistration {
            row: Some(2),
            given_name: "Tom".into(),
            family_name: family.into(),
            date_of_birth: NaiveDate::from_ymd_opt(dob.0, dob.1, dob.2).unwrap_or_default(),
            uln: None,
            email: None,
            qan: ProgrammeCode::parse("610/3788/6").expect("a QAN"),
            qualification_title: String::new(),
            units: Vec::new(),
        }
    }

    #[test]
    fn a_uln_joins_only_the_same_person() {
        let on = OnRecord {
            family_name: "Evans".into(),
            date_of_birth: NaiveDate::from_ymd_opt(1985, 2, 17).unwrap_or_default(),
        };
        assert_eq!(identity_mismatch(&row(" EVANS ", (1985, 2, 17)), &on), None);
        let both = identity_mismatch(&row("Tom", (2000, 1, 1)), &on).unwrap_or_default();
        assert!(both.contains("family name and date of birth"), "{both}");
        assert!(!both.contains("Evans") && !both.contains("1985"), "{both}");
        let dob = identity_mismatch(&row("Evans", (1985, 2, 18)), &on).unwrap_or_default();
        assert!(dob.contains("different date of birth"), "{dob}");
        let fam = identity_mismatch(&row("Evan", (1985, 2, 17)), &on).unwrap_or_default();
        assert!(fam.contains("different family name"), "{fam}");
    }
}
