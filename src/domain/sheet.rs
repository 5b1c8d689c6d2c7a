//! Systems from a spreadsheet, without I/O: the header row matched to fields by name (Danish and
//! English, as the export writes them and as municipalities name them), each row read into a
//! system section (a new one, or the plan's own with the columns the sheet has replaced), every
//! cell that cannot be read named by row and column, and what would change.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::diff;
use super::{Criticality, Duration, Person, PersonId, Plan, Supplier, System, SystemId};

/// One cell as the reader found it (a formula by its cached value).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

impl Cell {
    /// The cell as text: numbers without a needless `.0`, dates as ISO dates.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Id,
    Name,
    Description,
    Criticality,
    Owner,
    Deputy,
    Rto,
    Rpo,
    Mtpd,
    DependsOn,
    Supplier,
    ContractRestore,
    Workaround,
    Verification,
    LastReviewed,
    /// Written by the export for the reader (findings, last exercised): not read back.
    Shown,
}

impl Field {
    /// The fields a column can be read as, in the order the import page offers them.
    pub const READ: [Field; 15] = [
        Field::Id,
        Field::Name,
        Field::Description,
        Field::Criticality,
        Field::Owner,
        Field::Deputy,
        Field::Rto,
        Field::Rpo,
        Field::Mtpd,
        Field::DependsOn,
        Field::Supplier,
        Field::ContractRestore,
        Field::Workaround,
        Field::Verification,
        Field::LastReviewed,
    ];

    /// Its name in forms, stored mappings and the locale (`sheet.col.<key>`).
    pub fn key(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Name => "name",
            Field::Description => "description",
            Field::Criticality => "criticality",
            Field::Owner => "owner",
            Field::Deputy => "deputy",
            Field::Rto => "rto",
            Field::Rpo => "rpo",
            Field::Mtpd => "mtpd",
            Field::DependsOn => "depends_on",
            Field::Supplier => "supplier",
            Field::ContractRestore => "contract_restore",
            Field::Workaround => "workaround",
            Field::Verification => "verification",
            Field::LastReviewed => "last_reviewed",
            Field::Shown => "shown",
        }
    }

    /// The field of `key`, among those a column can be read as.
    pub fn from_key(key: &str) -> Option<Field> {
        Field::READ.into_iter().find(|f| f.key() == key)
    }
}

/// Which field each column is read as, by its header, where the user chose otherwise than the
/// header's name says (`None`: not read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping(pub HashMap<String, Option<Field>>);

impl Mapping {
    /// How a header is looked up: trimmed, lower case.
    pub fn key(header: &str) -> String {
        header.trim().to_lowercase()
    }

    /// What the user chose for `header`, if anything.
    pub fn chosen(&self, header: &str) -> Option<Option<Field>> {
        self.0.get(&Mapping::key(header)).copied()
    }

    /// `self` with the choices of `over` on top.
    pub fn with(mut self, over: &Mapping) -> Mapping {
        self.0.extend(over.0.iter().map(|(k, v)| (k.clone(), *v)));
        self
    }
}

/// The field a header names, in Danish or English, case and surrounding space aside.
pub fn field_of(header: &str) -> Option<Field> {
    let h = header.trim().trim_end_matches(':').trim().to_lowercase();
    let field = match h.as_str() {
        "system" | "id" | "system-id" | "systemid" | "system id" => Field::Id,
        "navn" | "name" | "systemnavn" | "system name" => Field::Name,
        "beskrivelse" | "description" => Field::Description,
        "kritikalitet" | "criticality" => Field::Criticality,
        "systemejer" | "ejer" | "owner" | "system owner" => Field::Owner,
        "stedfortræder" | "deputy" => Field::Deputy,
        "rto" => Field::Rto,
        "rpo" => Field::Rpo,
        "mtpd" => Field::Mtpd,
        "afhænger af" | "afhængigheder" | "depends on" | "dependencies" => Field::DependsOn,
        "leverandør" | "supplier" => Field::Supplier,
        "leverandørens genetablering" | "supplier's restore time" | "contract restore" => {
            Field::ContractRestore
        }
        "nødprocedure" | "workaround" => Field::Workaround,
        "kontrol af at systemet kører igen"
        | "kontrol af, at systemet kører igen"
        | "checking the system is back"
        | "verification" => Field::Verification,
        "senest gennemgået" | "last reviewed" => Field::LastReviewed,
        "senest øvet" | "last exercised" | "fund" | "findings" => Field::Shown,
        _ => return None,
    };
    Some(field)
}

