//! Validated identifiers: Ofqual qualification numbers (QAN) and unit reference numbers.
//! Holding one of these types proves the text is well formed.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentError {
    #[error("'{0}' is not a QAN: a QAN is written NNN/NNNN/C (e.g. 610/3788/6)")]
    QanShape(String),
    #[error("'{text}' fails the QAN check character: expected {expected}, found {found}")]
    QanCheck {
        text: String,
        expected: char,
        found: char,
    },
    #[error(
        "'{0}' is not an Ofqual unit reference: it is written L/NNN/NNNN with the letter one of A D F H J K L M R T Y (e.g. L/650/7899)"
    )]
    UnitRefShape(String),
}

/// An Ofqual qualification number (`NNN/NNNN/C`) whose check character holds: the first seven
/// digits weighted 8, 7, ..., 2, summed, modulo 11, with 10 written `X`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Qan(String);

impl Qan {
    pub fn parse(text: &str) -> Result<Qan, IdentError> {
        let t = text.trim();
        let b = t.as_bytes();
        let shape_ok = b.len() == 10
            && b[3] == b'/'
            && b[8] == b'/'
            && b[..3].iter().all(u8::is_ascii_digit)
            && b[4..8].iter().all(u8::is_ascii_digit)
            && (b[9].is_ascii_digit() || b[9] == b'X' || b[9] == b'x');
        if !shape_ok {
            return Err(IdentError::QanShape(t.to_string()));
        }
        let digits = b[..3].iter().chain(&b[4..8]).map(|d| u32::from(d - b'0'));
        let sum: u32 = digits.zip((2..=8).rev()).map(|(d, w)| d * w).sum();
        let expected = match sum % 11 {
            10 => 'X',
            n => char::from_digit(n, 10).unwrap_or('?'),
        };
        let found = (b[9] as char).to_ascii_uppercase();
        if expected != found {
            return Err(IdentError::QanCheck {
                text: t.to_string(),
                expected,
                found,
            });
        }
        Ok(Qan(t.to_ascii_uppercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Qan {
    type Error = IdentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Qan::parse(&s)
    }
}
impl From<Qan> for String {
    fn from(q: Qan) -> String {
        q.0
    }
}
impl fmt::Display for Qan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An Ofqual unit reference number, `L/NNN/NNNN`, the letter one of `ADFHJKLMRTY`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitRef(String);

/// The letters Ofqual uses as the first character of a unit reference.
pub const UNIT_REF_LETTERS: &str = "ADFHJKLMRTY";

impl UnitRef {
    pub fn parse(text: &str) -> Result<UnitRef, IdentError> {
        let t = text.trim();
        let b = t.as_bytes();
        let ok = b.len() == 10
            && UNIT_REF_LETTERS
                .as_bytes()
                .contains(&b[0].to_ascii_uppercase())
            && b[1] == b'/'
            && b[5] == b'/'
            && b[2..5].iter().all(u8::is_ascii_digit)
            && b[6..10].iter().all(u8::is_ascii_digit);
        if !ok {
            return Err(IdentError::UnitRefShape(t.to_string()));
        }
        Ok(UnitRef(t.to_ascii_uppercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitRef {
    type Error = IdentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        UnitRef::parse(&s)
    }
}
impl From<UnitRef> for String {
    fn from(u: UnitRef) -> String {
        u.0
    }
}
impl fmt::Display for UnitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a learner registers on: a qualification, by its QAN, or a unit offered on its own
/// (OCR's NVQ unit; ISP's "units can be built up over time"), by its Ofqual unit reference.
/// The two shapes cannot be confused (`NNN/NNNN/C` against `L/NNN/NNNN`), so one text names
/// one or the other; it is written as the bare reference either way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ProgrammeCode {
    Qualification(Qan),
    Unit(UnitRef),
}

impl ProgrammeCode {
    /// A QAN, or else an Ofqual unit reference. The error names both shapes when the text
    /// is neither, or the QAN's own error when it has a QAN's shape.
    pub fn parse(text: &str) -> Result<ProgrammeCode, IdentError> {
        match Qan::parse(text) {
            Ok(q) => Ok(ProgrammeCode::Qualification(q)),
            Err(qan_error) => match UnitRef::parse(text) {
                Ok(u) => Ok(ProgrammeCode::Unit(u)),
                Err(_) => Err(qan_error),
            },
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            ProgrammeCode::Qualification(q) => q.as_str(),
            ProgrammeCode::Unit(u) => u.as_str(),
        }
    }
    pub fn is_unit(&self) -> bool {
        matches!(self, ProgrammeCode::Unit(_))
    }
    /// "unit H/502/8599" or "610/3788/6", for messages.
    pub fn describe(&self) -> String {
        match self {
            ProgrammeCode::Qualification(q) => q.to_string(),
            ProgrammeCode::Unit(u) => format!("unit {u}"),
        }
    }
}

/// Whether a registration's code names a unit on its own (an Ofqual unit reference) rather
/// than a qualification.
pub fn is_unit_code(code: &str) -> bool {
    Qan::parse(code).is_err() && UnitRef::parse(code).is_ok()
}

impl TryFrom<String> for ProgrammeCode {
    type Error = IdentError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ProgrammeCode::parse(&s)
    }
}
impl From<ProgrammeCode> for String {
    fn from(c: ProgrammeCode) -> String {
        c.as_str().to_string()
    }
}
impl fmt::Display for ProgrammeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_qan_in_the_seeds_passes_its_check() {
        for q in [
            "610/3788/6",
            "610/3789/8",
            "610/3790/4",
            "610/3791/6",
            "610/3793/X",
            "610/5718/6",
            "603/5902/X",
            "500/3707/9",
        ] {
            assert!(Qan::parse(q).is_ok(), "{q} should be valid");
        }
    }

    #[test]
    fn a_wrong_check_character_is_named() {
        let err = Qan::parse("610/3788/7").unwrap_err();
        assert_eq!(
            err,
            IdentError::QanCheck {
                text: "610/3788/7".into(),
                expected: '6',
                found: '7'
            }
        );
    }

    #[test]
    fn qan_shape_errors() {
        for bad in [
            "",
            "610/3788",
            "6103788/6",
            "610/37886/6",
            "abc/defg/h",
            "610-3788-6",
        ] {
            assert!(
                matches!(Qan::parse(bad), Err(IdentError::QanShape(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn unit_refs() {
        assert!(UnitRef::parse("L/650/7899").is_ok());
        assert!(UnitRef::parse("H/502/8599").is_ok());
        assert!(UnitRef::parse("H/651/601").is_err(), "too few digits");
        assert!(
            UnitRef::parse("B/650/7899").is_err(),
            "B is not an Ofqual letter"
        );
        assert!(UnitRef::parse("L6507899").is_err());
    }

    #[test]
    fn a_programme_is_a_qan_or_a_unit_reference() {
        assert_eq!(
            ProgrammeCode::parse("610/3788/6"),
            Ok(ProgrammeCode::Qualification(
                Qan::parse("610/3788/6").unwrap()
            ))
        );
        let unit = ProgrammeCode::parse("h/502/8599").unwrap();
        assert!(unit.is_unit());
        assert_eq!(unit.as_str(), "H/502/8599");
        assert_eq!(unit.describe(), "unit H/502/8599");
        assert!(is_unit_code("H/502/8599"));
        assert!(!is_unit_code("610/3788/6"));
        // A QAN with a wrong check character keeps the QAN's own error.
        assert!(matches!(
            ProgrammeCode::parse("610/3788/7"),
            Err(IdentError::QanCheck { .. })
        ));
        assert!(ProgrammeCode::parse("nonsense").is_err());
    }
}
