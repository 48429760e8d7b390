//! Evidence over time: the occasions a criterion's evidence comes from, the span they cover,
//! and the centre's own setting of how many occasions are "sufficient".
//!
//! OCR unit 39 (seed 004, lines 173-174): "You must provide evidence that shows you have done
//! this over a sufficient period of time on different occasions for your assessor to be
//! confident that you are competent." The importer reads "different occasions" as at least
//! 2 ([`crate::model::Unit::evidence_occasions`]); the document leaves "sufficient" to the
//! centre, so a centre may ask for more, per unit, with a reason. The number the criterion
//! status uses is the centre's setting where there is one, else the specification's minimum.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::evidence::EvidenceItem;
use super::judgement::{Mapping, current_items};
use super::unit_name;
use crate::model::Unit;

/// The most occasions a centre may ask for: beyond this "sufficient" has stopped being a
/// reading of the specification.
pub const MAX_OCCASIONS: u32 = 20;

/// One occasion: a distinct evidence date, with the current items dated that day (their
/// [`EvidenceItem::id`]s, in the order given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occasion {
    pub date: NaiveDate,
    pub items: Vec<String>,
}

/// The occasions of `criterion` of `unit`: the distinct dates of the current (non-superseded)
/// items mapped to it, oldest first. These are exactly the occasions
/// [`super::criterion_status`] counts.
pub fn occasions_of(
    unit: &str,
    criterion: &str,
    mappings: &[Mapping],
    evidence: &[EvidenceItem],
) -> Vec<Occasion> {
    let mut by_date: BTreeMap<NaiveDate, Vec<String>> = BTreeMap::new();
    for item in current_items(unit, criterion, mappings, evidence) {
        by_date.entry(item.date).or_default().push(item.id.clone());
    }
    by_date
        .into_iter()
        .map(|(date, items)| Occasion { date, items })
        .collect()
}

/// The days from the first occasion to the last (0 for one occasion or none).
pub fn span_days(occasions: &[Occasion]) -> i64 {
    match (occasions.first(), occasions.last()) {
        (Some(a), Some(b)) => (b.date - a.date).num_days(),
        _ => 0,
    }
}

/// A span of days in words: "1 day", "6 days", "2 weeks", "3 weeks and 2 days".
pub fn span_words(days: i64) -> String {
    let plural = |n: i64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let days = days.max(0);
    if days < 14 {
        return plural(days, "day", "days");
    }
    let (weeks, rest) = (days / 7, days % 7);
    if rest == 0 {
        plural(weeks, "week", "weeks")
    } else {
        format!(
            "{} and {}",
            plural(weeks, "week", "weeks"),
            plural(rest, "day", "days")
        )
    }
}

/// The number of occasions each criterion of `unit` needs: the centre's setting where it has
/// one, else the specification's minimum; `None` where the unit asks for no occasions.
pub fn effective_occasions(unit: &Unit, centre_setting: Option<u32>) -> Option<u32> {
    unit.evidence_occasions
        .map(|minimum| centre_setting.unwrap_or(minimum))
}

/// Why a centre's setting of a unit's occasions is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OccasionsRefusal {
    #[error(
        "{unit} does not ask for evidence on different occasions, so there is no number of occasions to set"
    )]
    NotAsked { unit: String },
    #[error(
        "{unit} needs evidence from at least {minimum} occasions (the specification's minimum): enter {minimum} or more"
    )]
    BelowMinimum { unit: String, minimum: u32 },
    #[error(
        "enter at most {MAX_OCCASIONS} occasions: more than that is no longer a reading of 'a sufficient period'"
    )]
    AboveMaximum,
    #[error(
        "say why the centre asks for this many occasions (for example what the awarding organisation's guidance or the centre's standardisation decided)"
    )]
    NoReason,
}

/// Whether a centre may ask for `occasions` for `unit`, with `reason`: the unit must ask for
/// occasions, the number must be at least the specification's minimum and at most
/// [`MAX_OCCASIONS`], and the reason must not be blank.
pub fn check_occasions_setting(
    unit: &Unit,
    occasions: u32,
    reason: &str,
) -> Result<(), OccasionsRefusal> {
    let Some(minimum) = unit.evidence_occasions else {
        return Err(OccasionsRefusal::NotAsked {
            unit: unit_name(unit),
        });
    };
    if occasions < minimum.max(1) {
        return Err(OccasionsRefusal::BelowMinimum {
            unit: unit_name(unit),
            minimum: minimum.max(1),
        });
    }
    if occasions > MAX_OCCASIONS {
        return Err(OccasionsRefusal::AboveMaximum);
    }
    if reason.trim().is_empty() {
        return Err(OccasionsRefusal::NoReason);
    }
    Ok(())
}

