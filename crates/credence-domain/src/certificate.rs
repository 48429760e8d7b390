//! Certificates: the number printed on them forever, and the grade a qualification earns.
//!
//! **Number.** `ISP-2026-0000042-K`: the awarding organisation's code, the year of award, a
//! sequence of seven digits (per AO and year, never reused), and a check character computed
//! with ISO/IEC 7064 MOD 37,36 (the hybrid system for alphanumeric strings) over the code,
//! year and sequence without the hyphens. The check character catches every single wrong
//! character and every swap of two adjacent characters, so a number misread from paper or
//! mistyped is refused before anything is looked up.
//!
//! **Grade.** Every ISP qualification is Pass only. An ISMM qualification is graded
//! Fail/Pass/Merit/Distinction from its units' grades, by the rule in [`aggregate_grade`].

use crate::portfolio::Grade;
use serde::{Deserialize, Serialize};

/// The characters of ISO/IEC 7064 MOD 37,36, in value order.
const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn value(c: char) -> Option<u32> {
    let up = c.to_ascii_uppercase();
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == up)
        .and_then(|p| u32::try_from(p).ok())
}

/// The ISO/IEC 7064 MOD 37,36 check character of `text` (letters and digits only, any
/// case); `None` when `text` holds anything else or is empty.
pub fn check_character(text: &str) -> Option<char> {
    const M: u32 = 36;
    if text.is_empty() {
        return None;
    }
    let mut p = M;
    for c in text.chars() {
        let a = value(c)?;
        let mut s = (p + a) % M;
        if s == 0 {
            s = M;
        }
        p = (s * 2) % (M + 1);
    }
    let check = (M + 1 - p) % M;
    Some(char::from(ALPHABET[check as usize]))
}

/// Whether `text` followed by its last character is valid under MOD 37,36.
pub fn check_is_valid(text_with_check: &str) -> bool {
    let mut chars: Vec<char> = text_with_check.chars().collect();
    let Some(last) = chars.pop() else {
        return false;
    };
    let body: String = chars.into_iter().collect();
    check_character(&body) == Some(last.to_ascii_uppercase())
}

/// A certificate number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CertificateNumber {
    pub ao_code: String,
    pub year: i32,
    pub sequence: u64,
    pub check: char,
}

/// The largest sequence a number holds (seven digits).
pub const MAX_SEQUENCE: u64 = 9_999_999;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error(
        "'{0}' is not a certificate number: it looks like ISP-2026-0000042-K (the awarding organisation, the year, seven digits and a check character)"
    )]
    Shape(String),
    #[error(
        "'{0}' has a wrong check character: a character may have been misread or mistyped; check it against the certificate"
    )]
    Check(String),
    #[error("the sequence {0} is out of range: at most {MAX_SEQUENCE} certificates per year")]
    Sequence(u64),
}

impl CertificateNumber {
    /// The number for the `sequence`th certificate of `ao_code` in `year`.
    pub fn new(ao_code: &str, year: i32, sequence: u64) -> Result<Self, NumberError> {
        if sequence == 0 || sequence > MAX_SEQUENCE {
            return Err(NumberError::Sequence(sequence));
        }
        let ao_code = ao_code.to_ascii_uppercase();
        if ao_code.is_empty()
            || ao_code.len() > 8
            || !ao_code.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(NumberError::Shape(ao_code));
        }
        let body = format!("{ao_code}{year:04}{sequence:07}");
        let check = check_character(&body).ok_or_else(|| NumberError::Shape(body.clone()))?;
        Ok(CertificateNumber {
            ao_code,
            year,
            sequence,
            check,
        })
    }

    /// Read a number as printed (any case, spaces around it ignored).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let t = text.trim().to_ascii_uppercase();
        let parts: Vec<&str> = t.split('-').collect();
        let shape = || NumberError::Shape(text.trim().chars().take(40).collect());
        let [ao, year, seq, check] = parts.as_slice() else {
            return Err(shape());
        };
        if ao.is_empty()
            || ao.len() > 8
            || !ao.chars().all(|c| c.is_ascii_alphanumeric())
            || year.len() != 4
            || !year.chars().all(|c| c.is_ascii_digit())
            || seq.len() != 7
            || !seq.chars().all(|c| c.is_ascii_digit())
            || check.chars().count() != 1
        {
            return Err(shape());
        }
        let year: i32 = year.parse().map_err(|_| shape())?;
        let sequence: u64 = seq.parse().map_err(|_| shape())?;
        let n = CertificateNumber::new(ao, year, sequence).map_err(|_| shape())?;
        if !check.starts_with(n.check) {
            return Err(NumberError::Check(t));
        }
        Ok(n)
    }
}

