//! Field-by-field differences between two states of a plan: what the audit log records for each
//! change and what the versions page shows between any two versions.
//!
//! Every field is compared as the text a reader sees (durations as `4h`, steps as numbered lines),
//! so a difference is always readable as "before → after".

use serde::Serialize;

use super::{Plan, System};

/// What a change concerns.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Subject {
    /// The plan-level sections and settings.
    Plan,
    Role(String),
    Person(String),
    System(String),
}

impl Subject {
    /// The system id, for a change to a system section.
    pub fn system(&self) -> Option<&str> {
        match self {
            Subject::System(id) => Some(id),
            _ => None,
        }
    }
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub subject: Subject,
    /// The field's name as in the plan files: `rto`, `recovery_steps`, `supplier.phone`.
    pub field: &'static str,
    pub before: String,
    pub after: String,
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(T::to_string).unwrap_or_default()
}

fn lines<T>(items: &[T], line: impl Fn(&T) -> String) -> String {
    items.iter().map(line).collect::<Vec<_>>().join("\n")
}

/// A system section as (field, shown value) pairs, in form order.
pub fn system_fields(s: &System) -> Vec<(&'static str, String)> {
    let supplier = s.supplier.clone().unwrap_or_default();
    vec![
        ("name", s.name.clone()),
        ("description", s.description.clone()),
        ("owner", opt(&s.owner)),
        ("deputy", opt(&s.deputy)),
        ("criticality", s.criticality.level().to_string()),
        ("rto", opt(&s.rto)),
        ("rpo", opt(&s.rpo)),
        ("mtpd", opt(&s.mtpd)),
        ("depends_on", lines(&s.depends_on, ToString::to_string)),
        ("supplier.name", supplier.name),
        ("supplier.contact", supplier.contact),
        ("supplier.phone", supplier.phone),
        ("supplier.email", supplier.email),
        ("supplier.contract_restore", opt(&supplier.contract_restore)),
        ("workaround", s.workaround.clone()),
        (
            "recovery_steps",
            lines(&numbered(&s.recovery_steps), |(i, st)| {
                format!("{i}. {} ({}, {})", st.text, st.role, st.duration)
            }),
        ),
        ("verification", s.verification.clone()),
        ("review_interval", opt(&s.review_interval)),
        ("last_reviewed", opt(&s.last_reviewed)),
        ("reviewed_by", opt(&s.reviewed_by)),
        (
            "impact",
            lines(&s.impact, |row| {
                format!(
                    "{}: {} | {} | {}",
                    row.after,
                    row.level.as_str(),
                    row.citizens,
                    row.staff
                )
            }),
        ),
    ]
}

fn numbered<T>(items: &[T]) -> Vec<(usize, &T)> {
    items.iter().enumerate().map(|(i, x)| (i + 1, x)).collect()
}

/// The plan-level sections and settings as (field, shown value) pairs.
pub fn plan_fields(p: &Plan) -> Vec<(&'static str, String)> {
    let s = &p.sections;
    vec![
        ("name", p.name.clone()),
        ("organisation", p.organisation.clone()),
        ("owner_role", p.owner_role.to_string()),
        ("approver_role", p.approver_role.to_string()),
        ("review_interval", p.review_interval.to_string()),
        ("purpose", s.purpose.clone()),
        ("scope", s.scope.clone()),
        ("audience", s.audience.clone()),
        ("activation_criteria", s.activation_criteria.join("\n")),
        ("stand_down_criteria", s.stand_down_criteria.join("\n")),
        (
            "call_tree",
            lines(&p.call_tree, |c| {
                format!("{} ← {}: {}", c.person, opt(&c.called_by), c.note)
            }),
        ),
        (
            "channels",
            lines(&p.channels, |c| {
                format!("{} | {} | {}", c.name, c.purpose, c.detail)
            }),
        ),
        ("resources", s.resources.clone()),
        ("backups", s.backups.clone()),
        ("return_to_normal", s.return_to_normal.clone()),
        ("incident_handling", s.incident_handling.clone()),
    ]
}