/// Why a cell cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    NotDuration,
    NotCriticality,
    NotDate,
    UnknownPerson,
    UnknownSystem,
    /// Neither an id nor a name to make one from.
    NoId,
    /// The same system on two rows.
    DuplicateId,
}

impl Problem {
    /// The locale key of its text (`sheet.problem.<key>`, with `{row}`, `{column}`, `{value}`).
    pub fn key(self) -> &'static str {
        match self {
            Problem::NotDuration => "sheet.problem.not_duration",
            Problem::NotCriticality => "sheet.problem.not_criticality",
            Problem::NotDate => "sheet.problem.not_date",
            Problem::UnknownPerson => "sheet.problem.unknown_person",
            Problem::UnknownSystem => "sheet.problem.unknown_system",
            Problem::NoId => "sheet.problem.no_id",
            Problem::DuplicateId => "sheet.problem.duplicate_id",
        }
    }
}

/// A cell that cannot be used: its row as the spreadsheet numbers it (the header is row 1),
/// its column's header and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CellError {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub problem: Problem,
}

/// What a row does to the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum RowChange {
    New,
    /// The fields that change, as the audit log names them.
    Changed {
        fields: Vec<String>,
    },
    Unchanged,
}

/// One row read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowOutcome {
    pub row: usize,
    pub system: SystemId,
    #[serde(flatten)]
    pub change: RowChange,
}

/// What importing the table would do: each row's outcome, every cell that cannot be used, the
/// headers not read, and the plan as it would be.
#[derive(Debug, Clone)]
pub struct Preview {
    pub rows: Vec<RowOutcome>,
    pub errors: Vec<CellError>,
    pub ignored_columns: Vec<String>,
    /// With the rows that have errors left out ([`preview_leaving_out`]): what they said.
    pub left_out: Vec<CellError>,
    /// People the sheet names that the plan lacks, made for it when that was asked for.
    pub new_people: Vec<PersonId>,
    /// Each named column and the field it was read as (`None`: not read).
    pub columns: Vec<(String, Option<Field>)>,
    pub plan: Plan,
}

/// How a sheet is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reading {
    /// Leave out the rows with a cell that cannot be used ([`preview_leaving_out`]).
    pub leave_out: bool,
    /// Add to the plan the people the sheet names (by name or e-mail) that it lacks.
    pub create_people: bool,
}

/// Reads `rows` against `plan` as `how` says, each column as `mapping` says or else as its
/// header names it; `progress(done, of)` is told how far the rows are, now and then.
pub fn read_rows(
    plan: &Plan,
    rows: &[Vec<Cell>],
    how: Reading,
    mapping: &Mapping,
    progress: &dyn Fn(usize, usize),
) -> Preview {
    let with = With {
        create_people: how.create_people,
        mapping,
        progress,
    };
    if how.leave_out {
        leaving_out(plan, rows, &with)
    } else {
        preview_as(plan, rows, &with)
    }
}

/// How [`preview_as`] reads.
struct With<'a> {
    create_people: bool,
    mapping: &'a Mapping,
    progress: &'a dyn Fn(usize, usize),
}

impl With<'_> {
    fn plain(mapping: &Mapping) -> With<'_> {
        With {
            create_people: false,
            mapping,
            progress: &|_, _| {},
        }
    }
}

/// Rows between two reports of progress.
const PROGRESS_EVERY: usize = 500;