impl std::fmt::Display for CertificateNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}-{:04}-{:07}-{}",
            self.ao_code, self.year, self.sequence, self.check
        )
    }
}

/// A unit's part in a graded qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitGrade {
    pub unit: String,
    pub credits: u32,
    pub grade: Grade,
}

/// How a graded qualification's grade follows from its units', in words printed with it.
pub const AGGREGATION_RULE: &str = "Any unit graded Fail gives Fail. Otherwise each unit scores Pass 1, Merit 2, Distinction 3, weighted by its credits: an average of 2.5 or more is Distinction, 1.5 or more Merit, otherwise Pass.";

/// The qualification's grade from its units' grades ([`AGGREGATION_RULE`]). Exact: the
/// credit-weighted points are compared in whole numbers (2 x points against 5 x credits for
/// 2.5, 3 x credits for 1.5), so no rounding decides a grade. Units without credits weigh 1.
/// `None` when there are no units.
pub fn aggregate_grade(units: &[UnitGrade]) -> Option<Grade> {
    if units.is_empty() {
        return None;
    }
    if units.iter().any(|u| u.grade == Grade::Fail) {
        return Some(Grade::Fail);
    }
    let mut points: u64 = 0;
    let mut weight: u64 = 0;
    for u in units {
        let w = u64::from(u.credits.max(1));
        let p = match u.grade {
            Grade::Fail => 0,
            Grade::Pass => 1,
            Grade::Merit => 2,
            Grade::Distinction => 3,
        };
        points += p * w;
        weight += w;
    }
    Some(if 2 * points >= 5 * weight {
        Grade::Distinction
    } else if 2 * points >= 3 * weight {
        Grade::Merit
    } else {
        Grade::Pass
    })
}

/// Why a certificate was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReplacementReason {
    /// Lost or destroyed: the same details, printed again under a new number.
    Lost,
    /// Damaged.
    Damaged,
    /// The learner's name was registered wrongly.
    NameCorrection,
}

impl ReplacementReason {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "lost" => Self::Lost,
            "damaged" => Self::Damaged,
            "name_correction" => Self::NameCorrection,
            _ => return None,
        })
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Lost => "lost",
            Self::Damaged => "damaged",
            Self::NameCorrection => "name_correction",
        }
    }
    pub fn words(self) -> &'static str {
        match self {
            Self::Lost => "Lost or destroyed",
            Self::Damaged => "Damaged",
            Self::NameCorrection => "Name correction",
        }
    }
}

/// Why a certificate was revoked (the category verification shows; the note stays inside).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevocationReason {
    /// Claimed in error (wrong learner, units not achieved).
    ClaimedInError,
    /// Malpractice found after the award.
    Malpractice,
    /// Maladministration at the centre.
    Maladministration,
}

impl RevocationReason {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "claimed_in_error" => Self::ClaimedInError,
            "malpractice" => Self::Malpractice,
            "maladministration" => Self::Maladministration,
            _ => return None,
        })
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::ClaimedInError => "claimed_in_error",
            Self::Malpractice => "malpractice",
            Self::Maladministration => "maladministration",
        }
    }
    pub fn words(self) -> &'static str {
        match self {
            Self::ClaimedInError => "Claimed in error",
            Self::Malpractice => "Malpractice",
            Self::Maladministration => "Maladministration",
        }
    }
}

