//! Plan folders on disk (`plans/<plan-id>/plan.toml`, `plans/<plan-id>/systems/<id>.toml`) to and
//! from the domain, with every problem reported against the file, line and field it comes from.
//!
//! Reading never stops at the first problem: every file is read, every field converted, and the
//! analysis runs on whatever could be read, so one `validate` run shows everything to fix.

mod raw;
pub mod scenarios;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::domain::analysis::{self, Code, Finding, Severity};
use crate::domain::{Plan, PlanId, SystemId};
use raw::{Errors, PlanFile, SystemFile};

/// Files larger than this are refused before they are parsed.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A finding together with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Located {
    #[serde(flatten)]
    pub finding: Finding,
    pub file: PathBuf,
    pub line: Option<usize>,
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

fn file_finding(code: Code, path: &Path, line: Option<usize>, message: String) -> Located {
    Located {
        finding: Finding::new(code, vec![], None, message),
        file: path.to_path_buf(),
        line,
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The entries of `folder` whose name ends in `.toml`, sorted; what each one is gets checked
/// when it is read, so that a folder or pipe of that name is reported, not skipped.
fn toml_entries(folder: &Path) -> io::Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = fs::read_dir(folder)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    Ok(paths)
}

/// What a path that is not a regular file is, for the message that refuses it.
fn not_a_file(file_type: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a named pipe (FIFO), not a file: not read";
        }
        if file_type.is_socket() {
            return "a socket, not a file: not read";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device, not a file: not read";
        }
    }
    if file_type.is_dir() {
        "a folder, not a file: not read"
    } else {
        "not a regular file: not read"
    }
}

/// Where the files of one folder of a plan (the plan folder itself, `systems/`, `scenarios/`)
/// may come from: the plan folder, resolved, and whether the folder being read resolves inside
/// it. Resolved once per folder, so that an ordinary folder costs no look-up per file.
struct Bounds {
    root: Option<PathBuf>,
    folder_inside: bool,
}

impl Bounds {
    /// For the plan folder's own files (`plan.toml`).
    fn plan_folder(root: &Path) -> Bounds {
        Bounds {
            root: fs::canonicalize(root).ok(),
            folder_inside: true,
        }
    }

    fn of(root: &Path, folder: &Path) -> Bounds {
        let root = fs::canonicalize(root).ok();
        let folder_inside = root
            .as_ref()
            .is_some_and(|r| fs::canonicalize(folder).is_ok_and(|f| f.starts_with(r)));
        Bounds {
            root,
            folder_inside,
        }
    }
}

/// Reads a file of a plan folder whole, refusing what is too large or not UTF-8, what
/// lies outside the folder once symbolic links are followed (the file's or a folder's on the
/// way, such as `systems/` itself), and anything that is not a regular file (a folder, a named
/// pipe that would block, a device that never ends).
fn read_text(path: &Path, bounds: &Bounds) -> Result<String, Located> {
    let fail = |line, message| Err(file_finding(Code::InvalidFile, path, line, message));
    let link = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return fail(None, "file not found".into());
        }
        Err(e) => return fail(None, format!("cannot be read: {e}")),
    };
    if link.file_type().is_symlink() || !bounds.folder_inside {
        let target = match fs::canonicalize(path) {
            Ok(target) => target,
            Err(_) if link.file_type().is_symlink() => {
                return fail(None, "a symbolic link to nothing: not read".into());
            }
            Err(e) => return fail(None, format!("cannot be read: {e}")),
        };
        if !bounds
            .root
            .as_ref()
            .is_some_and(|root| target.starts_with(root))
        {
            return fail(
                None,
                format!(
                    "leads to {}, outside the plan folder: not read",
                    target.display()
                ),
            );
        }
    }
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return fail(None, format!("cannot be read: {e}")),
    };
    if !meta.is_file() {
        return fail(None, not_a_file(meta.file_type()).into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return fail(
            None,
            format!(
                "file is {:.1} MB; plan files may be at most {} MB",
                meta.len() as f64 / 1_048_576.0,
                MAX_FILE_BYTES / 1_048_576
            ),
        );
    }
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => return fail(None, format!("cannot be read: {e}")),
    };
    String::from_utf8(bytes).or_else(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        fail(
            Some(line),
            format!("not valid UTF-8 (byte {at}); save the file as UTF-8"),
        )
    })
}

/// Parses a TOML file into `T`, rejecting unknown fields; the error names field and line.
fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, Located> {
    let fail = |e: toml::de::Error, table: Option<&DeTable>| {
        let span = e.span();
        let line = span.as_ref().map(|s| line_of(text, s.start));
        let field = match (table, span) {
            (Some(t), Some(s)) => path_at(t, &s),
            _ => None,
        };
        let message = e.message().trim_end().replace('\n', " ");
        Located {
            finding: Finding::new(Code::InvalidFile, vec![], field, message),
            file: path.to_path_buf(),
            line,
        }
    };
    let table = DeTable::parse(text).map_err(|e| fail(e, None))?;
    if let Some((span, c)) = control_character(table.get_ref()) {
        return Err(Located {
            finding: Finding::new(
                Code::InvalidFile,
                vec![],
                path_at(table.get_ref(), &span),
                format!(
                    "holds the control character {}: only tab, CR and LF are allowed in text",
                    crate::domain::edit::char_code(c)
                ),
            ),
            file: path.to_path_buf(),
            line: Some(line_of(text, span.start)),
        });
    }
    T::deserialize(toml::de::Deserializer::from(table.clone()))
        .map_err(|e| fail(e, Some(table.get_ref())))
}

