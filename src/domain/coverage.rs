//! Exercise coverage: which systems have not been exercised in a drill within the plan's exercise
//! interval, or not since an approved version changed what their recovery rests on. ISO 22301
//! §8.5 and NIS2 (CIR 2024/2690 annex 4.1) ask for exercises at planned intervals and after
//! significant change.
//!
//! The inputs (when each system was last exercised, what each approved version changed) come from
//! the store; this module only decides.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::analysis::{Arg, Code, Finding, sort_findings};
use super::diff::system_fields;
use super::{Plan, System};

/// The fields of a system whose change means it should be exercised again: its horizons, what it
/// depends on and how it is recovered.
pub const SIGNIFICANT_FIELDS: [&str; 5] = ["rto", "rpo", "mtpd", "depends_on", "recovery_steps"];

/// The systems present in both plans whose significant fields differ, with those fields in
/// [`SIGNIFICANT_FIELDS`] order. Systems that are new in `after` are left out: they have never
/// been exercised, which [`check`] reports on its own.
pub fn significant_changes(before: &Plan, after: &Plan) -> BTreeMap<String, Vec<String>> {
    let significant = |s: &System| -> Vec<(&'static str, String)> {
        system_fields(s)
            .into_iter()
            .filter(|(name, _)| SIGNIFICANT_FIELDS.contains(name))
            .collect()
    };
    let mut out = BTreeMap::new();
    for new in &after.systems {
        let Some(old) = before.system(new.id.as_str()) else {
            continue;
        };
        let changed: Vec<String> = significant(old)
            .into_iter()
            .zip(significant(new))
            .filter(|(a, b)| a != b)
            .map(|((name, _), _)| name.to_string())
            .collect();
        if !changed.is_empty() {
            out.insert(new.id.to_string(), changed);
        }
    }
    out
}

/// The latest approved version that changed a system significantly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignificantChange {
    pub version: i32,
    pub approved_at: DateTime<Utc>,
    /// Which of [`SIGNIFICANT_FIELDS`] changed.
    pub fields: Vec<String>,
}

