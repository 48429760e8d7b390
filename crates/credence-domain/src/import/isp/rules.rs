//! "Rules of Combination": the paragraphs "To achieve a Certificate, learners must pass:" and
//! their bullets, read into [`Requirement`]s from the words (numbers as words or digits, group
//! names in capitals).

use super::Ctx;
use super::util::{count_word, strip_html};
use crate::import::text::squash;
use crate::model::{Requirement, UnitKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleTarget {
    Certificate,
    Diploma,
    Apprenticeship,
}

#[derive(Debug, Clone)]
pub struct RuleBlock {
    pub target: RuleTarget,
    /// Bullet text in the specification's words, with its line.
    pub bullets: Vec<(String, usize)>,
}

/// The "To achieve ..." paragraphs between `from` and `to`.
pub fn blocks(ctx: &Ctx, from: usize, to: usize) -> Vec<RuleBlock> {
    let mut out = Vec::new();
    let mut n = from;
    while n < to {
        let t = ctx.line(n).trim();
        if t.starts_with("To achieve") && t.ends_with(':') && t.contains("must pass") {
            let target = if t.contains("Apprenticeship") {
                RuleTarget::Apprenticeship
            } else if t.contains("Diploma") {
                RuleTarget::Diploma
            } else {
                RuleTarget::Certificate
            };
            let mut block = RuleBlock {
                target,
                bullets: Vec::new(),
            };
            let mut m = n + 1;
            while m < to {
                let l = ctx.line(m).trim();
                if l.is_empty() || ctx.is_furniture(m) {
                    m += 1;
                    continue;
                }
                match l.strip_prefix("- ") {
                    Some(b) => block.bullets.push((squash(&strip_html(b)), m)),
                    None => break,
                }
                m += 1;
            }
            out.push(block);
            n = m;
            continue;
        }
        n += 1;
    }
    out
}

/// The "a minimum of 50% at Level 5 or above" sentence, if the document has one.
pub fn share_sentence(ctx: &Ctx, from: usize, to: usize) -> Option<(String, usize)> {
    (from..to)
        .find(|n| ctx.line(*n).contains("% at Level"))
        .map(|n| (squash(ctx.line(n)), n))
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric() && c != '%')
                .to_string()
        })
        .collect()
}

fn number_after(ws: &[String], word: &str) -> Option<u32> {
    let i = ws.iter().position(|w| w.eq_ignore_ascii_case(word))?;
    ws.get(i + 1).and_then(|w| count_word(w))
}

/// One bullet as a requirement. `units` are the qualification's own units (for "all units as
/// prescribed"); `groups` the group names of the document.
pub fn parse(text: &str, groups: &[String], units: &[UnitKey]) -> Option<Requirement> {
    let ws = words(text);
    let lower = text.to_lowercase();
    if lower.contains("prescribed") || lower.starts_with("all units") {
        return Some(Requirement::Mandatory {
            units: units.to_vec(),
        });
    }
    if lower.contains("% at level") {
        let percent = ws
            .iter()
            .find_map(|w| w.strip_suffix('%').and_then(|p| p.parse().ok()))?;
        let level = number_after(&ws, "level").and_then(|l| u8::try_from(l).ok())?;
        return Some(Requirement::MinShareAtLevel { level, percent });
    }
    let named: Vec<String> = ws
        .iter()
        .filter(|w| groups.iter().any(|g| g == *w))
        .cloned()
        .collect();
    if !named.is_empty() {
        let min = number_after(&ws, "least")?;
        return Some(if lower.contains("credit") {
            Requirement::MinCreditInGroups { groups: named, min }
        } else {
            Requirement::MinUnitsInGroups { groups: named, min }
        });
    }
    if lower.contains("credit") {
        let min = number_after(&ws, "of").or_else(|| number_after(&ws, "minimum"));
        let max = number_after(&ws, "maximum");
        if lower.contains("minimum") || lower.contains("maximum") {
            return Some(Requirement::TotalCredit { min, max });
        }
        // "40 credits": exactly that many.
        let n = ws.first().and_then(|w| count_word(w))?;
        return Some(Requirement::TotalCredit {
            min: Some(n),
            max: Some(n),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bullets_become_requirements() {
        let g: Vec<String> = ["BUSINESS", "CORE", "LEADERSHIP", "SELF"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            parse("A minimum of 13 credits, maximum 36 credits", &g, &[]),
            Some(Requirement::TotalCredit {
                min: Some(13),
                max: Some(36)
            })
        );
        assert_eq!(
            parse("At least one LEADERSHIP unit or SELF unit", &g, &[]),
            Some(Requirement::MinUnitsInGroups {
                groups: vec!["LEADERSHIP".into(), "SELF".into()],
                min: 1
            })
        );
        assert_eq!(
            parse("CORE units totalling at least 12 credits", &g, &[]),
            Some(Requirement::MinCreditInGroups {
                groups: vec!["CORE".into()],
                min: 12
            })
        );
        assert_eq!(
            parse("40 credits", &g, &[]),
            Some(Requirement::TotalCredit {
                min: Some(40),
                max: Some(40)
            })
        );
        assert_eq!(
            parse(
                "Units selected must equate to a minimum of 50% at Level 5 or above.",
                &g,
                &[]
            ),
            Some(Requirement::MinShareAtLevel {
                level: 5,
                percent: 50
            })
        );
        assert_eq!(parse("Something else entirely", &g, &[]), None);
    }
}
