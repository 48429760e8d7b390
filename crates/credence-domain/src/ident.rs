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
}
