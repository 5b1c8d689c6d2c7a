//! Languages: every user-facing string comes from `templates/locales/<lang>.toml`; durations and
//! dates are written the way each language writes them.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason,
};

use crate::domain::Duration;

/// The languages there are locale files for; the first is the default.
pub const LANGUAGES: [&str; 2] = ["da", "en"];

/// The strings of every language, by dotted key (`overview.title`).
#[derive(Debug, Default)]
pub struct Locales(HashMap<String, HashMap<String, String>>);

impl Locales {
    /// Reads the locale files (as TOML text, by language).
    pub fn parse(files: &[(&str, &str)]) -> Result<Self, String> {
        let mut all = HashMap::new();
        for (lang, text) in files {
            let table: toml::Table = toml::from_str(text)
                .map_err(|e| format!("locales/{lang}.toml: {}", e.message()))?;
            let mut flat = HashMap::new();
            flatten("", &table, &mut flat);
            all.insert(lang.to_string(), flat);
        }
        Ok(Locales(all))
    }

    /// Keys that one language has and another lacks, as `lang: key` lines.
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (lang, strings) in &self.0 {
            for (other, other_strings) in &self.0 {
                for key in other_strings.keys() {
                    if !strings.contains_key(key) {
                        out.push(format!("{lang}: {key} (present in {other})"));
                    }
                }
            }
        }
        out.sort();
        out
    }

    pub fn get(&self, lang: &str, key: &str) -> Option<&str> {
        self.0.get(lang)?.get(key).map(String::as_str)
    }

    /// The string for `key` with a count of `n`: `key_one` when `n` is 1 and the language has
    /// it (`1 felt`, not `1 felter`), else `key`.
    pub fn get_counted(&self, lang: &str, key: &str, n: i64) -> Option<&str> {
        (n == 1)
            .then(|| self.get(lang, &format!("{key}_one")))
            .flatten()
            .or_else(|| self.get(lang, key))
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(t) => flatten(&full, t, out),
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            other => {
                out.insert(full, other.to_string());
            }
        }
    }
}

/// The language in the template's root context (`lang`), or the default.
fn lang_of(ctx: &Context) -> &str {
    ctx.data()
        .get("lang")
        .and_then(|v| v.as_str())
        .unwrap_or(LANGUAGES[0])
}

/// `{{t "key" name=value}}`: the string for `key` in the page's language, with `{name}`
/// replaced by each hash parameter, HTML-escaped. A missing key is a render error, never a
/// blank. With `n=1`, `key_one` is used where the language has it (`1 felt`, not `1 felter`),
/// and counts are written with the language's thousands separator (see `COUNTS`). Registered a
/// second time as `tt`, unescaped, for plain-text mail.
pub struct Translate {
    pub locales: std::sync::Arc<Locales>,
    pub escape: bool,
}

impl HelperDef for Translate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let key = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
        let lang = lang_of(ctx);
        let n = h.hash_get("n").and_then(|n| n.value().as_i64());
        let text = match n {
            Some(n) => self.locales.get_counted(lang, key, n),
            None => self.locales.get(lang, key),
        }
        .ok_or_else(|| {
            RenderError::from(RenderErrorReason::Other(format!(
                "no string {key:?} in {lang}"
            )))
        })?;
        let mut text = text.to_string();
        for (name, value) in h.hash() {
            let shown = match value.value() {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) if COUNTS.contains(name) => {
                    n.as_i64().map_or_else(|| n.to_string(), |n| count(n, lang))
                }
                other => other.to_string(),
            };
            text = text.replace(&format!("{{{name}}}"), &shown);
        }
        if self.escape {
            out.write(&handlebars::html_escape(&text))?;
        } else {
            out.write(&text)?;
        }
        Ok(())
    }
}

/// The hash parameters of `t` that are counts. Years, version numbers and ids are not: they
/// are written without a thousands separator.
const COUNTS: [&str; 16] = [
    "n", "total", "shown", "first", "last", "met", "missed", "unknown", "warnings", "errors",
    "queued", "sent", "failed", "present", "missing", "partial",
];

/// A count as each language writes it: `12.345`; `12,345`.
pub fn count(n: i64, lang: &str) -> String {
    let digits = n.unsigned_abs().to_string();
    let separator = if lang == "da" { '.' } else { ',' };
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(digit);
    }
    out
}

/// A duration as people write it in each language: `1 t. 30 min.`, `2 døgn`; `1 h 30 min`,
/// `2 days`.
pub fn duration(d: Duration, lang: &str) -> String {
    let mut rest = d.minutes();
    if rest == 0 {
        return if lang == "da" { "0 min." } else { "0 min" }.to_string();
    }
    let units: [(u64, &str, &str); 4] = if lang == "da" {
        [
            (10080, "uge", "uger"),
            (1440, "døgn", "døgn"),
            (60, "t.", "t."),
            (1, "min.", "min."),
        ]
    } else {
        [
            (10080, "week", "weeks"),
            (1440, "day", "days"),
            (60, "h", "h"),
            (1, "min", "min"),
        ]
    };
    let mut parts = Vec::new();
    for (size, one, many) in units {
        let n = rest / size;
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
            rest -= n * size;
        }
    }
    parts.join(" ")
}