/// A person made from how a sheet names them: by e-mail (the name is its local part until
/// someone writes it) or by name; the id from the name, made unique in the plan.
fn person_named(text: &str, plan: &Plan, made: &[Person]) -> Option<Person> {
    let text = text.trim();
    let (name, email) = match text.split_once('@') {
        Some((local, _)) => (local.replace(['.', '_'], " "), text.to_string()),
        None => (text.to_string(), String::new()),
    };
    let base = id_from_name(&name)?.to_string();
    let taken = |id: &str| {
        plan.people.iter().any(|p| p.id.as_str() == id) || made.iter().any(|p| p.id.as_str() == id)
    };
    let id = (1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|id| !taken(id))?;
    Some(Person {
        id: PersonId::parse(&id).ok()?,
        name,
        title: String::new(),
        email,
        phone: String::new(),
        roles: Vec::new(),
    })
}

impl Preview {
    pub fn changes_anything(&self) -> bool {
        self.rows.iter().any(|r| r.change != RowChange::Unchanged)
    }

    /// The rows counted by what they do; a row with a cell that cannot be used counts as
    /// failing only, so the counts add up to the rows.
    pub fn counts(&self) -> Counts {
        let failing: std::collections::BTreeSet<usize> =
            self.errors.iter().map(|e| e.row).collect();
        let mut counts = Counts {
            rows: self.rows.len(),
            failing: failing.len(),
            left_out: self
                .left_out
                .iter()
                .map(|e| e.row)
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            ..Counts::default()
        };
        for r in self.rows.iter().filter(|r| !failing.contains(&r.row)) {
            match r.change {
                RowChange::New => counts.new += 1,
                RowChange::Changed { .. } => counts.changed += 1,
                RowChange::Unchanged => counts.unchanged += 1,
            }
        }
        counts
    }
}

/// How many rows of a sheet do what.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub rows: usize,
    pub new: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Rows with a cell that cannot be used.
    pub failing: usize,
    /// Rows left out because they had one.
    pub left_out: usize,
}

