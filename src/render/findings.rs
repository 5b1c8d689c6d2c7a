//! What the analysis and the completeness check found, in the reader's language: each finding's
//! text from the locale strings (`finding.text.<key>`) with its values written as the reader
//! writes them (systems by name, `4 t.`, `10. juni 2025`), field paths as field names
//! (`depends_on[0]` is "Afhængighed 1"), and the standards' references and gaps of each
//! completeness check.

use std::cell::OnceCell;
use std::collections::HashMap;

use crate::domain::Plan;
use crate::domain::analysis::{Arg, Finding};
use crate::domain::completeness::{Gap, Reference, Standard};
use crate::domain::dispensation::{Dispensation, Subject};

use super::i18n::{self, Locales};

/// Writes findings for one reader: their language, and the plan that names the systems.
pub struct Words<'a> {
    locales: &'a Locales,
    lang: &'a str,
    plan: Option<&'a Plan>,
    /// The plan's systems' names by id, made at the first system named.
    names: OnceCell<HashMap<&'a str, &'a str>>,
}

impl<'a> Words<'a> {
    pub fn new(locales: &'a Locales, lang: &'a str, plan: Option<&'a Plan>) -> Self {
        Words {
            locales,
            lang,
            plan,
            names: OnceCell::new(),
        }
    }