/// A spreadsheet cell that cannot run as a formula: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading apostrophe (OWASP's CSV injection advice).
pub fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_back_and_carry_a_check_character() {
        let n = CertificateNumber::new("isp", 2026, 42).expect("valid");
        let text = n.to_string();
        assert!(text.starts_with("ISP-2026-0000042-"), "{text}");
        assert_eq!(CertificateNumber::parse(&text), Ok(n.clone()));
        assert_eq!(
            CertificateNumber::parse(&format!("  {}  ", text.to_lowercase())),
            Ok(n)
        );
        assert!(check_is_valid(&text.replace('-', "")));
    }

    #[test]
    fn every_single_substitution_and_adjacent_swap_is_caught() {
        for seq in [1_u64, 42, 1234567, 9_999_999] {
            let n = CertificateNumber::new("ISMM", 2026, seq).expect("valid");
            let body: Vec<char> = format!("ISMM2026{seq:07}").chars().collect();
            let good = n.check;
            for i in 0..body.len() {
                for &c in ALPHABET {
                    let c = char::from(c);
                    if c == body[i] {
                        continue;
                    }
                    let mut b = body.clone();
                    b[i] = c;
                    let s: String = b.iter().collect();
                    assert_ne!(check_character(&s), Some(good), "substitution {s}");
                }
                if i + 1 < body.len() && body[i] != body[i + 1] {
                    let mut b = body.clone();
                    b.swap(i, i + 1);
                    let s: String = b.iter().collect();
                    assert_ne!(check_character(&s), Some(good), "swap {s}");
                }
            }
        }
    }

    #[test]
    fn misread_numbers_are_refused_with_the_reason() {
        let n = CertificateNumber::new("OCR", 2026, 7)
            .expect("valid")
            .to_string();
        let mut wrong: Vec<char> = n.chars().collect();
        let last = wrong.len() - 1;
        wrong[last] = if wrong[last] == 'A' { 'B' } else { 'A' };
        let wrong: String = wrong.into_iter().collect();
        assert!(matches!(
            CertificateNumber::parse(&wrong),
            Err(NumberError::Check(_))
        ));
        for bad in [
            "",
            "ISP-2026-42-K",
            "ISP/2026/0000042/K",
            "<script>",
            "ISP-26-0000042-K",
        ] {
            assert!(
                matches!(CertificateNumber::parse(bad), Err(NumberError::Shape(_))),
                "{bad}"
            );
        }
        assert!(CertificateNumber::new("ISP", 2026, 0).is_err());
        assert!(CertificateNumber::new("ISP", 2026, MAX_SEQUENCE + 1).is_err());
    }

    fn u(grade: Grade, credits: u32) -> UnitGrade {
        UnitGrade {
            unit: "u".into(),
            credits,
            grade,
        }
    }

    #[test]
    fn grades_aggregate_by_credit_weighted_points() {
        use Grade::*;
        assert_eq!(aggregate_grade(&[]), None);
        assert_eq!(
            aggregate_grade(&[u(Distinction, 6), u(Fail, 6)]),
            Some(Fail)
        );
        assert_eq!(aggregate_grade(&[u(Pass, 6), u(Pass, 6)]), Some(Pass));
        // 1.5 exactly is Merit; just under is Pass.
        assert_eq!(aggregate_grade(&[u(Pass, 6), u(Merit, 6)]), Some(Merit));
        assert_eq!(aggregate_grade(&[u(Pass, 7), u(Merit, 6)]), Some(Pass));
        // 2.5 exactly is Distinction.
        assert_eq!(
            aggregate_grade(&[u(Merit, 6), u(Distinction, 6)]),
            Some(Distinction)
        );
        assert_eq!(
            aggregate_grade(&[u(Merit, 7), u(Distinction, 6)]),
            Some(Merit)
        );
        // Credits weigh: a large Distinction unit outweighs a small Pass one.
        assert_eq!(
            aggregate_grade(&[u(Pass, 2), u(Distinction, 10)]),
            Some(Distinction)
        );
        assert_eq!(aggregate_grade(&[u(Merit, 0)]), Some(Merit));
    }

    #[test]
    fn spreadsheet_formulas_are_defused() {
        assert_eq!(csv_safe("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_safe("+1"), "'+1");
        assert_eq!(csv_safe("-1"), "'-1");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("Priya Shah"), "Priya Shah");
    }
}