/// The spreadsheet's name of column `i` (from 0): A, B, …, Z, AA, AB, …
fn column_letter(i: usize) -> String {
    let mut n = i + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rest = (n - 1) % 26;
        out.push(char::from(b'A' + u8::try_from(rest).unwrap_or(0)));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// An id made from a name: lower case, æ ø å written out, anything else a hyphen.
pub fn id_from_name(name: &str) -> Option<SystemId> {
    let mut out = String::new();
    for c in name.trim().to_lowercase().chars() {
        match c {
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            c if c.is_ascii_alphanumeric() => out.push(c),
            _ if !out.ends_with('-') && !out.is_empty() => out.push('-'),
            _ => {}
        }
    }
    SystemId::parse(out.trim_end_matches('-')).ok()
}

/// A row read: its number, the system it makes, and the dependencies it names (column, text),
/// resolved once every row is read.
type ReadRow = (usize, System, Vec<(String, String)>);

/// Reads `rows` (the first one the header) against `plan`: the systems the rows name are
/// replaced by what the rows say in the columns the sheet has (other fields stay as they are),
/// systems the plan lacks are added. The analysis of the result is the caller's.
pub fn preview(plan: &Plan, rows: &[Vec<Cell>]) -> Preview {
    preview_as(plan, rows, &With::plain(&Mapping::default()))
}

/// [`preview`], making the people the sheet names that the plan lacks when `create_people`,
/// and reading the columns as `mapping` says.
fn preview_as(plan: &Plan, rows: &[Vec<Cell>], with: &With) -> Preview {
    let (create_people, mapping) = (with.create_people, with.mapping);
    let mut out = Preview {
        rows: Vec::new(),
        errors: Vec::new(),
        ignored_columns: Vec::new(),
        left_out: Vec::new(),
        new_people: Vec::new(),
        columns: Vec::new(),
        plan: plan.clone(),
    };
    let mut made: Vec<Person> = Vec::new();
    let Some((header, body)) = rows.split_first() else {
        return out;
    };
    let mut taken: Vec<Field> = Vec::new();
    let columns: Vec<(usize, String, Field)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let text = h.text();
            let field = mapping
                .chosen(&text)
                .unwrap_or_else(|| field_of(&text))
                // A field a column before already gives is not read twice.
                .filter(|f| !taken.contains(f));
            if !text.is_empty() {
                out.columns
                    .push((text.clone(), field.filter(|f| *f != Field::Shown)));
            }
            match field {
                Some(Field::Shown) => None,
                Some(f) => {
                    taken.push(f);
                    Some((i, text, f))
                }
                None => {
                    if !text.is_empty() {
                        out.ignored_columns.push(text);
                    } else if body
                        .iter()
                        .any(|r| r.get(i).is_some_and(|c| !c.text().trim().is_empty()))
                    {
                        // Data under no header (a header cell merged across it): named by its
                        // letter, so that it is not lost unseen.
                        out.ignored_columns.push(column_letter(i));
                    }
                    None
                }
            }
        })
        .collect();
    let by_name: HashMap<String, &SystemId> = plan
        .systems
        .iter()
        .map(|s| (s.name.trim().to_lowercase(), &s.id))
        .collect();
    let person_of = |text: &str| -> Option<PersonId> {
        let t = text.trim().to_lowercase();
        plan.people
            .iter()
            .find(|p| {
                p.id.as_str() == t
                    || p.name.trim().to_lowercase() == t
                    || p.email.trim().to_lowercase() == t
            })
            .map(|p| p.id.clone())
    };
    let mut seen: HashMap<SystemId, usize> = HashMap::new();
    // Rows first read, dependencies resolved after, so a row may name a system added below it.
    let mut read: Vec<ReadRow> = Vec::new();
    for (n, cells) in body.iter().enumerate() {
        if n % PROGRESS_EVERY == 0 {
            (with.progress)(n, body.len());
        }
        let row = n + 2;
        let get = |field: Field| {
            columns
                .iter()
                .find(|(_, _, f)| *f == field)
                .map(|(i, h, _)| (h.clone(), cells.get(*i).cloned().unwrap_or(Cell::Empty)))
        };
        if cells.iter().all(|c| c.text().is_empty()) {
            continue;
        }
        let name = get(Field::Name).map(|(_, c)| c.text()).unwrap_or_default();
        let id_text = get(Field::Id).map(|(_, c)| c.text()).unwrap_or_default();
        let id = SystemId::parse(&id_text)
            .ok()
            .or_else(|| by_name.get(&id_text.to_lowercase()).map(|id| (*id).clone()))
            .or_else(|| by_name.get(&name.to_lowercase()).map(|id| (*id).clone()))
            .or_else(|| id_from_name(if name.is_empty() { &id_text } else { &name }));
        let Some(id) = id else {
            out.errors.push(CellError {
                row,
                column: get(Field::Id).map_or_else(|| "System".to_string(), |(h, _)| h),
                value: id_text,
                problem: Problem::NoId,
            });
            continue;
        };
        if seen.insert(id.clone(), row).is_some() {
            out.errors.push(CellError {
                row,
                column: get(Field::Id).map_or_else(|| "System".to_string(), |(h, _)| h),
                value: id.to_string(),
                problem: Problem::DuplicateId,
            });
            continue;
        }
        let mut system = plan.system(id.as_str()).cloned().unwrap_or_else(|| System {
            id: id.clone(),
            name: if name.is_empty() {
                id.to_string()
            } else {
                name.clone()
            },
            description: String::new(),
            owner: None,
            deputy: None,
            criticality: Criticality::LEAST,
            rto: None,
            rpo: None,
            mtpd: None,
            depends_on: Vec::new(),
            supplier: None,
            workaround: String::new(),
            recovery_steps: Vec::new(),
            verification: String::new(),
            last_reviewed: None,
            reviewed_by: None,
            review_interval: None,
            impact: Vec::new(),
        });
        let mut fail = |column: &str, value: String, problem| {
            out.errors.push(CellError {
                row,
                column: column.to_string(),
                value,
                problem,
            });
        };
        let mut depends = Vec::new();
        for (_, column, field) in &columns {
            let cell = get(*field).map(|(_, c)| c).unwrap_or(Cell::Empty);
            let text = cell.text();
            let duration = |text: &str| -> Result<Option<Duration>, ()> {
                match text {
                    "" => Ok(None),
                    t => Duration::parse(t).map(Some).map_err(|_| ()),
                }
            };
            match field {
                Field::Id | Field::Shown => {}
                Field::Name => {
                    if !text.is_empty() {
                        system.name = text;
                    }
                }
                Field::Description => system.description = text,
                // Empty: as it is (4 for a new system), as a system always has one.
                Field::Criticality if text.is_empty() => {}
                Field::Criticality => match text.parse::<i64>().ok().map(Criticality::new) {
                    Some(Ok(c)) => system.criticality = c,
                    _ => fail(column, text, Problem::NotCriticality),
                },
                Field::Owner | Field::Deputy => {
                    let person = match text.as_str() {
                        "" => None,
                        t => match person_of(t) {
                            Some(p) => Some(p),
                            None => {
                                let lower = t.trim().to_lowercase();
                                let known = made.iter().find(|p| {
                                    p.name.to_lowercase() == lower
                                        || p.email.to_lowercase() == lower
                                });
                                match known.map(|p| p.id.clone()).or_else(|| {
                                    let p = create_people
                                        .then(|| person_named(t, plan, &made))
                                        .flatten()?;
                                    let id = p.id.clone();
                                    made.push(p);
                                    Some(id)
                                }) {
                                    Some(id) => Some(id),
                                    None => {
                                        fail(column, text.clone(), Problem::UnknownPerson);
                                        continue;
                                    }
                                }
                            }
                        },
                    };
                    if *field == Field::Owner {
                        system.owner = person;
                    } else {
                        system.deputy = person;
                    }
                }
                Field::Rto | Field::Rpo | Field::Mtpd => match duration(&text) {
                    Ok(d) => match field {
                        Field::Rto => system.rto = d,
                        Field::Rpo => system.rpo = d,
                        _ => system.mtpd = d,
                    },
                    Err(()) => fail(column, text, Problem::NotDuration),
                },
                Field::DependsOn => {
                    depends = text
                        .split([',', ';', '\n'])
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(|t| (column.clone(), t.to_string()))
                        .collect();
                }
                Field::Supplier => match (text.is_empty(), system.supplier.as_mut()) {
                    (true, _) => system.supplier = None,
                    (false, Some(s)) => s.name = text,
                    (false, None) => {
                        system.supplier = Some(Supplier {
                            name: text,
                            ..Supplier::default()
                        })
                    }
                },
                Field::ContractRestore => match duration(&text) {
                    Ok(d) => {
                        if let Some(s) = system.supplier.as_mut() {
                            s.contract_restore = d;
                        }
                    }
                    Err(()) => fail(column, text, Problem::NotDuration),
                },
                Field::Workaround => system.workaround = text,
                Field::Verification => system.verification = text,
                Field::LastReviewed => match &cell {
                    Cell::Empty => system.last_reviewed = None,
                    Cell::Date(d) => system.last_reviewed = Some(*d),
                    _ => match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                        Ok(d) => system.last_reviewed = Some(d),
                        Err(_) => fail(column, text, Problem::NotDate),
                    },
                },
            }
        }
        read.push((row, system, depends));
    }
    let has_dependencies = columns.iter().any(|(_, _, f)| *f == Field::DependsOn);
    let known: HashMap<String, SystemId> = plan
        .systems
        .iter()
        .map(|s| (s.id.to_string(), s.id.clone()))
        .chain(
            read.iter()
                .map(|(_, s, _)| (s.id.to_string(), s.id.clone())),
        )
        .chain(
            plan.systems
                .iter()
                .map(|s| (s.name.trim().to_lowercase(), s.id.clone())),
        )
        .chain(
            read.iter()
                .map(|(_, s, _)| (s.name.trim().to_lowercase(), s.id.clone())),
        )
        .collect();
    for (row, mut system, depends) in read {
        if has_dependencies {
            system.depends_on = Vec::new();
            for (column, name) in depends {
                match known.get(&name).or_else(|| known.get(&name.to_lowercase())) {
                    Some(id) if !system.depends_on.contains(id) => {
                        system.depends_on.push(id.clone())
                    }
                    Some(_) => {}
                    None => out.errors.push(CellError {
                        row,
                        column,
                        value: name,
                        problem: Problem::UnknownSystem,
                    }),
                }
            }
        }
        let before = plan.system(system.id.as_str());
        let change = match before {
            None => RowChange::New,
            Some(b) => {
                let mut fields: Vec<String> = diff::system_changes(Some(b), Some(&system))
                    .iter()
                    .map(|c| c.field.to_string())
                    .collect();
                fields.dedup();
                if fields.is_empty() {
                    RowChange::Unchanged
                } else {
                    RowChange::Changed { fields }
                }
            }
        };
        out.rows.push(RowOutcome {
            row,
            system: system.id.clone(),
            change,
        });
        match out.plan.systems.iter_mut().find(|s| s.id == system.id) {
            Some(slot) => *slot = system,
            None => out.plan.systems.push(system),
        }
    }
    out.errors
        .sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
    (with.progress)(body.len(), body.len());
    out.new_people = made.iter().map(|p| p.id.clone()).collect();
    out.plan.people.extend(made);
    out
}

