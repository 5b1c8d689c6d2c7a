//! The plan as a spreadsheet (XLSX) in the reader's language: one sheet of systems (every field
//! of a section, its dependencies by id, its findings and when it was last exercised), one of
//! recovery steps and one of people and their roles. Each sheet has its header row frozen, a
//! filter on it and column widths set; durations are written as the pages write them ("4 t."),
//! dates as dates. The headers are the names the import reads back.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};

use super::findings::Words;
use super::i18n::{self, Locales};
use crate::domain::{Duration, Finding, Plan};

/// What the workbook is made from.
pub struct Input<'a> {
    pub plan: &'a Plan,
    /// The findings with exercise coverage (and dispensations).
    pub findings: &'a [Finding],
    /// When each system was last exercised in a drill, by id.
    pub exercised: &'a HashMap<String, NaiveDate>,
    pub lang: &'a str,
}

/// One column: its header's locale key and width in characters.
struct Column {
    key: &'static str,
    width: f64,
}

const fn col(key: &'static str, width: f64) -> Column {
    Column { key, width }
}

const SYSTEMS: [Column; 16] = [
    col("id", 16.0),
    col("name", 32.0),
    col("criticality", 12.0),
    col("owner", 22.0),
    col("deputy", 22.0),
    col("rto", 10.0),
    col("rpo", 10.0),
    col("mtpd", 10.0),
    col("depends_on", 28.0),
    col("supplier", 22.0),
    col("contract_restore", 14.0),
    col("workaround", 40.0),
    col("verification", 32.0),
    col("last_reviewed", 14.0),
    col("last_exercised", 14.0),
    col("findings", 60.0),
];

const STEPS: [Column; 5] = [
    col("id", 16.0),
    col("number", 6.0),
    col("step", 60.0),
    col("role", 22.0),
    col("duration", 10.0),
];

const PEOPLE: [Column; 6] = [
    col("person", 18.0),
    col("name", 26.0),
    col("title", 26.0),
    col("email", 30.0),
    col("phone", 18.0),
    col("roles", 40.0),
];

/// Writes the header row of `columns`, freezes it, sets the widths and puts a filter over it
/// and the `rows` below it.
fn frame(
    sheet: &mut Worksheet,
    locales: &Locales,
    lang: &str,
    columns: &[Column],
    rows: usize,
) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (i, c) in columns.iter().enumerate() {
        let i = u16::try_from(i).unwrap_or(u16::MAX);
        let text = locales
            .get(lang, &format!("sheet.col.{}", c.key))
            .unwrap_or(c.key);
        sheet.write_string_with_format(0, i, text, &bold)?;
        sheet.set_column_width(i, c.width)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let last = u16::try_from(columns.len().saturating_sub(1)).unwrap_or(u16::MAX);
    sheet.autofilter(0, 0, u32::try_from(rows).unwrap_or(u32::MAX), last)?;
    Ok(())
}

fn date(day: NaiveDate) -> Result<ExcelDateTime, XlsxError> {
    ExcelDateTime::from_ymd(
        u16::try_from(day.year()).unwrap_or(1900),
        u8::try_from(day.month()).unwrap_or(1),
        u8::try_from(day.day()).unwrap_or(1),
    )
}

/// The sheet row of item `n` (0-based), below the header.
fn row(n: usize) -> u32 {
    u32::try_from(n + 1).unwrap_or(u32::MAX)
}

