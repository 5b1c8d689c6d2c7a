//! Plan folders on disk (`plans/<plan-id>/plan.toml`, `plans/<plan-id>/systems/<id>.toml`) to and
//! from the domain, with every problem reported against the file, line and field it comes from.
//!
//! Reading never stops at the first problem: every file is read, every field converted, and the
//! analysis runs on whatever could be read, so one `validate` run shows everything to fix.
//!
//! This module reads and writes a plan folder; `files` holds the file access (what may be read,
//! how a file is written), `locate` the TOML parsing and the lines of fields, `raw` the files'
//! own shapes, `scenarios` the scenario library's folder.

mod files;
mod locate;
mod raw;
pub mod scenarios;
pub mod sheet;

pub use files::MAX_FILE_BYTES;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;
use toml::Spanned;
use toml::de::DeTable;

use crate::domain::analysis::{self, Code, Finding, Severity};
use crate::domain::{Plan, PlanId, SystemId};
use files::{Bounds, read_text, remove_others, toml_entries, write_file};
use locate::{line_of, parse_toml, span_of};
use raw::{Errors, PlanFile, SystemFile};

/// A finding together with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    #[serde(flatten)]
    pub finding: Finding,
    pub file: PathBuf,
    /// The line in `file`, from 1 (a `u32` keeps findings small; no plan file has more lines).
    pub line: Option<u32>,
}

impl Located {
    pub fn severity(&self) -> Severity {
        self.finding.severity()
    }
}

/// `plans/x/systems/opus.toml:7: opus: depends_on: unknown system "ad2" (did you mean "ad"?)`
impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        f.write_str(": ")?;
        if let Some(system) = self.finding.system() {
            write!(f, "{system}: ")?;
        }
        if let Some(field) = &self.finding.field {
            write!(f, "{}: ", display_field(field))?;
        }
        f.write_str(&self.finding.message)
    }
}

/// `depends_on[2]` reads as `depends_on`: the line number already points at the entry.
fn display_field(field: &str) -> &str {
    match field
        .strip_suffix(']')
        .and_then(|f| f.rfind('[').map(|i| &f[..i]))
    {
        Some(head) if !head.contains(['.', '[']) => head,
        _ => field,
    }
}

/// The folder itself could not be read: nothing in it was looked at.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: not a folder", .0.display())]
    NotAFolder(PathBuf),
}

/// A plan folder as read: the plan (when `plan.toml` could be read) and everything found.
#[derive(Debug)]
pub struct LoadedPlan {
    pub plan: Option<Plan>,
    /// The plan's scenario library (the scenarios without errors).
    pub scenarios: Vec<crate::domain::drill::Scenario>,
    /// Errors first, then warnings; each located in its file.
    pub findings: Vec<Located>,
}

