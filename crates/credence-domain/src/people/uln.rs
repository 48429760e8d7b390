//! The Unique Learner Number (ULN): ten digits, the last a check digit.
//!
//! The check (issue 5): the first nine digits weighted 10, 9, ..., 2, summed, modulo 11. A
//! remainder of 0 is invalid; otherwise the tenth digit is 10 minus the remainder. (Remainders 1
//! to 10 give check digits 9 to 0, so "10 minus the remainder" is always one digit once the
//! remainder-0 case is refused.)

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a text is not a ULN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UlnError {
    #[error(
        "no ULN given: a ULN is 10 digits, e.g. 1234567899; leave the ULN out if the learner has none"
    )]
    Empty,
    #[error(
        "'{text}' is not a ULN: a ULN is exactly 10 digits and this has {digits}; check for a missing or extra digit"
    )]
    Length { text: String, digits: usize },
    #[error(
        "'{text}' is not a ULN: a ULN is 10 digits only, and this contains '{found}'; remove any letters, spaces or punctuation"
    )]
    NotDigits { text: String, found: char },
    #[error(
        "'{text}' is not a valid ULN: its first nine digits can never carry a valid check digit (their weighted sum is a multiple of 11); check the number with the learner or the Learning Records Service"
    )]
    RemainderZero { text: String },
    #[error(
        "'{text}' is not a valid ULN: the check digit (the tenth digit) should be {expected} but is {found}; check the number for a mistyped digit"
    )]
    CheckDigit {
        text: String,
        expected: char,
        found: char,
    },
}

/// A Unique Learner Number whose check digit holds. Holding one proves the text is valid.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "1234567899"))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uln(String);

/// The check digit for nine digits (ASCII), or `None` when the remainder is 0.
fn check_digit(nine: &[u8]) -> Option<u8> {
    let sum: u32 = nine
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    match sum % 11 {
        0 => None,
        r => u8::try_from(10 - r).ok().map(|d| b'0' + d),
    }
}

impl Uln {
    /// Parses a ULN. Surrounding whitespace is ignored; anything else that is not a digit is
    /// refused (a ULN is never written with spaces or dashes).
    pub fn parse(text: &str) -> Result<Uln, UlnError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(UlnError::Empty);
        }
        if let Some(found) = t.chars().find(|c| !c.is_ascii_digit()) {
            return Err(UlnError::NotDigits {
                text: t.to_string(),
                found,
            });
        }
        let b = t.as_bytes();
        if b.len() != 10 {
            return Err(UlnError::Length {
                text: t.to_string(),
                digits: b.len(),
            });
        }
        match check_digit(&b[..9]) {
            None => Err(UlnError::RemainderZero {
                text: t.to_string(),
            }),
            Some(expected) if expected != b[9] => Err(UlnError::CheckDigit {
                text: t.to_string(),
                expected: char::from(expected),
                found: char::from(b[9]),
            }),
            Some(_) => Ok(Uln(t.to_string())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The full ten-digit ULN for nine leading digits, or `None` when `nine_digits` is not nine
/// ASCII digits or no check digit fits (remainder 0). For test and demo data.
pub fn uln_with_check_digit(nine_digits: &str) -> Option<String> {
    let b = nine_digits.as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let d = check_digit(b)?;
    let mut s = String::with_capacity(10);
    s.push_str(nine_digits);
    s.push(char::from(d));
    Some(s)
}

impl TryFrom<String> for Uln {
    type Error = UlnError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Uln::parse(&s)
    }
}
impl From<Uln> for String {
    fn from(u: Uln) -> String {
        u.0
    }
}
impl fmt::Display for Uln {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::str::FromStr for Uln {
    type Err = UlnError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uln::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_checked_example() {
        // 1*10 + 2*9 + 3*8 + 4*7 + 5*6 + 6*5 + 7*4 + 8*3 + 9*2 = 210; 210 mod 11 = 1; 10 - 1 = 9.
        assert_eq!(
            uln_with_check_digit("123456789").as_deref(),
            Some("1234567899")
        );
        assert!(Uln::parse("1234567899").is_ok());
    }

    #[test]
    fn serde_round_trip_validates() {
        let u = Uln::parse("1234567899").unwrap();
        let j = serde_json::to_string(&u).unwrap();
        assert_eq!(j, "\"1234567899\"");
        assert_eq!(serde_json::from_str::<Uln>(&j).unwrap(), u);
        assert!(serde_json::from_str::<Uln>("\"1234567890\"").is_err());
    }
}
