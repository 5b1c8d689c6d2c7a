//! The layers of the code (docs/architecture.md), checked against the source: each module names
//! only the modules below it, and nothing but start-up names the web layer.

mod helpers;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The Rust files of module `name`: `src/NAME.rs` or everything under `src/NAME/`.
fn files_of(name: &str) -> Vec<PathBuf> {
    let src = helpers::repo().join("src");
    let file = src.join(format!("{name}.rs"));
    if file.is_file() {
        return vec![file];
    }
    let mut found = Vec::new();
    let mut folders = vec![src.join(name)];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }
    found
}

/// The modules of ours that `path` names (`crate::NAME`).
fn named_in(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect();
        names.insert(name);
    }
    names
}

#[test]
fn each_module_names_only_the_modules_below_it() {
    let allowed: &[(&str, &[&str])] = &[
        ("domain", &[]),
        ("plan_files", &["domain"]),
        ("store", &["domain", "plan_files"]),
        ("render", &["domain"]),
        ("http_client", &[]),
        ("live", &["store"]),
        ("mail", &["config", "metrics", "store"]),
        (
            "delivery",
            &[
                "config",
                "domain",
                "http_client",
                "live",
                "mail",
                "metrics",
                "store",
            ],
        ),
        (
            "app",
            &[
                "config",
                "domain",
                "http_client",
                "live",
                "mail",
                "metrics",
                "plan_files",
                "render",
                "store",
            ],
        ),
        ("scheduler", &["app", "domain", "store"]),
        (
            "cli",
            &[
                "app",
                "config",
                "domain",
                "plan_files",
                "render",
                "startup",
                "store",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (module, below) in allowed {
        let files = files_of(module);
        assert!(!files.is_empty(), "no source for {module}");
        for file in files {
            for name in named_in(&file) {
                if name != *module && !below.contains(&name.as_str()) {
                    wrong.push(format!("{} names crate::{name}", file.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn only_start_up_names_the_web_layer() {
    let src = helpers::repo().join("src");
    let mut wrong = Vec::new();
    let mut folders = vec![src.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path == src.join("web") {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else if path != src.join("startup.rs")
                && path.extension().is_some_and(|e| e == "rs")
                && named_in(&path).contains("web")
            {
                wrong.push(path.display().to_string());
            }
        }
    }
    assert!(wrong.is_empty(), "name crate::web: {wrong:?}");
    // And the web layer is not part of the library's public face.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.lines().any(|l| l.trim() == "mod web;"), "{lib}");
}