/// A `not-exercised` warning for every system of `plan` that was never exercised, was last
/// exercised longer ago than the plan's exercise interval, or was changed significantly by an
/// approved version after it was last exercised. `last_exercised` holds when each system (by id)
/// was last exercised in a closed drill; `changes` the latest significant change of each.
pub fn check(
    plan: &Plan,
    last_exercised: &HashMap<String, DateTime<Utc>>,
    changes: &HashMap<String, SignificantChange>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let interval = plan.exercise_interval;
    let span = chrono::Duration::minutes(i64::try_from(interval.minutes()).unwrap_or(i64::MAX));
    let mut out = Vec::new();
    for system in &plan.systems {
        let last = last_exercised.get(system.id.as_str()).copied();
        let changed = changes
            .get(system.id.as_str())
            .filter(|c| last.is_none_or(|at| at < c.approved_at));
        let finding = |message: String| {
            Finding::new(Code::NotExercised, vec![system.id.clone()], None, message)
        };
        out.push(match (last, changed) {
            (Some(_), Some(c)) => finding(format!(
                "version {} (approved {}) changed {}; not exercised since",
                c.version,
                c.approved_at.date_naive(),
                c.fields.join(", ")
            ))
            .says(
                "changed-since-exercised",
                [
                    ("version", Arg::Number(c.version.unsigned_abs().into())),
                    ("approved", Arg::Date(c.approved_at.date_naive())),
                    ("fields", Arg::Fields(c.fields.clone())),
                ],
            ),
            (None, _) => finding(format!(
                "never exercised in a drill (exercise interval {interval})"
            ))
            .says("never-exercised", [("interval", Arg::Duration(interval))]),
            (Some(at), None) => match at.checked_add_signed(span) {
                Some(due) if due >= now => continue,
                None => continue,
                Some(due) => finding(format!(
                    "last exercised {}, an exercise was due by {} (interval {interval})",
                    at.date_naive(),
                    due.date_naive()
                ))
                .says(
                    "exercise-overdue",
                    [
                        ("last", Arg::Date(at.date_naive())),
                        ("due", Arg::Date(due.date_naive())),
                        ("interval", Arg::Duration(interval)),
                    ],
                ),
            },
        });
    }
    sort_findings(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Duration;
    use crate::domain::analysis::tests::{plan, utc};

    fn messages(findings: &[Finding]) -> Vec<(String, String)> {
        findings
            .iter()
            .map(|f| (f.systems[0].to_string(), f.message.clone()))
            .collect()
    }

    #[test]
    fn horizons_dependencies_and_steps_are_significant_and_text_is_not() {
        let before = plan();
        let mut after = before.clone();
        let ids: Vec<String> = after.systems.iter().map(|s| s.id.to_string()).collect();
        after.systems[0].rto = Some(Duration::parse("2h").unwrap());
        after.systems[0].description = "changed text".into();
        after.systems[1].recovery_steps[0].duration = Duration::parse("3h").unwrap();
        after.systems[1].depends_on.clear();
        after.systems[2].workaround = "only text".into();
        let changed = significant_changes(&before, &after);
        assert_eq!(changed.get(&ids[0]), Some(&vec!["rto".to_string()]));
        assert_eq!(
            changed.get(&ids[1]),
            Some(&vec![
                "depends_on".to_string(),
                "recovery_steps".to_string()
            ])
        );
        assert!(
            !changed.contains_key(&ids[2]),
            "text alone is not significant"
        );
        assert!(significant_changes(&before, &before).is_empty());
    }

    #[test]
    fn never_overdue_and_changed_since_are_flagged_and_recent_exercises_are_not() {
        let p = plan();
        let ids: Vec<String> = p.systems.iter().map(|s| s.id.to_string()).collect();
        assert!(ids.len() >= 4);
        let now = utc("2026-12-01T12:00:00Z");
        let mut last = HashMap::new();
        last.insert(ids[0].clone(), utc("2026-06-01T09:00:00Z")); // recent
        last.insert(ids[1].clone(), utc("2025-06-01T09:00:00Z")); // more than 52 weeks ago
        last.insert(ids[2].clone(), utc("2026-05-01T09:00:00Z")); // then changed
        last.insert(ids[3].clone(), utc("2026-11-01T09:00:00Z")); // changed, then exercised
        let change = |at: &str| SignificantChange {
            version: 3,
            approved_at: utc(at),
            fields: vec!["rto".into(), "recovery_steps".into()],
        };
        let mut changes = HashMap::new();
        changes.insert(ids[2].clone(), change("2026-10-01T10:00:00Z"));
        changes.insert(ids[3].clone(), change("2026-10-01T10:00:00Z"));
        let found = messages(&check(&p, &last, &changes, now));
        let of = |id: &str| found.iter().find(|(s, _)| s == id).map(|(_, m)| m.as_str());
        assert_eq!(of(&ids[0]), None);
        assert_eq!(
            of(&ids[1]),
            Some("last exercised 2025-06-01, an exercise was due by 2026-05-31 (interval 52w)")
        );
        assert_eq!(
            of(&ids[2]),
            Some(
                "version 3 (approved 2026-10-01) changed rto, recovery_steps; not exercised since"
            )
        );
        assert_eq!(of(&ids[3]), None, "exercised after the change");
        for id in &ids[4..] {
            assert_eq!(
                of(id),
                Some("never exercised in a drill (exercise interval 52w)")
            );
        }
        assert!(check(&p, &last, &changes, now).iter().all(
            |f| f.code == Code::NotExercised && f.severity() == super::super::Severity::Warning
        ));
    }

    #[test]
    fn a_shorter_interval_flags_sooner() {
        let mut p = plan();
        p.exercise_interval = Duration::parse("4w").unwrap();
        let id = p.systems[0].id.to_string();
        let last = HashMap::from([(id.clone(), utc("2026-10-01T09:00:00Z"))]);
        let found = check(&p, &last, &HashMap::new(), utc("2026-12-01T00:00:00Z"));
        assert!(
            found
                .iter()
                .any(|f| f.systems[0].as_str() == id && f.message.contains("interval 4w"))
        );
        let found = check(&p, &last, &HashMap::new(), utc("2026-10-15T00:00:00Z"));
        assert!(found.iter().all(|f| f.systems[0].as_str() != id));
    }
}