/// Like [`preview`], with the rows that have a cell that cannot be used left out, what they
/// said kept in `left_out`; a row that fails only once another is left out (it depends on a
/// system only that row added) is left out too.
pub fn preview_leaving_out(plan: &Plan, rows: &[Vec<Cell>]) -> Preview {
    leaving_out(plan, rows, &With::plain(&Mapping::default()))
}

fn leaving_out(plan: &Plan, rows: &[Vec<Cell>], with: &With) -> Preview {
    let mut rows = rows.to_vec();
    let mut left_out = Vec::new();
    loop {
        let mut p = preview_as(plan, &rows, with);
        if p.errors.is_empty() {
            left_out.sort_by(|a: &CellError, b: &CellError| {
                (a.row, &a.column).cmp(&(b.row, &b.column))
            });
            p.left_out = left_out;
            return p;
        }
        for e in &p.errors {
            // Row `e.row` of the sheet is `rows[e.row - 1]`; an empty row is skipped.
            if let Some(cells) = e.row.checked_sub(1).and_then(|i| rows.get_mut(i)) {
                cells.iter_mut().for_each(|c| *c = Cell::Empty);
            }
        }
        left_out.append(&mut p.errors);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::analysis::tests::plan;

    fn text(t: &str) -> Cell {
        Cell::Text(t.into())
    }

    #[test]
    fn headers_are_read_in_danish_and_english() {
        assert_eq!(field_of(" Systemejer "), Some(Field::Owner));
        assert_eq!(field_of("Ejer:"), Some(Field::Owner));
        assert_eq!(field_of("Depends on"), Some(Field::DependsOn));
        assert_eq!(
            field_of("Leverandørens genetablering"),
            Some(Field::ContractRestore)
        );
        assert_eq!(field_of("Farve"), None);
    }

    #[test]
    fn rows_with_errors_are_left_out_with_those_that_needed_them() {
        let p = plan();
        let id = p.systems[0].id.to_string();
        let rows = vec![
            vec![text("System"), text("RTO"), text("Afhænger af")],
            vec![text("ny-a"), text("tre timer"), Cell::Empty],
            vec![text("ny-b"), text("4h"), text("ny-a")],
            vec![text(&id), text("2h"), Cell::Empty],
        ];
        let out = preview_leaving_out(&p, &rows);
        assert!(out.errors.is_empty());
        let left: Vec<(usize, Problem)> = out.left_out.iter().map(|e| (e.row, e.problem)).collect();
        assert_eq!(
            left,
            [(2, Problem::NotDuration), (3, Problem::UnknownSystem)]
        );
        assert_eq!(out.rows.len(), 1, "only the row without errors");
        assert!(out.plan.system("ny-a").is_none() && out.plan.system("ny-b").is_none());
        assert_eq!(out.counts().left_out, 2);
    }

    #[test]
    fn a_column_is_read_as_the_user_chose() {
        let p = plan();
        let id = p.systems[0].id.to_string();
        let rows = vec![
            vec![text("Kode"), text("Genopretning"), text("RTO")],
            vec![text(&id), text("2h"), text("9h")],
        ];
        let before = preview(&p, &rows);
        assert_eq!(before.ignored_columns, ["Kode", "Genopretning"]);
        let mut chosen = Mapping::default();
        chosen.0.insert(Mapping::key("Kode"), Some(Field::Id));
        chosen
            .0
            .insert(Mapping::key(" GENOPRETNING"), Some(Field::Rto));
        let after = read_rows(&p, &rows, Reading::default(), &chosen, &|_, _| {});
        assert_eq!(
            after.columns,
            [
                ("Kode".to_string(), Some(Field::Id)),
                ("Genopretning".to_string(), Some(Field::Rto)),
                ("RTO".to_string(), None),
            ],
            "the header RTO is not read twice"
        );
        assert_eq!(
            after.plan.system(&id).unwrap().rto,
            Some(Duration::parse("2h").unwrap())
        );
        assert_eq!(Field::from_key("depends_on"), Some(Field::DependsOn));
        assert_eq!(Field::from_key("shown"), None);
    }

    #[test]
    fn columns_are_named_by_their_letters() {
        let letters: Vec<String> = [0, 2, 25, 26, 27, 701, 702].map(column_letter).into();
        assert_eq!(letters, ["A", "C", "Z", "AA", "AB", "ZZ", "AAA"]);
    }

    #[test]
    fn data_under_no_header_is_listed_as_not_read() {
        let p = plan();
        let id = p.systems[0].id.to_string();
        let rows = vec![
            vec![text("System"), text("RTO"), Cell::Empty, Cell::Empty],
            vec![text(&id), text("4h"), text("merged away"), Cell::Empty],
        ];
        assert_eq!(preview(&p, &rows).ignored_columns, ["C"]);
    }

    #[test]
    fn a_row_changes_the_fields_it_has_and_every_bad_cell_is_named() {
        let p = plan();
        let first = p.systems[0].clone();
        let rows = vec![
            vec![
                text("System"),
                text("RTO"),
                text("Kritikalitet"),
                text("Farve"),
            ],
            vec![
                text(first.id.as_str()),
                text("tre timer"),
                Cell::Number(7.0),
                text("rød"),
            ],
            vec![
                text("Nyt system"),
                text("4 t."),
                Cell::Number(2.0),
                Cell::Empty,
            ],
            vec![Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty],
            vec![
                text(first.id.as_str()),
                text("4h"),
                Cell::Number(1.0),
                Cell::Empty,
            ],
        ];
        let preview = preview(&p, &rows);
        assert_eq!(preview.ignored_columns, ["Farve"]);
        let problems: Vec<(usize, &str, Problem)> = preview
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.problem))
            .collect();
        assert_eq!(
            problems,
            [
                (2, "Kritikalitet", Problem::NotCriticality),
                (2, "RTO", Problem::NotDuration),
                (5, "System", Problem::DuplicateId),
            ]
        );
        let added = preview
            .plan
            .system("nyt-system")
            .expect("added by its name");
        assert_eq!(added.rto, Some(Duration::from_minutes(240)));
        assert_eq!(added.criticality.level(), 2);
        assert!(preview.rows.iter().any(|r| r.change == RowChange::New));
    }

    #[test]
    fn the_same_values_change_nothing() {
        let p = plan();
        let s = &p.systems[0];
        let rows = vec![
            vec![text("System"), text("Navn")],
            vec![text(s.id.as_str()), text(&s.name)],
        ];
        let preview = preview(&p, &rows);
        assert!(preview.errors.is_empty());
        assert!(!preview.changes_anything());
        assert_eq!(preview.plan, p);
    }
}