/// A date as each language writes it: `12. maj 2026`; `12 May 2026`.
pub fn date(d: NaiveDate, lang: &str) -> String {
    const DA: [&str; 12] = [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let month = d.month0() as usize;
    if lang == "da" {
        format!("{}. {} {}", d.day(), DA[month], d.year())
    } else {
        format!("{} {} {}", d.day(), EN[month], d.year())
    }
}

/// A name's key for sorting as a Danish reader expects: case does not count, and æ, ø and å
/// come after z, in that order.
pub fn sort_key(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'æ' | 'ä' => '\u{7b}',
            'ø' | 'ö' => '\u{7c}',
            'å' => '\u{7d}',
            other => other,
        })
        .collect()
}

/// A moment as the plan's people read it, already in their time zone: date and `HH:MM`.
pub fn local_time<Tz: chrono::TimeZone>(at: chrono::DateTime<Tz>, lang: &str) -> String
where
    Tz::Offset: std::fmt::Display,
{
    format!("{} {}", date(at.date_naive(), lang), at.format("%H:%M"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_danish_and_the_english_way() {
        let d = |t| Duration::parse(t).unwrap();
        assert_eq!(duration(d("1h 30m"), "da"), "1 t. 30 min.");
        assert_eq!(duration(d("2d"), "da"), "2 døgn");
        assert_eq!(duration(d("2w"), "da"), "2 uger");
        assert_eq!(duration(d("1h 30m"), "en"), "1 h 30 min");
        assert_eq!(duration(d("1d"), "en"), "1 day");
        assert_eq!(duration(d("0m"), "da"), "0 min.");
    }

    #[test]
    fn names_sort_as_a_danish_reader_expects() {
        let mut names = vec![
            "Økonomi",
            "ESDH",
            "Aula",
            "Åbningstider",
            "ad",
            "Ærø",
            "Zoom",
        ];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(
            names,
            [
                "ad",
                "Aula",
                "ESDH",
                "Zoom",
                "Ærø",
                "Økonomi",
                "Åbningstider"
            ]
        );
    }

    #[test]
    fn every_duration_as_shown_is_read_back() {
        // Up to three weeks minute by minute, then every hour to a year: what a page shows is
        // what a form takes.
        let minutes = (0..30_240).chain((30_240..525_600).step_by(60));
        for m in minutes {
            let d = Duration::from_minutes(m);
            for lang in LANGUAGES {
                let shown = duration(d, lang);
                assert_eq!(Duration::parse(&shown), Ok(d), "{shown:?} ({lang})");
            }
        }
    }

    #[test]
    fn counts_read_the_danish_and_the_english_way() {
        assert_eq!(count(999, "da"), "999");
        assert_eq!(count(1000, "da"), "1.000");
        assert_eq!(count(1_234_567, "en"), "1,234,567");
        assert_eq!(count(-12_345, "da"), "-12.345");
        assert_eq!(count(0, "en"), "0");
    }

    #[test]
    fn one_takes_the_singular_and_counts_get_separators() {
        let locales = Locales::parse(&[(
            "da",
            "[e]\nerrors = \"{n} felter skal rettes\"\nerrors_one = \"{n} felt skal rettes\"\n\
             shown = \"{shown} af {total} i {year}\"\n",
        )])
        .unwrap();
        let mut hb = Handlebars::new();
        hb.register_helper(
            "t",
            Box::new(Translate {
                locales: std::sync::Arc::new(locales),
                escape: true,
            }),
        );
        let render =
            |template: &str, data: serde_json::Value| hb.render_template(template, &data).unwrap();
        let data = |n: i64| serde_json::json!({"lang": "da", "n": n});
        assert_eq!(
            render(r#"{{t "e.errors" n=n}}"#, data(1)),
            "1 felt skal rettes"
        );
        assert_eq!(
            render(r#"{{t "e.errors" n=n}}"#, data(2)),
            "2 felter skal rettes"
        );
        assert_eq!(
            render(
                r#"{{t "e.shown" shown=1000 total=12000 year=2026}}"#,
                data(0)
            ),
            "1.000 af 12.000 i 2026"
        );
    }

    #[test]
    fn dates_read_the_danish_and_the_english_way() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 12).unwrap();
        assert_eq!(date(d, "da"), "12. maj 2026");
        assert_eq!(date(d, "en"), "12 May 2026");
    }
}
