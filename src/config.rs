//! Server configuration: defaults, then an optional TOML file, then `BEREDSKAB_…` environment
//! variables, then command-line flags. Values are checked when they are loaded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::store::DEFAULT_DATABASE_URL;

/// Everything `beredskab serve` can be told. Every key is documented in the README.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address and port to listen on (`BEREDSKAB_BIND`).
    pub bind: SocketAddr,
    /// Database (`BEREDSKAB_DATABASE_URL`, or `DATABASE_URL`).
    pub database_url: String,
    /// Plan folders imported into an empty database at start (`BEREDSKAB_PLANS_DIR`).
    pub plans_dir: PathBuf,
    /// Whether to import `plans_dir` into an empty database at start (`BEREDSKAB_IMPORT`).
    pub import: bool,
    /// Language for visitors who have not chosen one: `da` or `en` (`BEREDSKAB_LANGUAGE`).
    pub language: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DEFAULT_DATABASE_URL.to_string(),
            plans_dir: PathBuf::from("plans"),
            import: true,
            language: "da".to_string(),
        }
    }
}

/// A configuration value that cannot be used, named by where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("{name}={value:?}: {message}")]
    Env {
        name: &'static str,
        value: String,
        message: String,
    },
}

impl Config {
    /// Loads the layers below the command line. `env` looks a variable up (the process
    /// environment in production, a map in tests).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut config = match file {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::File {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?
            }
        };
        if let Some(url) = env("DATABASE_URL") {
            config.database_url = url;
        }
        let bad = |name: &'static str, value: &str, message: &str| ConfigError::Env {
            name,
            value: value.to_string(),
            message: message.to_string(),
        };
        for name in [
            "BEREDSKAB_BIND",
            "BEREDSKAB_DATABASE_URL",
            "BEREDSKAB_PLANS_DIR",
            "BEREDSKAB_IMPORT",
            "BEREDSKAB_LANGUAGE",
        ] {
            let Some(value) = env(name) else { continue };
            match name {
                "BEREDSKAB_BIND" => {
                    config.bind = value
                        .parse()
                        .map_err(|_| bad(name, &value, "expected an address like 127.0.0.1:8080"))?
                }
                "BEREDSKAB_DATABASE_URL" => config.database_url = value,
                "BEREDSKAB_PLANS_DIR" => config.plans_dir = PathBuf::from(value),
                "BEREDSKAB_IMPORT" => {
                    config.import = match value.as_str() {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(bad(name, &value, "expected true or false")),
                    }
                }
                _ => config.language = value,
            }
        }
        if !crate::web::i18n::LANGUAGES.contains(&config.language.as_str()) {
            return Err(bad(
                "BEREDSKAB_LANGUAGE",
                &config.language,
                "expected da or en",
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("beredskab.toml");
        std::fs::write(&file, "bind = \"0.0.0.0:9000\"\nlanguage = \"en\"\n").unwrap();
        let config = Config::load(Some(&file), env(&[("BEREDSKAB_IMPORT", "false")])).unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.language, "en");
        assert!(!config.import);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        let config = Config::load(Some(&file), env(&[("BEREDSKAB_BIND", "127.0.0.1:1")])).unwrap();
        assert_eq!(config.bind.port(), 1);
    }

    #[test]
    fn bad_values_name_their_source() {
        let err = Config::load(None, env(&[("BEREDSKAB_BIND", "localhost")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"BEREDSKAB_BIND="localhost": expected an address like 127.0.0.1:8080"#
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "port = 80\n").unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
    }
}
