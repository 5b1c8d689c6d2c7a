//! Editing a plan through forms: the text a person typed, checked field by field and turned into
//! plan values. Every problem names the field it belongs to, so a form can show it beside that
//! field and keep the rest of the input.
//!
//! `system` reads the form of one system section, `sections` the plan-level sections (with the
//! call tree and the channels), `person` a person's entry; `checker` holds the field checks they
//! share. What a field may hold and how a problem is told live here.

mod checker;
mod person;
mod sections;
mod system;

pub use person::PersonForm;
pub use sections::{EditedSections, SectionsForm};
pub use system::{ImpactForm, StepForm, SystemForm};

use serde::Serialize;

/// Longest text accepted in one field (a step, a workaround): far beyond any real section.
pub const MAX_FIELD_CHARS: usize = 20_000;

/// The first character of `text` that no text of the plan may hold: a C0 control other than
/// tab, CR and LF, or DEL. Such characters arrive pasted (a vertical tab from a word processor,
/// an escape sequence from a terminal), are invisible on the page and break other programs that
/// read the plan.
pub fn forbidden_control(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| (c < ' ' && !matches!(c, '\t' | '\r' | '\n')) || c == '\u{7f}')
}

/// `U+000B`: how a control character is named in messages.
pub fn char_code(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// What is wrong with one field's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    Required,
    TooLong {
        max: usize,
    },
    Duration {
        input: String,
    },
    Criticality {
        input: String,
    },
    UnknownSystem {
        id: String,
        suggestion: Option<String>,
    },
    UnknownPerson {
        id: String,
        suggestion: Option<String>,
    },
    UnknownRole {
        id: String,
        suggestion: Option<String>,
    },
    SelfDependency,
    ImpactLevel {
        input: String,
    },
    InvalidId {
        input: String,
    },
    Taken {
        id: String,
    },
    Email {
        input: String,
    },
    Cron {
        input: String,
        reason: String,
    },
    /// A drill programme that would run more than once a day.
    TooOften {
        input: String,
    },
    DateTime {
        input: String,
    },
    InPast,
    TimeGap {
        input: String,
    },
    Number {
        input: String,
    },
    /// A control character that no text may hold (`U+0007`).
    ControlCharacter {
        code: String,
    },
    /// An edit that would give the plan a new error: the analysis' finding, shown in the
    /// reader's language (serialised as its English `message`).
    Finding {
        #[serde(rename = "message", serialize_with = "finding_message")]
        finding: Box<crate::domain::Finding>,
    },
}

fn finding_message<S: serde::Serializer>(
    finding: &crate::domain::Finding,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&finding.message)
}

/// A problem and the form field it belongs to (`rto`, `step-2-duration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    #[serde(flatten)]
    pub problem: Problem,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_may_hold_tab_cr_and_lf_but_no_other_control_character() {
        assert_eq!(forbidden_control("Linje 1\r\nLinje 2\tæøå"), None);
        for c in [
            '\0', '\u{7}', '\u{b}', '\u{c}', '\u{1b}', '\u{1f}', '\u{7f}',
        ] {
            assert_eq!(forbidden_control(&format!("før{c}efter")), Some(c), "{c:?}");
        }
        assert_eq!(char_code('\u{b}'), "U+000B");
    }
}