/// The specification's own words on occasions: the sentence of the unit's assessment and
/// evidence requirements that mentions them ("You must provide evidence ... on different
/// occasions ..."), if there is one.
pub fn occasions_words(unit: &Unit) -> Option<String> {
    let text = unit.assessment_method.as_deref()?;
    let squashed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    squashed
        .split_inclusive(". ")
        .map(str::trim)
        .find(|s| s.contains("occasions"))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portfolio::EvidenceSource;
    use crate::portfolio::evidence::EvidenceKind;

    fn item(id: &str, date: &str) -> EvidenceItem {
        EvidenceItem {
            id: id.into(),
            title: format!("item {id}"),
            date: NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap(),
            kind: EvidenceKind::ObservationChecklist,
            source: EvidenceSource::RealWorkplace,
            sha256: String::new(),
            size: 1,
            media_type: "application/pdf".into(),
            superseded_by: None,
            supersede_reason: None,
        }
    }

    fn map(id: &str, criterion: &str) -> Mapping {
        Mapping {
            evidence: id.into(),
            unit: "U".into(),
            criterion: criterion.into(),
            location: "p1".into(),
        }
    }

    fn unit(occasions: Option<u32>, method: Option<&str>) -> Unit {
        let mut u = crate::rules::fixtures::units()[0].clone();
        u.evidence_occasions = occasions;
        u.assessment_method = method.map(str::to_string);
        u
    }

    #[test]
    fn occasions_are_the_distinct_dates_of_current_items_oldest_first() {
        let mut superseded = item("d", "2026-09-01");
        superseded.superseded_by = Some("b".into());
        let evidence = [
            item("a", "2026-10-28"),
            item("b", "2026-10-05"),
            item("c", "2026-10-05"),
            superseded,
            item("e", "2026-11-01"),
        ];
        let mappings = [
            map("a", "1.1"),
            map("b", "1.1"),
            map("c", "1.1"),
            map("d", "1.1"),
            map("e", "1.2"),
        ];
        let o = occasions_of("U", "1.1", &mappings, &evidence);
        assert_eq!(
            o,
            vec![
                Occasion {
                    date: NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(),
                    items: vec!["b".into(), "c".into()],
                },
                Occasion {
                    date: NaiveDate::from_ymd_opt(2026, 10, 28).unwrap(),
                    items: vec!["a".into()],
                },
            ]
        );
        assert_eq!(span_days(&o), 23);
        assert_eq!(span_days(&o[..1]), 0);
        assert_eq!(span_days(&[]), 0);
        assert!(occasions_of("U", "2.1", &mappings, &evidence).is_empty());
    }

    #[test]
    fn spans_read_in_days_then_weeks() {
        for (days, words) in [
            (0, "0 days"),
            (1, "1 day"),
            (13, "13 days"),
            (14, "2 weeks"),
            (15, "2 weeks and 1 day"),
            (23, "3 weeks and 2 days"),
            (28, "4 weeks"),
            (-3, "0 days"),
        ] {
            assert_eq!(span_words(days), words, "{days}");
        }
    }

    #[test]
    fn the_centres_setting_wins_over_the_specifications_minimum() {
        assert_eq!(effective_occasions(&unit(Some(2), None), None), Some(2));
        assert_eq!(effective_occasions(&unit(Some(2), None), Some(3)), Some(3));
        assert_eq!(effective_occasions(&unit(None, None), Some(3)), None);
    }

    #[test]
    fn a_setting_is_at_least_the_minimum_at_most_twenty_and_has_a_reason() {
        let u = unit(Some(2), None);
        assert_eq!(check_occasions_setting(&u, 2, "standardisation"), Ok(()));
        assert_eq!(check_occasions_setting(&u, 20, "x"), Ok(()));
        let low = check_occasions_setting(&u, 1, "x").unwrap_err();
        assert!(matches!(
            low,
            OccasionsRefusal::BelowMinimum { minimum: 2, .. }
        ));
        assert!(low.to_string().contains("at least 2 occasions"), "{low}");
        assert_eq!(
            check_occasions_setting(&u, 21, "x"),
            Err(OccasionsRefusal::AboveMaximum)
        );
        assert_eq!(
            check_occasions_setting(&u, 3, "  "),
            Err(OccasionsRefusal::NoReason)
        );
        assert!(matches!(
            check_occasions_setting(&unit(None, None), 3, "x"),
            Err(OccasionsRefusal::NotAsked { .. })
        ));
    }

    #[test]
    fn the_specifications_words_are_the_sentence_about_occasions() {
        let u = unit(
            Some(2),
            Some(
                "This unit is centre assessed. You must provide evidence that shows you have done this over a sufficient\n period of time on different occasions for your assessor to be confident that you are competent. Other words.",
            ),
        );
        assert_eq!(
            occasions_words(&u).as_deref(),
            Some(
                "You must provide evidence that shows you have done this over a sufficient period of time on different occasions for your assessor to be confident that you are competent."
            )
        );
        assert_eq!(occasions_words(&unit(Some(2), Some("Nothing here."))), None);
        assert_eq!(occasions_words(&unit(Some(2), None)), None);
    }
}
