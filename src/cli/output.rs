//! What the commands print: progress on a terminal, the findings of a plan folder as text or
//! JSON, and an outage's assessment.

use super::*;
use crate::render::findings::Words;

/// A progress bar on standard error for work that can take a while on a large plan (reading or
/// writing 10,000 system files, one large transaction). Drawn only when standard error is a
/// terminal, so scripts and logs see nothing of it.
pub(super) struct Progress(indicatif::ProgressBar);

impl Progress {
    /// A bar for `what`, counting items once the total is known.
    pub(super) fn new(what: &str) -> Self {
        let style =
            indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> ");
        Progress::styled(what, style)
    }

    /// A spinner for one step whose progress cannot be counted.
    pub(super) fn busy(what: &str) -> Self {
        let style = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
        let progress = Progress::styled(what, style);
        progress
            .0
            .enable_steady_tick(std::time::Duration::from_millis(120));
        progress
    }

    fn styled(what: &str, style: indicatif::ProgressStyle) -> Self {
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(style);
        bar.set_message(what.to_string());
        Progress(bar)
    }

    pub(super) fn at(&self, done: usize, total: usize) {
        self.0.set_length(total as u64);
        self.0.set_position(done as u64);
    }

    /// Clears the bar, so the command's own output follows on a clean line.
    pub(super) fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Reads a plan folder; `None` (after printing why) when the folder cannot be read at all.
/// Today where the plans are (the default time zone; the server reads its own setting), unless
/// the command line names the day.
fn day(today: Option<NaiveDate>) -> NaiveDate {
    today.unwrap_or_else(|| Clock::system(Config::default().time_zone).today())
}

/// Marks the warnings of `loaded` that one of `dispensations` accepts on the day.
pub(super) fn accept(
    loaded: &mut LoadedPlan,
    dispensations: &[crate::domain::dispensation::Dispensation],
    today: Option<NaiveDate>,
) {
    let mut findings: Vec<_> = loaded.findings.iter().map(|f| f.finding.clone()).collect();
    crate::domain::dispensation::accept(&mut findings, dispensations, day(today));
    for (located, f) in loaded.findings.iter_mut().zip(findings) {
        located.finding.said.accepted = f.accepted();
    }
}

pub(super) fn load(dir: &Path, today: Option<NaiveDate>) -> anyhow::Result<Option<LoadedPlan>> {
    let today = day(today);
    let bar = Progress::new("reading system files");
    let loaded = plan_files::load_with_progress(dir, today, &mut |done, total| bar.at(done, total));
    bar.finish();
    match loaded {
        Ok(loaded) => Ok(Some(loaded)),
        Err(e) => {
            eprintln!("error: {e}");
            Ok(None)
        }
    }
}

pub(super) fn print_errors_to_stderr(loaded: &LoadedPlan) {
    for f in loaded.errors() {
        eprintln!("error[{}] {f}", f.finding.code);
    }
}

/// A finding's message in `lang`: its own English message, or written by `words`.
fn message(f: &Located, words: Option<&Words>) -> String {
    match words {
        Some(words) => words.finding(&f.finding),
        None => f.finding.message.clone(),
    }
}

/// `file:line: system: field: message`, in the words' language when there are words.
fn located_line(f: &Located, words: Option<&Words>) -> String {
    let Some(words) = words else {
        return f.to_string();
    };
    let mut line = f.file.display().to_string();
    if let Some(n) = f.line {
        line.push_str(&format!(":{n}"));
    }
    line.push_str(": ");
    if let Some(system) = f.finding.system() {
        line.push_str(&format!("{system}: "));
    }
    if let Some(field) = &f.finding.field {
        line.push_str(&format!("{}: ", words.field(field)));
    }
    line.push_str(&words.finding(&f.finding));
    line
}

pub(super) fn finding_json(f: &Located, words: Option<&Words>) -> Value {
    let mut value = json!({
        "code": f.finding.code.as_str(),
        "system": f.finding.system().map(|s| s.as_str()),
        "systems": f.finding.systems.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "file": f.file.display().to_string(),
        "line": f.line,
        "field": f.finding.field,
        "message": message(f, words),
        "values": f.finding.said.args,
    });
    if let Some(accepted) = f.finding.accepted() {
        value["accepted"] = json!(accepted);
    }
    value
}

/// The findings of a plan folder; with `lang` other than English, their messages in it.
pub(super) fn print_findings(
    loaded: &LoadedPlan,
    format: Format,
    lang: &str,
) -> anyhow::Result<()> {
    let locales = match lang {
        "en" => None,
        _ => Some(crate::render::locales()?),
    };
    let words = locales
        .as_ref()
        .map(|l| Words::new(l, lang, loaded.plan.as_ref()));
    let words = words.as_ref();
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let value = json!({
                "errors": loaded.errors().map(|f| finding_json(f, words)).collect::<Vec<_>>(),
                "warnings": loaded.warnings().map(|f| finding_json(f, words)).collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Text => {
            for f in &loaded.findings {
                let kind = match f.severity() {
                    analysis::Severity::Error => "error",
                    analysis::Severity::Warning => "warning",
                };
                let accepted = match (f.finding.accepted(), words) {
                    (None, _) => String::new(),
                    (Some(_), Some(words)) => {
                        format!(" — {}", words.accepted(&f.finding).unwrap_or_default())
                    }
                    (Some(a), None) => format!(
                        " — accepted until {} (dispensation {})",
                        a.until, a.dispensation
                    ),
                };
                writeln!(
                    out,
                    "{kind}[{}] {}{accepted}",
                    f.finding.code,
                    located_line(f, words)
                )?;
            }
            let errors = loaded.errors().count();
            let accepted = loaded
                .warnings()
                .filter(|f| f.finding.accepted().is_some())
                .count();
            let warnings = loaded.warnings().count() - accepted;
            let systems = loaded.plan.as_ref().map_or(0, |p| p.systems.len());
            write!(
                out,
                "{systems} systems: {errors} error{}, {warnings} warning{}",
                plural(errors),
                plural(warnings)
            )?;
            if accepted > 0 {
                write!(out, ", {accepted} accepted")?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

pub(super) fn ids(list: &[SystemId]) -> Vec<&str> {
    list.iter().map(SystemId::as_str).collect()
}

pub(super) fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub(super) fn print_assessment(
    plan: &crate::domain::Plan,
    a: &Assessment,
    format: Format,
    full_outage: bool,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let minutes = |d: Option<Duration>| d.map(Duration::minutes);
            let value = json!({
                "down": ids(&a.down),
                "affected": ids(&a.affected),
                "recovery_order": ids(&a.recovery_order),
                "systems": a.systems.iter().map(|s| json!({
                    "id": s.id.as_str(),
                    "rto_minutes": minutes(s.rto),
                    "required_rto_minutes": minutes(s.required_rto),
                    "earliest_recovery_minutes": s.earliest_recovery.minutes(),
                    "feasible": s.feasible,
                })).collect::<Vec<_>>(),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Text => {
            if full_outage {
                writeln!(out, "Full outage: all {} systems down", a.down.len())?;
            } else {
                writeln!(out, "Down: {}", ids(&a.down).join(", "))?;
                writeln!(
                    out,
                    "Affected through dependencies ({}): {}",
                    a.affected.len(),
                    ids(&a.affected).join(", ")
                )?;
            }
            writeln!(out)?;
            let width = a
                .systems
                .iter()
                .map(|s| s.id.as_str().len())
                .max()
                .unwrap_or(6)
                .max(6);
            writeln!(
                out,
                "{:>3}  {:<width$}  {:>4}  {:>8}  {:>12}  {:>9}  feasible",
                "#", "system", "crit", "RTO", "required RTO", "earliest"
            )?;
            let show = |d: Option<Duration>| d.map_or("-".to_string(), |d| d.to_string());
            let mut infeasible = 0;
            for (i, s) in a.systems.iter().enumerate() {
                let crit = plan
                    .system(s.id.as_str())
                    .map_or(0, |sys| sys.criticality.level());
                let verdict = match s.feasible {
                    Some(true) => "yes",
                    Some(false) => {
                        infeasible += 1;
                        "NO"
                    }
                    None => "-",
                };
                writeln!(
                    out,
                    "{:>3}  {:<width$}  {:>4}  {:>8}  {:>12}  {:>9}  {verdict}",
                    i + 1,
                    s.id.as_str(),
                    crit,
                    show(s.rto),
                    show(s.required_rto),
                    s.earliest_recovery.to_string(),
                )?;
            }
            writeln!(out)?;
            writeln!(
                out,
                "{} of {} affected systems cannot be recovered within their RTO",
                infeasible,
                a.systems.len()
            )?;
        }
    }
    Ok(())
}

/// The preview of a spreadsheet's import, and whether it was written.
pub(super) fn print_sheet_import(
    app: &crate::app::App,
    plan: &crate::domain::Plan,
    done: &crate::app::sheets::SheetImport,
    format: Format,
    lang: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::domain::sheet::RowChange;
    let words = Words::new(&app.templates.locales, lang, Some(plan));
    let t = |key: &str| app.templates.text(lang, key);
    let p = &done.preview;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let value = json!({
                "rows": p.rows,
                "counts": p.counts(),
                "errors": p.errors.iter().map(|e| {
                    let mut v = json!(e);
                    v["message"] = json!(words.cell_error(e));
                    v
                }).collect::<Vec<_>>(),
                "ignored_columns": p.ignored_columns,
                "new_people": p.new_people,
                "left_out": p.left_out.iter().map(|e| {
                    let mut v = json!(e);
                    v["message"] = json!(words.cell_error(e));
                    v
                }).collect::<Vec<_>>(),
                "findings": done.new_findings.iter().map(|f| json!({
                    "code": f.code.as_str(),
                    "severity": match f.severity() { analysis::Severity::Error => "error", analysis::Severity::Warning => "warning" },
                    "systems": ids(&f.systems),
                    "message": words.finding(f),
                })).collect::<Vec<_>>(),
                "applied": done.applied,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        Format::Text => {
            for r in &p.rows {
                let line = match &r.change {
                    RowChange::New => t("sheet.preview.new"),
                    RowChange::Changed { fields } => {
                        t("sheet.preview.changed").replace("{fields}", &fields.join(", "))
                    }
                    RowChange::Unchanged => t("sheet.preview.unchanged"),
                };
                writeln!(
                    out,
                    "{}",
                    line.replace("{row}", &r.row.to_string())
                        .replace("{system}", r.system.as_str())
                )?;
            }
            for e in &p.errors {
                writeln!(out, "{}", words.cell_error(e))?;
            }
            for id in &p.new_people {
                if let Some(person) = p.plan.person(id.as_str()) {
                    writeln!(
                        out,
                        "{}",
                        t("sheet.preview.new_person")
                            .replace("{name}", &person.name)
                            .replace("{id}", id.as_str())
                    )?;
                }
            }
            for e in &p.left_out {
                writeln!(
                    out,
                    "{}",
                    t("sheet.preview.left_out").replace("{text}", &words.cell_error(e))
                )?;
            }
            if !p.ignored_columns.is_empty() {
                writeln!(
                    out,
                    "{}",
                    t("sheet.preview.ignored").replace("{columns}", &p.ignored_columns.join(", "))
                )?;
            }
            for f in &done.new_findings {
                writeln!(
                    out,
                    "{}",
                    t("sheet.preview.finding")
                        .replace("{text}", &format!("{}: {}", f.code, words.finding(f)))
                )?;
            }
            let c = p.counts();
            if c.left_out > 0 {
                writeln!(
                    out,
                    "{}",
                    app.templates
                        .counted(lang, "sheet.preview.left_out_summary", c.left_out)
                )?;
            }
            writeln!(
                out,
                "{}",
                t("sheet.preview.summary")
                    .replace("{rows}", &c.rows.to_string())
                    .replace("{new}", &c.new.to_string())
                    .replace("{changed}", &c.changed.to_string())
                    .replace("{unchanged}", &c.unchanged.to_string())
                    .replace("{failing}", &c.failing.to_string())
            )?;
            let last = if done.applied {
                "sheet.preview.written"
            } else if done.stale {
                "sheet.preview.stale"
            } else if done.has_errors() {
                "sheet.preview.refused"
            } else if dry_run {
                "sheet.preview.dry_run"
            } else {
                "sheet.preview.nothing"
            };
            writeln!(out, "{}", t(last))?;
        }
    }
    Ok(())
}

/// The progress of `sheet import` on standard error (drawn only on a terminal, as [`Progress`]):
/// a spinner while the file is read, a bar over the rows while they are checked, a spinner
/// while the plan is analysed.
pub(super) struct SheetBar {
    now: std::sync::Mutex<(Option<crate::app::sheets::SheetProgress>, Option<Progress>)>,
    words: [String; 3],
}

impl SheetBar {
    pub(super) fn new(app: &crate::app::App, lang: &str) -> SheetBar {
        let t = |key: &str| app.templates.text(lang, key);
        SheetBar {
            now: std::sync::Mutex::new((None, None)),
            words: [
                t("sheet.progress.reading"),
                t("sheet.progress.checking"),
                t("sheet.progress.analysing"),
            ],
        }
    }

    pub(super) fn show(&self, p: crate::app::sheets::SheetProgress) {
        use crate::app::sheets::SheetProgress;
        let Ok(mut now) = self.now.lock() else {
            return;
        };
        let same_step = matches!(
            (now.0, p),
            (
                Some(SheetProgress::Checking { .. }),
                SheetProgress::Checking { .. }
            )
        );
        if !same_step {
            if let Some(bar) = now.1.take() {
                bar.finish();
            }
            now.1 = Some(match p {
                SheetProgress::Reading => Progress::busy(&self.words[0]),
                SheetProgress::Checking { .. } => Progress::new(&self.words[1]),
                SheetProgress::Analysing => Progress::busy(&self.words[2]),
            });
        }
        if let (SheetProgress::Checking { done, of }, Some(bar)) = (p, &now.1) {
            bar.at(done, of);
        }
        now.0 = Some(p);
    }

    pub(super) fn done(&self) {
        if let Ok(mut now) = self.now.lock()
            && let Some(bar) = now.1.take()
        {
            bar.finish();
        }
    }
}
