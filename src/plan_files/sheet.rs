//! Reading a spreadsheet into rows of cells: XLSX and ODS (calamine; a formula by its cached
//! value), or CSV separated by `;` or `,` in UTF-8 or Windows-1252, as Danish Excel writes it.
//! What is not a spreadsheet, a password-protected file, a zip bomb and a sheet of more rows
//! than a plan can hold are refused with what was wrong.

use std::io::Cursor;

use calamine::{Data, Reader};

use crate::domain::sheet::Cell;

/// The most the files inside an XLSX or ODS may hold uncompressed.
pub const MAX_UNCOMPRESSED: u64 = 200 * 1024 * 1024;
/// The most rows a sheet may have.
pub const MAX_ROWS: usize = 100_000;

/// Why a file cannot be read as a spreadsheet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SheetError {
    #[error("not a spreadsheet: expected an XLSX, ODS or CSV file")]
    NotASpreadsheet,
    #[error("the file is password-protected (or an old .xls): save it as XLSX without a password")]
    Protected,
    #[error("the spreadsheet is damaged: {0}")]
    Corrupt(String),
    #[error("the spreadsheet unpacks to more than {} MB: refused", MAX_UNCOMPRESSED / (1024 * 1024))]
    TooLarge,
    #[error("no sheet named {0:?}; the file has {1}")]
    NoSuchSheet(String, String),
    #[error("the sheet has {0} rows; at most {MAX_ROWS} are read")]
    TooManyRows(usize),
    #[error("the sheet is empty")]
    Empty,
}

impl SheetError {
    /// The locale key of its text (`sheet.error.<key>`).
    pub fn key(&self) -> &'static str {
        match self {
            SheetError::NotASpreadsheet => "sheet.error.not_a_spreadsheet",
            SheetError::Protected => "sheet.error.protected",
            SheetError::Corrupt(_) => "sheet.error.corrupt",
            SheetError::TooLarge => "sheet.error.too_large",
            SheetError::NoSuchSheet(..) => "sheet.error.no_such_sheet",
            SheetError::TooManyRows(_) => "sheet.error.too_many_rows",
            SheetError::Empty => "sheet.error.empty",
        }
    }
}

/// The rows of the first sheet of `bytes` (or of the sheet named `sheet`), the header first.
pub fn read(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<Vec<Cell>>, SheetError> {
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        zipped(bytes, sheet)?
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(SheetError::Protected);
    } else {
        csv(bytes)?
    };
    let rows: Vec<Vec<Cell>> = rows
        .into_iter()
        .skip_while(|r| r.iter().all(|c| c.text().is_empty()))
        .collect();
    match rows.len() {
        0 => Err(SheetError::Empty),
        n if n > MAX_ROWS + 1 => Err(SheetError::TooManyRows(n - 1)),
        _ => Ok(rows),
    }
}

fn zipped(bytes: &[u8], sheet: Option<&str>) -> Result<Vec<Vec<Cell>>, SheetError> {
    let corrupt = |e: &dyn std::fmt::Display| SheetError::Corrupt(e.to_string());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(&e))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(|e| corrupt(&e))?;
        total = total.saturating_add(entry.size());
        if total > MAX_UNCOMPRESSED {
            return Err(SheetError::TooLarge);
        }
    }
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| match e {
            calamine::Error::Xlsx(calamine::XlsxError::Password) => SheetError::Protected,
            other => corrupt(&other),
        })?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .cloned()
            .ok_or_else(|| SheetError::NoSuchSheet(wanted.to_string(), names.join(", ")))?,
        None => names.first().cloned().ok_or(SheetError::Empty)?,
    };
    let range = book.worksheet_range(&name).map_err(|e| corrupt(&e))?;
    let (height, width) = range.get_size();
    if height > MAX_ROWS + 1 {
        return Err(SheetError::TooManyRows(height - 1));
    }
    // Merged header cells keep their text in the first cell; the others are empty.
    Ok(range
        .rows()
        .map(|row| row.iter().take(width).map(cell).collect())
        .collect())
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Float(f) => Cell::Number(*f),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(d) => d
            .as_datetime()
            .map_or(Cell::Number(d.as_f64()), |at| Cell::Date(at.date())),
    }
}

/// CSV: UTF-8 (a byte-order mark aside), else Windows-1252; `;` when the header has more of
/// them than of `,`.
fn csv(bytes: &[u8]) -> Result<Vec<Vec<Cell>>, SheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    };
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err(SheetError::NotASpreadsheet);
    }
    let first = text.lines().next().unwrap_or("");
    let delimiter = if first.matches(';').count() > first.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| SheetError::Corrupt(e.to_string()))?;
        rows.push(
            record
                .iter()
                .map(|v| match v.trim() {
                    "" => Cell::Empty,
                    t => Cell::Text(t.to_string()),
                })
                .collect(),
        );
        if rows.len() > MAX_ROWS + 1 {
            return Err(SheetError::TooManyRows(rows.len() - 1));
        }
    }
    Ok(rows)
}
