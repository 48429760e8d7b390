//! Credence's domain: the catalogue model, the specification importer, corrections,
//! exports, and the rules of combination with their planner. Pure: no I/O, no clock, no
//! randomness; inputs in, decisions out.

/// Certificate numbers (with their ISO 7064 check character) and grade aggregation.
pub mod certificate;
pub mod corrections;
/// What changed between two versions of a specification.
pub mod diff;
pub mod export;
pub mod ident;
pub mod import;
pub mod model;
pub mod people;
pub mod portfolio;
/// Quality assurance: IQA sampling plans and coverage, claim gating, EQA visits and DCS.
pub mod qa;
/// Retention: how long each kind of record is kept, legal holds, what may be disposed of.
pub mod records;
pub mod rules;