impl LoadedPlan {
    pub fn errors(&self) -> impl Iterator<Item = &Located> {
        self.findings
            .iter()
            .filter(|f| f.severity() == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Located> {
        self.findings
            .iter()
            .filter(|f| f.severity() == Severity::Warning)
    }

    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }
}

/// One file's text, kept to find line numbers once all findings are known.
struct Source {
    path: PathBuf,
    text: String,
}

fn io_error(path: &Path, source: io::Error) -> ReadError {
    ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn file_finding(code: Code, path: &Path, line: Option<u32>, message: String) -> Located {
    Located {
        finding: Finding::new(code, vec![], None, message),
        file: path.to_path_buf(),
        line,
    }
}

/// Reads a plan folder and analyses it as of `today`.
pub fn load(dir: &Path, today: NaiveDate) -> Result<LoadedPlan, ReadError> {
    load_with_progress(dir, today, &mut |_, _| {})
}

/// `load`, telling `progress(done, total)` after each system file is read.
pub fn load_with_progress(
    dir: &Path,
    today: NaiveDate,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<LoadedPlan, ReadError> {
    let meta = fs::metadata(dir).map_err(|e| io_error(dir, e))?;
    if !meta.is_dir() {
        return Err(ReadError::NotAFolder(dir.to_path_buf()));
    }
    // Reading the folder proves it is readable before anything is reported against its files.
    fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut findings: Vec<Located> = Vec::new();
    let plan_path = dir.join("plan.toml");

    let folder_name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let plan_id = PlanId::parse(&folder_name)
        .map_err(|e| {
            findings.push(file_finding(
                Code::InvalidValue,
                dir,
                None,
                format!("the folder name is the plan's id: {e}"),
            ))
        })
        .ok();

    let mut sources: Vec<Source> = Vec::new();
    // Field errors per source, located once every file is read.
    let mut pending: Vec<(usize, Option<SystemId>, raw::FieldError)> = Vec::new();

    let plan = match read_text(&plan_path, &Bounds::plan_folder(dir)).and_then(|text| {
        let file: PlanFile = parse_toml(&plan_path, &text)?;
        Ok((text, file))
    }) {
        Err(located) => {
            findings.push(located);
            None
        }
        Ok((text, file)) => {
            sources.push(Source {
                path: plan_path.clone(),
                text,
            });
            let mut errors = Errors::default();
            let plan = plan_id.and_then(|id| file.into_plan(id, &mut errors));
            pending.extend(errors.0.into_iter().map(|e| (0, None, e)));
            plan
        }
    };

    let mut systems = Vec::new();
    let mut system_source: HashMap<SystemId, usize> = HashMap::new();
    // Systems whose file exists but could not be read: not "unknown" to their dependents.
    let mut unreadable: HashSet<String> = HashSet::new();
    let systems_dir = dir.join("systems");
    let bounds = Bounds::of(dir, &systems_dir);
    let paths: Vec<PathBuf> = match toml_entries(&systems_dir) {
        Ok(paths) => paths,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            findings.push(file_finding(
                Code::InvalidFile,
                &systems_dir,
                None,
                format!("cannot be read: {e}"),
            ));
            Vec::new()
        }
    };
    let total = paths.len();
    for (done, path) in paths.into_iter().enumerate() {
        progress(done, total);
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = match SystemId::parse(&stem) {
            Ok(id) => id,
            Err(e) => {
                findings.push(file_finding(
                    Code::InvalidValue,
                    &path,
                    None,
                    format!("the file name is the system's id: {e}"),
                ));
                continue;
            }
        };
        match read_text(&path, &bounds).and_then(|text| {
            let file: SystemFile = parse_toml(&path, &text)?;
            Ok((text, file))
        }) {
            Err(mut located) => {
                located.finding.systems = vec![id.clone()];
                findings.push(located);
                unreadable.insert(stem);
            }
            Ok((text, file)) => {
                let mut errors = Errors::default();
                let system = file.into_system(id.clone(), &mut errors);
                let index = sources.len();
                sources.push(Source { path, text });
                pending.extend(errors.0.into_iter().map(|e| (index, Some(id.clone()), e)));
                system_source.insert(id, index);
                systems.push(system);
            }
        }
    }

    let mut located_pending: Vec<(usize, Finding)> = pending
        .into_iter()
        .map(|(index, system, e)| {
            (
                index,
                Finding::new(
                    e.code,
                    system.into_iter().collect(),
                    Some(e.field),
                    e.message,
                ),
            )
        })
        .collect();

    let plan = plan.map(|mut plan| {
        plan.systems = systems;
        plan.tidy();
        for finding in analysis::check(&plan, today) {
            if finding.code == Code::UnknownDependency
                && depends_on_unreadable(&plan, &finding, &unreadable)
            {
                continue;
            }
            let index = finding
                .system()
                .and_then(|s| system_source.get(s).copied())
                .unwrap_or(0);
            located_pending.push((index, finding));
        }
        plan
    });

    // Locate every finding in its file, parsing each file once.
    located_pending.sort_by_key(|(index, _)| *index);
    let mut parsed: Option<(usize, Option<Spanned<DeTable>>)> = None;
    for (index, finding) in located_pending {
        let Some(source) = sources.get(index) else {
            continue;
        };
        if parsed.as_ref().is_none_or(|(i, _)| *i != index) {
            parsed = Some((index, DeTable::parse(&source.text).ok()));
        }
        let line = match (&parsed, &finding.field) {
            (Some((_, Some(table))), Some(field)) => {
                span_of(table.get_ref(), field).map(|s| line_of(&source.text, s.start))
            }
            _ => None,
        };
        findings.push(Located {
            finding,
            file: source.path.clone(),
            line,
        });
    }
    let scenarios = match &plan {
        Some(plan) => {
            let (library, problems) = scenarios::load(dir, plan);
            findings.extend(problems);
            library
        }
        None => Vec::new(),
    };
    findings.sort_by(|a, b| {
        (a.severity(), &a.file, a.line, a.finding.code).cmp(&(
            b.severity(),
            &b.file,
            b.line,
            b.finding.code,
        ))
    });
    Ok(LoadedPlan {
        plan,
        scenarios,
        findings,
    })
}

fn depends_on_unreadable(plan: &Plan, finding: &Finding, unreadable: &HashSet<String>) -> bool {
    let index = finding
        .field
        .as_deref()
        .and_then(|f| f.strip_prefix("depends_on["))
        .and_then(|f| f.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok());
    match (
        finding.system().and_then(|s| plan.system(s.as_str())),
        index,
    ) {
        (Some(system), Some(i)) => system
            .depends_on
            .get(i)
            .is_some_and(|d| unreadable.contains(d.as_str())),
        _ => false,
    }
}

/// Writes a plan as a folder: `plan.toml` and one file per system. System files of systems the
/// plan no longer has are removed, so the folder matches the plan exactly.
pub fn write(plan: &Plan, dir: &Path) -> io::Result<()> {
    write_with_progress(plan, dir, &mut |_, _| {})
}

/// `write`, telling `progress(done, total)` after each system file is written.
pub fn write_with_progress(
    plan: &Plan,
    dir: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> io::Result<()> {
    let systems_dir = dir.join("systems");
    fs::create_dir_all(&systems_dir)?;
    write_file(
        &dir.join("plan.toml"),
        &to_toml(&PlanFile::from_plan(plan))?,
    )?;
    let mut keep = HashSet::new();
    for (done, system) in plan.systems.iter().enumerate() {
        progress(done, plan.systems.len());
        let name = format!("{}.toml", system.id);
        write_file(
            &systems_dir.join(&name),
            &to_toml(&SystemFile::from_system(system))?,
        )?;
        keep.insert(name);
    }
    remove_others(&systems_dir, &keep)
}

fn to_toml<T: Serialize>(value: &T) -> io::Result<String> {
    toml::to_string_pretty(value).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_indices_are_left_to_the_line_number() {
        assert_eq!(display_field("depends_on[2]"), "depends_on");
        assert_eq!(
            display_field("recovery_steps[1].role"),
            "recovery_steps[1].role"
        );
        assert_eq!(display_field("people[0].roles[1]"), "people[0].roles[1]");
        assert_eq!(display_field("rto"), "rto");
    }
}
