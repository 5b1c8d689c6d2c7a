//! The scenario library: `scenarios/<id>.toml` beside `plan.toml`, one drill scenario a file.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Bounds, Located, file_finding, line_of, parse_toml, read_text, span_of, toml_entries};
use crate::domain::drill::{DrillKind, Inject, InjectChannel, Scenario};
use crate::domain::{Code, Duration, Plan, RoleId, ScenarioId, SystemId};

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    title: String,
    kind: String,
    duration: String,
    #[serde(default)]
    systems_down: Vec<String>,
    #[serde(default)]
    roles: Vec<String>,
    narrative: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    facilitator_notes: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    questions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    injects: Vec<InjectFile>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct InjectFile {
    minute: u32,
    text: String,
    /// `["sms", "mail"]`: sent to the participants at its minute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    send: Vec<String>,
}

/// Every scenario of the plan folder `dir` that can be used, and a finding for each problem,
/// located in its file. A missing `scenarios/` folder is an empty library.
pub fn load(dir: &Path, plan: &Plan) -> (Vec<Scenario>, Vec<Located>) {
    let folder = dir.join("scenarios");
    let Ok(paths) = toml_entries(&folder) else {
        return (Vec::new(), Vec::new());
    };
    let bounds = Bounds::of(dir, &folder);
    let mut library = Vec::new();
    let mut findings = Vec::new();
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = match read_text(&path, &bounds) {
            Ok(t) => t,
            Err(located) => {
                findings.push(located);
                continue;
            }
        };
        let file: ScenarioFile = match parse_toml(&path, &text) {
            Ok(f) => f,
            Err(located) => {
                findings.push(located);
                continue;
            }
        };
        let table = toml::de::DeTable::parse(&text).ok();
        let mut fail = |field: &str, message: String| {
            let line = table
                .as_ref()
                .and_then(|t| span_of(t.get_ref(), field))
                .map(|s| line_of(&text, s.start));
            let mut located = file_finding(Code::InvalidValue, &path, line, message);
            located.finding.field = Some(field.to_string());
            findings.push(located);
        };
        let Ok(id) = ScenarioId::parse(&stem) else {
            fail(
                "",
                format!("the file name is the scenario's id: invalid id {stem:?}"),
            );
            continue;
        };
        let unknown_send = file.injects.iter().enumerate().find_map(|(i, inject)| {
            inject
                .send
                .iter()
                .find(|c| InjectChannel::parse(c).is_none())
                .map(|c| (i, c.clone()))
        });
        if let Some((i, channel)) = unknown_send {
            fail(
                "injects",
                format!("injects[{i}].send: unknown channel {channel:?}: use sms or mail"),
            );
            continue;
        }
        let Some(kind) = DrillKind::parse(&file.kind) else {
            fail(
                "kind",
                format!(
                    "unknown kind {:?}: use dilemma, procedure, crisis-management, restore-test or call-tree-test",
                    file.kind
                ),
            );
            continue;
        };
        let duration = match Duration::parse(&file.duration) {
            Ok(d) => d,
            Err(e) => {
                fail("duration", e.to_string());
                continue;
            }
        };
        let mut ids_ok = true;
        let systems_down: Vec<SystemId> = file
            .systems_down
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                SystemId::parse(s)
                    .map_err(|e| {
                        ids_ok = false;
                        fail(&format!("systems_down[{i}]"), e.to_string());
                    })
                    .ok()
            })
            .collect();
        let roles: Vec<RoleId> = file
            .roles
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                RoleId::parse(r)
                    .map_err(|e| {
                        ids_ok = false;
                        fail(&format!("roles[{i}]"), e.to_string());
                    })
                    .ok()
            })
            .collect();
        let scenario = Scenario {
            id,
            title: file.title.trim().to_string(),
            kind,
            duration,
            systems_down,
            roles,
            narrative: file.narrative.trim().to_string(),
            facilitator_notes: file.facilitator_notes.trim().to_string(),
            questions: file
                .questions
                .iter()
                .map(|q| q.trim().to_string())
                .collect(),
            injects: file
                .injects
                .into_iter()
                .map(|i| Inject {
                    minute: i.minute,
                    text: i.text.trim().to_string(),
                    send: i
                        .send
                        .iter()
                        .filter_map(|c| InjectChannel::parse(c))
                        .collect(),
                })
                .collect(),
        };
        let problems = scenario.problems(plan);
        for (field, message) in &problems {
            fail(field, message.clone());
        }
        if ids_ok && problems.is_empty() {
            library.push(scenario);
        }
    }
    (library, findings)
}

/// Writes the library as `scenarios/<id>.toml` in the plan folder `dir`; files of scenarios the
/// library no longer has are removed. No folder is made for an empty library.
pub fn write(library: &[Scenario], dir: &Path) -> std::io::Result<()> {
    let folder = dir.join("scenarios");
    if library.is_empty() && !folder.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(&folder)?;
    let mut keep = std::collections::HashSet::new();
    for s in library {
        let file = ScenarioFile {
            title: s.title.clone(),
            kind: s.kind.as_str().to_string(),
            duration: s.duration.to_string(),
            systems_down: s.systems_down.iter().map(ToString::to_string).collect(),
            roles: s.roles.iter().map(ToString::to_string).collect(),
            narrative: s.narrative.clone(),
            facilitator_notes: s.facilitator_notes.clone(),
            questions: s.questions.clone(),
            injects: s
                .injects
                .iter()
                .map(|i| InjectFile {
                    minute: i.minute,
                    text: i.text.clone(),
                    send: i
                        .send
                        .iter()
                        .map(|c| match c {
                            InjectChannel::Sms => "sms".to_string(),
                            InjectChannel::Mail => "mail".to_string(),
                        })
                        .collect(),
                })
                .collect(),
        };
        let name = format!("{}.toml", s.id);
        super::write_file(&folder.join(&name), &super::to_toml(&file)?)?;
        keep.insert(name);
    }
    super::remove_others(&folder, &keep)
}