/// The workbook, as the bytes of an XLSX file.
pub fn workbook(locales: &Locales, input: &Input<'_>) -> Result<Vec<u8>, XlsxError> {
    let Input {
        plan,
        findings,
        exercised,
        lang,
    } = *input;
    let words = Words::new(locales, lang, Some(plan));
    let t = |key: &str| locales.get(lang, key).unwrap_or(key).to_string();
    let person = |id: Option<&crate::domain::PersonId>| {
        id.map(|id| {
            plan.person(id.as_str())
                .map_or(id.to_string(), |p| p.name.clone())
        })
        .unwrap_or_default()
    };
    let duration = |d: Option<Duration>| d.map(|d| i18n::duration(d, lang)).unwrap_or_default();
    let dated = Format::new().set_num_format("yyyy-mm-dd");
    let wrapped = Format::new().set_text_wrap();
    let mut by_system: HashMap<&str, Vec<String>> = HashMap::new();
    for f in findings {
        if let Some(s) = f.system() {
            let mut text = words.finding(f);
            if let Some(accepted) = words.accepted(f) {
                text = format!("{text} ({accepted})");
            }
            by_system.entry(s.as_str()).or_default().push(text);
        }
    }

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(t("sheet.systems"))?;
    frame(sheet, locales, lang, &SYSTEMS, plan.systems.len())?;
    for (n, s) in plan.systems.iter().enumerate() {
        let r = row(n);
        let depends: Vec<&str> = s.depends_on.iter().map(|d| d.as_str()).collect();
        let supplier = s.supplier.as_ref();
        let texts = [
            s.id.to_string(),
            s.name.clone(),
            String::new(),
            person(s.owner.as_ref()),
            person(s.deputy.as_ref()),
            duration(s.rto),
            duration(s.rpo),
            duration(s.mtpd),
            depends.join(", "),
            supplier.map(|x| x.name.clone()).unwrap_or_default(),
            duration(supplier.and_then(|x| x.contract_restore)),
            s.workaround.clone(),
            s.verification.clone(),
        ];
        for (c, text) in texts.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r, u16::try_from(c).unwrap_or(0), text)?;
            }
        }
        sheet.write_number(r, 2, f64::from(s.criticality.level()))?;
        if let Some(day) = s.last_reviewed {
            sheet.write_datetime_with_format(r, 13, date(day)?, &dated)?;
        }
        if let Some(day) = exercised.get(s.id.as_str()) {
            sheet.write_datetime_with_format(r, 14, date(*day)?, &dated)?;
        }
        if let Some(list) = by_system.get(s.id.as_str()) {
            sheet.write_string_with_format(r, 15, list.join("\n"), &wrapped)?;
        }
    }

    let steps: Vec<(&crate::domain::System, usize, &crate::domain::RecoveryStep)> = plan
        .systems
        .iter()
        .flat_map(|s| {
            s.recovery_steps
                .iter()
                .enumerate()
                .map(move |(i, step)| (s, i + 1, step))
        })
        .collect();
    let sheet = book.add_worksheet();
    sheet.set_name(t("sheet.steps"))?;
    frame(sheet, locales, lang, &STEPS, steps.len())?;
    for (n, (s, number, step)) in steps.iter().enumerate() {
        let r = row(n);
        sheet.write_string(r, 0, s.id.as_str())?;
        sheet.write_number(r, 1, f64::from(u32::try_from(*number).unwrap_or(u32::MAX)))?;
        sheet.write_string_with_format(r, 2, &step.text, &wrapped)?;
        let role = plan
            .roles
            .iter()
            .find(|x| x.id == step.role)
            .map_or(step.role.to_string(), |x| x.name.clone());
        sheet.write_string(r, 3, role)?;
        sheet.write_string(r, 4, i18n::duration(step.duration, lang))?;
    }

    let sheet = book.add_worksheet();
    sheet.set_name(t("sheet.people"))?;
    frame(sheet, locales, lang, &PEOPLE, plan.people.len())?;
    for (n, p) in plan.people.iter().enumerate() {
        let r = row(n);
        let roles: Vec<String> = p
            .roles
            .iter()
            .map(|id| {
                plan.roles
                    .iter()
                    .find(|x| x.id == *id)
                    .map_or(id.to_string(), |x| x.name.clone())
            })
            .collect();
        for (c, text) in [
            p.id.to_string(),
            p.name.clone(),
            p.title.clone(),
            p.email.clone(),
            p.phone.clone(),
            roles.join(", "),
        ]
        .iter()
        .enumerate()
        {
            if !text.is_empty() {
                sheet.write_string(r, u16::try_from(c).unwrap_or(0), text)?;
            }
        }
    }
    book.save_to_buffer()
}

/// The content type of an XLSX file.
pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The file name of a plan's spreadsheet.
pub fn file_name(plan: &crate::domain::PlanId) -> String {
    format!("beredskabsplan-{plan}.xlsx")
}