fn compare(
    out: &mut Vec<Change>,
    subject: Subject,
    before: Vec<(&'static str, String)>,
    after: Vec<(&'static str, String)>,
) {
    for ((field, b), (_, a)) in before.into_iter().zip(after) {
        if b != a {
            out.push(Change {
                subject: subject.clone(),
                field,
                before: b,
                after: a,
            });
        }
    }
}

/// Every field of a system section that differs. A system that is absent on one side counts
/// as all fields empty there, so an added or removed system lists what it holds.
pub fn system_changes(before: Option<&System>, after: Option<&System>) -> Vec<Change> {
    let Some(id) = before.or(after).map(|s| s.id.to_string()) else {
        return Vec::new();
    };
    let fields = |s: Option<&System>, other: Option<&System>| match (s, other) {
        (Some(s), _) => system_fields(s),
        (None, Some(o)) => system_fields(o)
            .into_iter()
            .map(|(f, _)| (f, String::new()))
            .collect(),
        (None, None) => Vec::new(),
    };
    let mut out = Vec::new();
    compare(
        &mut out,
        Subject::System(id),
        fields(before, after),
        fields(after, before),
    );
    out
}

/// Every field that differs between two states of a plan: plan sections, roles, people and
/// systems, in that order, each in id order.
pub fn plan_changes(before: &Plan, after: &Plan) -> Vec<Change> {
    let mut out = Vec::new();
    compare(
        &mut out,
        Subject::Plan,
        plan_fields(before),
        plan_fields(after),
    );

    let role_fields = |r: Option<&super::Role>| {
        vec![
            ("name", r.map(|r| r.name.clone()).unwrap_or_default()),
            (
                "responsibilities",
                r.map(|r| r.responsibilities.clone()).unwrap_or_default(),
            ),
        ]
    };
    for id in union(
        before.roles.iter().map(|r| r.id.as_str()),
        after.roles.iter().map(|r| r.id.as_str()),
    ) {
        let find = |p: &Plan| p.roles.iter().find(|r| r.id.as_str() == id).cloned();
        compare(
            &mut out,
            Subject::Role(id.to_string()),
            role_fields(find(before).as_ref()),
            role_fields(find(after).as_ref()),
        );
    }

    for id in union(
        before.people.iter().map(|p| p.id.as_str()),
        after.people.iter().map(|p| p.id.as_str()),
    ) {
        compare(
            &mut out,
            Subject::Person(id.to_string()),
            person_fields(before.person(id)),
            person_fields(after.person(id)),
        );
    }

    for id in union(
        before.systems.iter().map(|s| s.id.as_str()),
        after.systems.iter().map(|s| s.id.as_str()),
    ) {
        out.extend(system_changes(before.system(id), after.system(id)));
    }
    out
}

/// A person's entry as (field, shown value) pairs; all empty when absent.
pub fn person_fields(p: Option<&super::Person>) -> Vec<(&'static str, String)> {
    let get = |f: fn(&super::Person) -> String| p.map(f).unwrap_or_default();
    vec![
        ("name", get(|p| p.name.clone())),
        ("title", get(|p| p.title.clone())),
        ("email", get(|p| p.email.clone())),
        ("phone", get(|p| p.phone.clone())),
        (
            "roles",
            get(|p| {
                p.roles
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        ),
    ]
}

/// Every field of a person's entry that differs; a person absent before counts as all empty.
pub fn person_changes(before: Option<&super::Person>, after: &super::Person) -> Vec<Change> {
    let mut out = Vec::new();
    compare(
        &mut out,
        Subject::Person(after.id.to_string()),
        person_fields(before),
        person_fields(Some(after)),
    );
    out
}

/// Whether a field holds running text (a paragraph, or numbered lines) that reads best compared
/// word by word; the others (horizons, names, ids, dates) are short and read as "old → new".
pub fn is_text(field: &str) -> bool {
    matches!(
        field,
        "description"
            | "workaround"
            | "recovery_steps"
            | "verification"
            | "impact"
            | "purpose"
            | "scope"
            | "audience"
            | "activation_criteria"
            | "stand_down_criteria"
            | "call_tree"
            | "channels"
            | "resources"
            | "backups"
            | "return_to_normal"
            | "incident_handling"
            | "responsibilities"
    )
}

/// What a piece of a word-by-word comparison is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PieceKind {
    /// On both sides.
    Same,
    /// Only before.
    Deleted,
    /// Only after.
    Inserted,
}

/// A run of text of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Piece {
    pub kind: PieceKind,
    pub text: String,
}

/// `before` and `after` compared word by word (words as Unicode segments them, so punctuation
/// stands apart), as runs: reading the same and deleted runs gives `before`, the same and
/// inserted runs give `after`. A space between two replaced words joins the replacement, so
/// "Jens Hansen" → "Anne Berg" is one deletion and one insertion rather than two of each.
pub fn words(before: &str, after: &str) -> Vec<Piece> {
    use similar::{Algorithm, ChangeTag, TextDiff};
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(std::time::Duration::from_millis(200))
        .diff_unicode_words(before, after);
    let tokens: Vec<(ChangeTag, &str)> = diff
        .iter_all_changes()
        .map(|c| (c.tag(), c.value()))
        .collect();
    let mut out: Vec<Piece> = Vec::new();
    let (mut deleted, mut inserted) = (String::new(), String::new());
    let flush = |out: &mut Vec<Piece>, deleted: &mut String, inserted: &mut String| {
        for (kind, text) in [
            (PieceKind::Deleted, deleted),
            (PieceKind::Inserted, inserted),
        ] {
            if !text.is_empty() {
                out.push(Piece {
                    kind,
                    text: std::mem::take(text),
                });
            }
        }
    };
    for (i, (tag, text)) in tokens.iter().enumerate() {
        match tag {
            ChangeTag::Delete => deleted.push_str(text),
            ChangeTag::Insert => inserted.push_str(text),
            ChangeTag::Equal => {
                let inside_replacement = text.trim().is_empty()
                    && !deleted.is_empty()
                    && !inserted.is_empty()
                    && tokens
                        .get(i + 1)
                        .is_some_and(|(next, _)| *next != ChangeTag::Equal);
                if inside_replacement {
                    deleted.push_str(text);
                    inserted.push_str(text);
                    continue;
                }
                flush(&mut out, &mut deleted, &mut inserted);
                match out.last_mut() {
                    Some(last) if last.kind == PieceKind::Same => last.text.push_str(text),
                    _ => out.push(Piece {
                        kind: PieceKind::Same,
                        text: text.to_string(),
                    }),
                }
            }
        }
    }
    flush(&mut out, &mut deleted, &mut inserted);
    out
}

/// Ids present on either side, sorted and without repeats.
fn union<'a>(a: impl Iterator<Item = &'a str>, b: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = a.chain(b).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Duration;
    use crate::domain::analysis::tests::plan;

    fn read(pieces: &[Piece], skip: PieceKind) -> String {
        pieces
            .iter()
            .filter(|p| p.kind != skip)
            .map(|p| p.text.as_str())
            .collect()
    }

    #[test]
    fn a_changed_word_is_the_only_piece_marked() {
        let before = "Ring til Atea på 70 10 20 30, og log på med lokale konti.";
        let after = "Ring til KMD på 70 10 20 30, og log på med lokale konti.";
        let pieces = words(before, after);
        let changed: Vec<(PieceKind, &str)> = pieces
            .iter()
            .filter(|p| p.kind != PieceKind::Same)
            .map(|p| (p.kind, p.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            [(PieceKind::Deleted, "Atea"), (PieceKind::Inserted, "KMD")]
        );
        assert_eq!(read(&pieces, PieceKind::Inserted), before);
        assert_eq!(read(&pieces, PieceKind::Deleted), after);
    }

    #[test]
    fn a_replaced_phrase_is_one_deletion_and_one_insertion() {
        let pieces = words("Kontakt Jens Hansen i dag.", "Kontakt Anne Berg i dag.");
        let changed: Vec<&str> = pieces
            .iter()
            .filter(|p| p.kind != PieceKind::Same)
            .map(|p| p.text.as_str())
            .collect();
        assert_eq!(changed, ["Jens Hansen", "Anne Berg"]);
        // Punctuation is its own word, æøå are letters, and lines stay lines.
        let before = "1. Genstart serveren (drift, 1h)\n2. Kontrollér log på Økonomi.";
        let after = "1. Genstart serverne (drift, 1h)\n2. Kontrollér log på Økonomi!";
        let pieces = words(before, after);
        assert_eq!(read(&pieces, PieceKind::Inserted), before);
        assert_eq!(read(&pieces, PieceKind::Deleted), after);
        assert!(
            pieces
                .iter()
                .any(|p| p.kind == PieceKind::Inserted && p.text == "!")
        );
        assert!(
            words("", "Ny tekst")
                .iter()
                .all(|p| p.kind == PieceKind::Inserted)
        );
    }

    #[test]
    fn equal_plans_have_no_differences() {
        assert_eq!(plan_changes(&plan(), &plan()), vec![]);
    }

    #[test]
    fn changes_name_the_system_and_field_with_readable_values() {
        let before = plan();
        let mut after = plan();
        after.systems[2].rto = Some(Duration::from_minutes(150));
        after.systems[2].recovery_steps[0].text = "genstart".into();
        after.sections.purpose = "Formål".into();
        after.systems.remove(0);
        let changes = plan_changes(&before, &after);
        assert_eq!(changes[0].subject, Subject::Plan);
        assert_eq!(changes[0].field, "purpose");
        let ad: Vec<&Change> = changes
            .iter()
            .filter(|c| c.subject.system() == Some("ad"))
            .collect();
        assert_eq!(ad.len(), 2);
        assert_eq!(
            (ad[0].field, ad[0].before.as_str(), ad[0].after.as_str()),
            ("rto", "4h", "2h 30m")
        );
        assert_eq!(ad[1].after, "1. genstart (tech, 1h)");
        // A removed system lists what it held, each field going to empty.
        let power: Vec<&Change> = changes
            .iter()
            .filter(|c| c.subject.system() == Some("power"))
            .collect();
        assert!(power.iter().all(|c| c.after.is_empty()));
        assert!(
            power
                .iter()
                .any(|c| c.field == "name" && c.before == "POWER")
        );
    }
}