/// The span of the first text in `table` that holds a character no text may hold (written as an
/// escape such as `\u0007`; TOML refuses most of them raw), and the character.
fn control_character(table: &DeTable) -> Option<(Range<usize>, char)> {
    fn in_value(value: &Spanned<DeValue>) -> Option<(Range<usize>, char)> {
        match value.get_ref() {
            DeValue::String(text) => {
                crate::domain::edit::forbidden_control(text).map(|c| (value.span(), c))
            }
            DeValue::Array(items) => items.iter().find_map(in_value),
            DeValue::Table(t) => control_character(t),
            _ => None,
        }
    }
    table.iter().find_map(|(key, value)| {
        crate::domain::edit::forbidden_control(key.get_ref())
            .map(|c| (key.span(), c))
            .or_else(|| in_value(value))
    })
}

/// The path of the innermost key whose key or value contains `span`, e.g. `recovery_steps[1].role`.
/// Tables written as `[header]` span only their header, so every table is searched inside.
fn path_at(table: &DeTable, span: &Range<usize>) -> Option<String> {
    fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
        outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
    }
    /// The path below `value` (starting with `.` or `[`), if `span` lies inside it.
    fn inside(value: &Spanned<DeValue>, span: &Range<usize>) -> Option<String> {
        match value.get_ref() {
            DeValue::Table(t) => in_table(t, span).map(|p| format!(".{p}")),
            DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                inside(item, span)
                    .or_else(|| contains(&item.span(), span).then(String::new))
                    .map(|rest| format!("[{i}]{rest}"))
            }),
            _ => None,
        }
    }
    fn in_table(table: &DeTable, span: &Range<usize>) -> Option<String> {
        table.iter().find_map(|(key, value)| {
            let name = key.get_ref();
            if contains(&key.span(), span) {
                return Some(name.to_string());
            }
            inside(value, span)
                .map(|rest| format!("{name}{rest}"))
                .or_else(|| contains(&value.span(), span).then(|| name.to_string()))
        })
    }
    in_table(table, span)
}

/// The span of the value at `path` (`depends_on[2]`, `supplier.contract_restore`), or of the
/// deepest part of it that exists.
fn span_of(table: &DeTable, path: &str) -> Option<Range<usize>> {
    let mut found: Option<Range<usize>> = None;
    let mut current: Option<&Spanned<DeValue>> = None;
    for segment in path.split('.') {
        let (name, indices) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        let scope = match current.map(Spanned::get_ref) {
            None => table,
            Some(DeValue::Table(t)) => t,
            _ => return found,
        };
        let Some((key, value)) = scope.iter().find(|(k, _)| k.get_ref() == name) else {
            return found;
        };
        found = Some(key.span());
        current = Some(value);
        for index in indices.split(['[', ']']).filter(|s| !s.is_empty()) {
            let item = match (current.map(Spanned::get_ref), index.parse::<usize>()) {
                (Some(DeValue::Array(a)), Ok(i)) => a.get(i),
                _ => None,
            };
            match item {
                Some(item) => {
                    found = Some(item.span());
                    current = Some(item);
                }
                None => return found,
            }
        }
    }
    // A scalar's own span is more precise than its key's; tables keep the key's line.
    match current.map(Spanned::get_ref) {
        Some(DeValue::Table(_)) | None => found,
        Some(_) => current.map(Spanned::span),
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

/// Removes the `.toml` files of `folder` whose names are not in `keep`.
fn remove_others(folder: &Path, keep: &HashSet<String>) -> io::Result<()> {
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if path.extension().is_some_and(|x| x == "toml") && !name.is_some_and(|n| keep.contains(&n))
        {
            fs::remove_file(&path)?;
        }
    }
    Ok(())
}

fn to_toml<T: Serialize>(value: &T) -> io::Result<String> {
    toml::to_string_pretty(value).map_err(io::Error::other)
}

/// Writes through a temporary file and a rename, so a file is never left half-written.
fn write_file(path: &Path, text: &str) -> io::Result<()> {
    let tmp = path.with_extension("toml.tmp");
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path)
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

    #[test]
    fn spans_are_found_by_path() {
        let text = "name = \"x\"\ndepends_on = [\"a\",\n  \"b\"]\n[supplier]\nname = \"s\"\ncontract_restore = \"4h\"\n[[recovery_steps]]\ntext = \"t\"\n[[recovery_steps]]\nrole = \"r\"\n";
        let table = DeTable::parse(text).unwrap();
        let line = |path| span_of(table.get_ref(), path).map(|s| line_of(text, s.start));
        assert_eq!(line("name"), Some(1));
        assert_eq!(line("depends_on[1]"), Some(3));
        assert_eq!(line("supplier.contract_restore"), Some(6));
        assert_eq!(line("recovery_steps[1].role"), Some(10));
        assert_eq!(line("recovery_steps[1].missing"), Some(9));
        assert_eq!(line("nothing"), None);
    }
}
