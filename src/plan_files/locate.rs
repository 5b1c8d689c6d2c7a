//! TOML with its positions: a file parsed into its raw shape with errors located at a field,
//! and the line of any field path (`depends_on[2]`) of a finding.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::Located;
use crate::domain::{Code, Finding};

/// Parses a TOML file into `T`, rejecting unknown fields; the error names field and line.
pub(super) fn parse_toml<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, Located> {
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
pub(super) fn span_of(table: &DeTable, path: &str) -> Option<Range<usize>> {
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

pub(super) fn line_of(text: &str, offset: usize) -> u32 {
    let breaks = text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    u32::try_from(breaks).map_or(u32::MAX, |n| n.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

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
