//! Placeholder until the layout is implemented.
use super::{ImportError, Imported, text::Source};

#[allow(dead_code)]
pub fn parse(_source: &Source) -> Result<Imported, ImportError> {
    Err(ImportError::UnknownLayout)
}