    fn get(&self, key: &str) -> &'a str {
        self.locales.get(self.lang, key).unwrap_or("")
    }

    /// What the finding says. A finding of the plan reader has no text of its own and keeps
    /// its message (it names a file's line and what was written there).
    pub fn finding(&self, f: &Finding) -> String {
        let template = match f.said.key {
            "" => None,
            key => self.locales.get(self.lang, &format!("finding.text.{key}")),
        };
        let Some(template) = template else {
            return f.message.clone();
        };
        let args = &f.said.args;
        let mut text = fill(template, |name| args.get(name).map(|a| self.arg(a)));
        if let Some(near) = args.get("suggestion") {
            text.push(' ');
            text.push_str(
                &self
                    .get("finding.hint")
                    .replace("{suggestion}", &self.arg(near)),
            );
        }
        text
    }

    /// What dispensation `d` is from: the finding's text while the analysis (`findings`) still
    /// makes it, else its code and systems; a completeness requirement by its title; a policy
    /// requirement as written.
    pub fn dispensation_subject(&self, d: &Dispensation, findings: &[Finding]) -> String {
        match &d.subject {
            Subject::Finding { code, systems } => {
                let names = self.list(systems.iter().map(|s| self.system(s.as_str())));
                match findings
                    .iter()
                    .find(|f| f.code == *code && f.systems == *systems)
                {
                    Some(f) if names.is_empty() => self.finding(f),
                    Some(f) => format!("{names}: {}", self.finding(f)),
                    None if names.is_empty() => code.to_string(),
                    None => format!("{names}: {code}"),
                }
            }
            Subject::Requirement { check } => self
                .locales
                .get(self.lang, &format!("completeness.check.{check}.title"))
                .map_or_else(|| check.clone(), str::to_string),
            Subject::Policy { text } => text.clone(),
        }
    }

    /// A spreadsheet cell that cannot be used: "række 14, kolonne RTO: »tre timer« er ikke en
    /// varighed".
    pub fn cell_error(&self, e: &crate::domain::sheet::CellError) -> String {
        self.get(e.problem.key())
            .replace("{row}", &e.row.to_string())
            .replace("{column}", &e.column)
            .replace("{value}", &e.value)
    }

    /// "accepteret til 1. juni 2027 (dispensation 4)", when a dispensation accepts it.
    pub fn accepted(&self, f: &Finding) -> Option<String> {
        let a = f.accepted()?;
        Some(
            self.get("finding.accepted_until")
                .replace("{date}", &i18n::date(a.until, self.lang))
                .replace("{id}", &a.dispensation.to_string()),
        )
    }

    fn arg(&self, arg: &Arg) -> String {
        match arg {
            Arg::System(id) => self.system(id.as_str()),
            Arg::Path(ids) => ids
                .iter()
                .map(|id| self.system(id.as_str()))
                .collect::<Vec<_>>()
                .join(" → "),
            Arg::Systems(ids) => self.list(ids.iter().map(|id| self.system(id.as_str()))),
            Arg::Id(id) => self.get("finding.quoted").replace("{id}", id),
            Arg::Duration(d) => i18n::duration(*d, self.lang),
            Arg::Date(d) => i18n::date(*d, self.lang),
            Arg::Number(n) => i18n::count(i64::try_from(*n).unwrap_or(i64::MAX), self.lang),
            Arg::Fields(names) => self.list(names.iter().map(|n| lower_first(&self.label(n)))),
        }
    }

    /// A system by its name, or by its id when the plan has none by that id.
    pub fn system(&self, id: &str) -> String {
        self.names
            .get_or_init(|| {
                self.plan
                    .map(|p| {
                        p.systems
                            .iter()
                            .map(|s| (s.id.as_str(), s.name.as_str()))
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .get(id)
            .map_or_else(|| id.to_string(), |name| name.to_string())
    }

    /// `a, b og c`; `a, b and c`.
    fn list(&self, items: impl Iterator<Item = String>) -> String {
        let items: Vec<String> = items.collect();
        match items.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} {} {last}", rest.join(", "), self.get("finding.and")),
        }
    }

    /// The name of a field of a system section or the plan (`rto`, `supplier.contract_restore`).
    fn label(&self, name: &str) -> String {
        let key = name.replace('.', "_");
        match self.locales.get(self.lang, &format!("diff.label.{key}")) {
            Some(label) => label.to_string(),
            None => name.to_string(),
        }
    }

    /// A field path as a reader names the place: `depends_on[0]` is "Afhængighed 1",
    /// `recovery_steps[2].role` "Reetableringstrin 3, rolle", `supplier.contract_restore`
    /// "Leverandørens kontraktlige genopretningstid".
    pub fn field(&self, path: &str) -> String {
        if !path.contains('[') {
            return self.label(path);
        }
        let mut parts = Vec::new();
        for (i, segment) in path.split('.').enumerate() {
            let (name, index) = match segment.split_once('[') {
                Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<u64>().ok()),
                None => (segment, None),
            };
            let table = if i == 0 { "item" } else { "part" };
            let shown = self
                .locales
                .get(self.lang, &format!("finding.{table}.{name}"))
                .map(str::to_string)
                .unwrap_or_else(|| self.label(name));
            parts.push(match index {
                Some(n) => shown.replace("{n}", &(n + 1).to_string()),
                None => shown.replace(" {n}", ""),
            });
        }
        parts.join(", ")
    }

    /// What a completeness check found missing.
    pub fn gap(&self, gap: &Gap) -> String {
        let t = |key: &str| self.get(&format!("completeness.gap.{key}"));
        match gap {
            Gap::Field { field } => self.label(field),
            Gap::Responsibilities { role } => {
                t("responsibilities").replace("{role}", &self.role(role.as_str()))
            }
            Gap::Unheld { field, role } => t("unheld")
                .replace("{field}", &lower_first(&self.label(field)))
                .replace("{role}", &self.role(role.as_str())),
            Gap::Phone { person } => t("phone").replace("{person}", &self.person(person.as_str())),
            Gap::System { system } => self.system(system.as_str()),
            Gap::ApprovedVersion => t("approved_version").to_string(),
            Gap::RecentDrill => t("recent_drill").to_string(),
            Gap::CallTreeTest => t("call_tree_test").to_string(),
            Gap::ReviewOverdue { system } => {
                t("review_overdue").replace("{system}", &self.system(system.as_str()))
            }
            Gap::NotExercised { system } => {
                t("not_exercised").replace("{system}", &self.system(system.as_str()))
            }
        }
    }

    /// Where the standards ask for a check: `NIS2-forordningen (EU) 2024/2690, bilag pkt.
    /// 4.1.2, litra a; ISO/IEC 27001:2022, kontrol A.5.30`.
    pub fn references(&self, refs: &[Reference]) -> String {
        refs.iter()
            .map(|r| {
                let points = r.points.iter().map(|p| match p.split_once('(') {
                    Some((point, letter)) => self
                        .get("completeness.ref.letter")
                        .replace("{point}", point)
                        .replace("{letter}", letter.trim_end_matches(')')),
                    None => p.to_string(),
                });
                let key = match r.standard {
                    Standard::Nis2 => "completeness.ref.nis2",
                    Standard::Iso27001 => "completeness.ref.iso27001",
                };
                self.get(key).replace("{points}", &self.list(points))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn role(&self, id: &str) -> String {
        self.plan
            .and_then(|p| p.roles.iter().find(|r| r.id.as_str() == id))
            .map_or_else(|| id.to_string(), |r| r.name.clone())
    }

    fn person(&self, id: &str) -> String {
        self.plan
            .and_then(|p| p.person(id))
            .map_or_else(|| id.to_string(), |p| p.name.clone())
    }
}

/// A field's name inside a sentence: `reetableringstrin`, but `RTO` and `MTPD` as they are.
fn lower_first(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => first
            .to_lowercase()
            .chain(label[first.len_utf8()..].chars())
            .collect(),
        _ => label.to_string(),
    }
}

/// `template` with each `{name}` replaced by `value(name)`; a name without a value stays.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('}').map(|end| (&after[..end], end)) {
            Some((name, end)) => {
                match value(name) {
                    Some(v) => out.push_str(&v),
                    None => out.push_str(&rest[start..start + end + 2]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_names_and_keeps_the_rest() {
        let v = |n: &str| (n == "a").then(|| "1".to_string());
        assert_eq!(fill("x {a} y {b} {", v), "x 1 y {b} {");
    }
}
