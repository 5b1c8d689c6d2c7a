//! Server configuration: defaults, then an optional TOML file, then `BEREDSKAB_…` environment
//! variables, then command-line flags. Values are checked when they are loaded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::store::DEFAULT_DATABASE_URL;

/// A password or token from the configuration. Its `Debug` says only that it is set, so the
/// configuration can be logged or printed without giving it away.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(hidden)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

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
    /// Username of the administrator created in an empty database (`BEREDSKAB_ADMIN_USER`).
    pub admin_user: String,
    /// That administrator's password; generated and printed once when not set
    /// (`BEREDSKAB_ADMIN_PASSWORD`).
    pub admin_password: Option<Secret>,
    /// Give every person in the plans an account with a demo password printed at start
    /// (`BEREDSKAB_DEMO`).
    pub demo: bool,
    /// The demo accounts' password; generated at every start when not set
    /// (`BEREDSKAB_DEMO_PASSWORD`).
    pub demo_password: Option<Secret>,
    /// Send the session cookie only over https: set it when a TLS proxy is in front
    /// (`BEREDSKAB_SECURE_COOKIES`).
    pub secure_cookies: bool,
    /// Minutes of inactivity after which a session ends (`BEREDSKAB_SESSION_MINUTES`).
    pub session_minutes: u32,
    /// How mail leaves: `file` (written to `mail_dir`) or `smtp` (`BEREDSKAB_MAIL_TRANSPORT`).
    pub mail_transport: MailTransport,
    /// Folder the `file` transport writes `.eml` files to (`BEREDSKAB_MAIL_DIR`).
    pub mail_dir: PathBuf,
    /// SMTP server (`BEREDSKAB_SMTP_HOST`, `BEREDSKAB_SMTP_PORT`).
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls`, `tls` (implicit) or `none` (`BEREDSKAB_SMTP_SECURITY`).
    pub smtp_security: SmtpSecurity,
    /// SMTP login (`BEREDSKAB_SMTP_USER`, `BEREDSKAB_SMTP_PASSWORD`).
    pub smtp_user: Option<String>,
    pub smtp_password: Option<Secret>,
    /// The sender of every message (`BEREDSKAB_MAIL_FROM`).
    #[serde(deserialize_with = "parsed")]
    pub mail_from: lettre::message::Mailbox,
    /// The address people reach the server at, for links in mail and calendar feeds
    /// (`BEREDSKAB_PUBLIC_URL`), kept without a trailing `/`; when not set, `http://` and the
    /// bind address (see `Config::public_url`).
    #[serde(deserialize_with = "public_url")]
    pub public_url: Option<String>,
    /// Days before a drill its invitation is sent (`BEREDSKAB_INVITE_DAYS_BEFORE`).
    pub invite_days_before: u32,
    /// The plans' time zone: where "today" is decided for pages, mail and reminders, and the
    /// zone of new drill schedules (`BEREDSKAB_TIME_ZONE`).
    #[serde(deserialize_with = "parsed")]
    pub time_zone: chrono_tz::Tz,
    /// Days after a drill before its facilitator is reminded to finish the evaluation
    /// (`BEREDSKAB_EVALUATION_DAYS`).
    pub evaluation_days: u32,
    /// Days between reminders to the owner of an overdue action item
    /// (`BEREDSKAB_ACTION_REMINDER_DAYS`); the first goes out the day after the due date.
    pub action_reminder_days: u32,
    /// Days between reminders to the owner and deputy of a section past its review date
    /// (`BEREDSKAB_REVIEW_REMINDER_DAYS`).
    pub review_reminder_days: u32,
    /// Where the newest offline runbook of each plan is written on each approval
    /// (`BEREDSKAB_RUNBOOK_DIR`).
    pub runbook_dir: PathBuf,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <token>`
    /// (`BEREDSKAB_METRICS_TOKEN`).
    pub metrics_token: Option<Secret>,
    /// A local account without a second factor must enrol one right after its password, and
    /// can do nothing else until it has (`BEREDSKAB_REQUIRE_MFA`). On by default when sign-in
    /// through an identity provider is configured (`oidc_issuer`): then the local accounts are
    /// the break-glass ones, and the provider gives everyone else their second factor.
    pub require_mfa: bool,
    /// Which accounts may sign in with a password: `all`, or `break-glass-only`
    /// (`BEREDSKAB_LOCAL_LOGIN`).
    pub local_login: LocalLogin,
    /// Identity-provider groups and the memberships they give, beside those the administration
    /// page keeps (`[[group_mappings]]` in `--config` only).
    pub group_mappings: Vec<GroupMappingEntry>,
    /// The OpenID Connect provider people sign in with, by its issuer address, whose
    /// `/.well-known/openid-configuration` is read (`BEREDSKAB_OIDC_ISSUER`); none: local
    /// accounts only.
    #[serde(deserialize_with = "issuer_url")]
    pub oidc_issuer: Option<String>,
    /// This server's client id at the provider (`BEREDSKAB_OIDC_CLIENT_ID`).
    pub oidc_client_id: Option<String>,
    /// Its client secret (`BEREDSKAB_OIDC_CLIENT_SECRET`); none for a public client, which
    /// PKCE protects alone.
    pub oidc_client_secret: Option<Secret>,
    /// The provider's name on the button "Log ind med …", such as "Kalundborg Kommune"
    /// (`BEREDSKAB_OIDC_NAME`); none: "Log ind med kommunens login".
    pub oidc_name: Option<String>,
    /// The ID token claim an account's username comes from (`BEREDSKAB_OIDC_USERNAME_CLAIM`).
    pub oidc_username_claim: String,
    /// The claim that lists the person's groups (`BEREDSKAB_OIDC_GROUPS_CLAIM`).
    pub oidc_groups_claim: String,
    /// The claim whose value is matched with the e-mail address of a person in the plans, to
    /// link a new account to them (`BEREDSKAB_OIDC_EMAIL_CLAIM`).
    pub oidc_email_claim: String,
    /// The scopes asked for, separated by spaces; `openid` is always asked for
    /// (`BEREDSKAB_OIDC_SCOPES`).
    pub oidc_scopes: String,
    /// Whether a person the provider signs in for the first time gets an account at once (just
    /// in time); off: only people who have signed in before get in
    /// (`BEREDSKAB_OIDC_CREATE_ACCOUNTS`).
    pub oidc_create_accounts: bool,
    /// The SMS gateway alerts are also sent by (`BEREDSKAB_SMS_PROVIDER`); none: mail only.
    pub sms_provider: Option<SmsProvider>,
    /// The gateway's address for sending (`BEREDSKAB_SMS_URL`); GatewayAPI's by default.
    pub sms_url: String,
    /// The API token the gateway gave (`BEREDSKAB_SMS_TOKEN`).
    pub sms_token: Option<Secret>,
    /// The sender shown on the phone: up to 11 letters and digits, or up to 15 digits
    /// (`BEREDSKAB_SMS_SENDER`).
    pub sms_sender: String,
}

/// The SMS gateways beredskab can send through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsProvider {
    /// GatewayAPI (gatewayapi.com), a Danish gateway.
    Gatewayapi,
}

/// GatewayAPI's address for sending SMS.
pub const GATEWAYAPI_URL: &str = "https://gatewayapi.com/rest/mtsms";

impl Config {
    /// What is wrong with a row of `group_mappings`, naming it.
    fn group_mapping_problem(&self) -> Option<String> {
        self.group_mappings.iter().enumerate().find_map(|(i, row)| {
            let at = format!("group_mappings[{i}]");
            if row.group.trim().is_empty() {
                Some(format!("{at}: group is empty"))
            } else if row.plan.trim().is_empty() {
                Some(format!(
                    "{at}: plan is empty (a plan's id, or \"*\" for every plan)"
                ))
            } else if row.roles.is_empty() {
                Some(format!("{at}: roles is empty"))
            } else if row
                .roles
                .contains(&crate::domain::access::AccessRole::Administrator)
            {
                Some(format!(
                    "{at}: administrator is not a role in a plan; an administrator gives it on \
                     the account's page"
                ))
            } else {
                None
            }
        })
    }
}

/// One row of the group mapping in the configuration file: the members of `group` get `roles`
/// in `plan` (a plan's id, or `*` for every plan).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMappingEntry {
    pub group: String,
    pub plan: String,
    pub roles: Vec<crate::domain::access::AccessRole>,
}

/// Which local accounts may sign in with a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LocalLogin {
    All,
    /// Only accounts an administrator marked break-glass: for when sign-in goes through the
    /// identity provider and local accounts are the way in while it is down.
    BreakGlassOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DEFAULT_DATABASE_URL.to_string(),
            plans_dir: PathBuf::from("plans"),
            import: true,
            language: "da".to_string(),
            admin_user: "admin".to_string(),
            admin_password: None,
            demo: false,
            demo_password: None,
            secure_cookies: false,
            session_minutes: 8 * 60,
            mail_transport: MailTransport::File,
            mail_dir: PathBuf::from("mail"),
            smtp_host: "localhost".to_string(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_user: None,
            smtp_password: None,
            mail_from: lettre::message::Mailbox::new(
                Some("beredskab".to_string()),
                lettre::Address::new("beredskab", "localhost").expect("a valid address"),
            ),
            public_url: None,
            invite_days_before: 14,
            time_zone: chrono_tz::Europe::Copenhagen,
            evaluation_days: 3,
            action_reminder_days: 7,
            runbook_dir: PathBuf::from("runbooks"),
            review_reminder_days: 14,
            metrics_token: None,
            require_mfa: false,
            local_login: LocalLogin::All,
            group_mappings: Vec::new(),
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_name: None,
            oidc_username_claim: "preferred_username".to_string(),
            oidc_groups_claim: "groups".to_string(),
            oidc_email_claim: "email".to_string(),
            oidc_scopes: "openid profile email".to_string(),
            oidc_create_accounts: true,
            sms_provider: None,
            sms_url: GATEWAYAPI_URL.to_string(),
            sms_token: None,
            sms_sender: "Beredskab".to_string(),
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
        // Whether the second factor was chosen: if not, configuring an identity provider
        // turns it on.
        let mut mfa_chosen = false;
        let mut config = match file {
            None => Config::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                let config: Config = toml::from_str(&text).map_err(|e| ConfigError::File {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
                if let Some(message) = config.group_mapping_problem() {
                    return Err(ConfigError::File {
                        path: path.to_path_buf(),
                        message,
                    });
                }
                mfa_chosen = text
                    .parse::<toml::Table>()
                    .is_ok_and(|t| t.contains_key("require_mfa"));
                config
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
            "BEREDSKAB_ADMIN_USER",
            "BEREDSKAB_ADMIN_PASSWORD",
            "BEREDSKAB_DEMO",
            "BEREDSKAB_DEMO_PASSWORD",
            "BEREDSKAB_SECURE_COOKIES",
            "BEREDSKAB_SESSION_MINUTES",
            "BEREDSKAB_MAIL_TRANSPORT",
            "BEREDSKAB_MAIL_DIR",
            "BEREDSKAB_SMTP_HOST",
            "BEREDSKAB_SMTP_PORT",
            "BEREDSKAB_SMTP_SECURITY",
            "BEREDSKAB_SMTP_USER",
            "BEREDSKAB_SMTP_PASSWORD",
            "BEREDSKAB_MAIL_FROM",
            "BEREDSKAB_PUBLIC_URL",
            "BEREDSKAB_INVITE_DAYS_BEFORE",
            "BEREDSKAB_TIME_ZONE",
            "BEREDSKAB_EVALUATION_DAYS",
            "BEREDSKAB_ACTION_REMINDER_DAYS",
            "BEREDSKAB_RUNBOOK_DIR",
            "BEREDSKAB_REVIEW_REMINDER_DAYS",
            "BEREDSKAB_METRICS_TOKEN",
            "BEREDSKAB_REQUIRE_MFA",
            "BEREDSKAB_LOCAL_LOGIN",
            "BEREDSKAB_OIDC_ISSUER",
            "BEREDSKAB_OIDC_CLIENT_ID",
            "BEREDSKAB_OIDC_CLIENT_SECRET",
            "BEREDSKAB_OIDC_NAME",
            "BEREDSKAB_OIDC_USERNAME_CLAIM",
            "BEREDSKAB_OIDC_GROUPS_CLAIM",
            "BEREDSKAB_OIDC_EMAIL_CLAIM",
            "BEREDSKAB_OIDC_SCOPES",
            "BEREDSKAB_OIDC_CREATE_ACCOUNTS",
            "BEREDSKAB_SMS_PROVIDER",
            "BEREDSKAB_SMS_URL",
            "BEREDSKAB_SMS_TOKEN",
            "BEREDSKAB_SMS_SENDER",
        ] {
            let Some(value) = env(name) else { continue };
            let not_flag = || bad(name, &value, "expected true or false");
            match name {
                "BEREDSKAB_BIND" => {
                    config.bind = value
                        .parse()
                        .map_err(|_| bad(name, &value, "expected an address like 127.0.0.1:8080"))?
                }
                "BEREDSKAB_DATABASE_URL" => config.database_url = value,
                "BEREDSKAB_PLANS_DIR" => config.plans_dir = PathBuf::from(value),
                "BEREDSKAB_IMPORT" => config.import = flag(&value).ok_or_else(not_flag)?,
                "BEREDSKAB_DEMO" => config.demo = flag(&value).ok_or_else(not_flag)?,
                "BEREDSKAB_REQUIRE_MFA" => {
                    config.require_mfa = flag(&value).ok_or_else(not_flag)?;
                    mfa_chosen = true;
                }
                "BEREDSKAB_OIDC_ISSUER" => {
                    config.oidc_issuer = Some(issuer(&value).map_err(|m| bad(name, &value, m))?)
                }
                "BEREDSKAB_OIDC_CLIENT_ID" => config.oidc_client_id = Some(value),
                "BEREDSKAB_OIDC_CLIENT_SECRET" => config.oidc_client_secret = Some(value.into()),
                "BEREDSKAB_OIDC_NAME" => config.oidc_name = Some(value),
                "BEREDSKAB_OIDC_USERNAME_CLAIM" => config.oidc_username_claim = value,
                "BEREDSKAB_OIDC_GROUPS_CLAIM" => config.oidc_groups_claim = value,
                "BEREDSKAB_OIDC_EMAIL_CLAIM" => config.oidc_email_claim = value,
                "BEREDSKAB_OIDC_SCOPES" => config.oidc_scopes = value,
                "BEREDSKAB_OIDC_CREATE_ACCOUNTS" => {
                    config.oidc_create_accounts = flag(&value).ok_or_else(not_flag)?
                }
                "BEREDSKAB_SMS_PROVIDER" => {
                    config.sms_provider = match value.as_str() {
                        "gatewayapi" => Some(SmsProvider::Gatewayapi),
                        "" | "none" => None,
                        _ => return Err(bad(name, &value, "expected gatewayapi")),
                    }
                }
                "BEREDSKAB_SMS_URL" => config.sms_url = value,
                "BEREDSKAB_SMS_TOKEN" => config.sms_token = Some(value.into()),
                "BEREDSKAB_SMS_SENDER" => config.sms_sender = value,
                "BEREDSKAB_LOCAL_LOGIN" => {
                    config.local_login = match value.as_str() {
                        "all" => LocalLogin::All,
                        "break-glass-only" => LocalLogin::BreakGlassOnly,
                        _ => return Err(bad(name, &value, "expected all or break-glass-only")),
                    }
                }
                "BEREDSKAB_SECURE_COOKIES" => {
                    config.secure_cookies = flag(&value).ok_or_else(not_flag)?
                }
                "BEREDSKAB_ADMIN_USER" => config.admin_user = value,
                "BEREDSKAB_ADMIN_PASSWORD" => config.admin_password = Some(value.into()),
                "BEREDSKAB_DEMO_PASSWORD" => config.demo_password = Some(value.into()),
                "BEREDSKAB_SESSION_MINUTES" => {
                    config.session_minutes =
                        value.parse().ok().filter(|m| *m > 0).ok_or_else(|| {
                            bad(name, &value, "expected a number of minutes above 0")
                        })?
                }
                "BEREDSKAB_MAIL_TRANSPORT" => {
                    config.mail_transport = match value.as_str() {
                        "file" => MailTransport::File,
                        "smtp" => MailTransport::Smtp,
                        _ => return Err(bad(name, &value, "expected file or smtp")),
                    }
                }
                "BEREDSKAB_MAIL_DIR" => config.mail_dir = PathBuf::from(value),
                "BEREDSKAB_RUNBOOK_DIR" => config.runbook_dir = PathBuf::from(value),
                "BEREDSKAB_SMTP_HOST" => config.smtp_host = value,
                "BEREDSKAB_SMTP_PORT" => {
                    config.smtp_port = value
                        .parse()
                        .map_err(|_| bad(name, &value, "expected a port number"))?
                }
                "BEREDSKAB_SMTP_SECURITY" => {
                    config.smtp_security = match value.as_str() {
                        "starttls" => SmtpSecurity::Starttls,
                        "tls" => SmtpSecurity::Tls,
                        "none" => SmtpSecurity::None,
                        _ => return Err(bad(name, &value, "expected starttls, tls or none")),
                    }
                }
                "BEREDSKAB_SMTP_USER" => config.smtp_user = Some(value),
                "BEREDSKAB_METRICS_TOKEN" => config.metrics_token = Some(value.into()),
                "BEREDSKAB_SMTP_PASSWORD" => config.smtp_password = Some(value.into()),
                "BEREDSKAB_MAIL_FROM" => {
                    config.mail_from = value.parse().map_err(|_| {
                        bad(
                            name,
                            &value,
                            "expected an address like beredskab <it@kommune.dk>",
                        )
                    })?
                }
                "BEREDSKAB_PUBLIC_URL" => {
                    config.public_url = Some(base_url(&value).map_err(|m| bad(name, &value, m))?)
                }
                "BEREDSKAB_INVITE_DAYS_BEFORE" => {
                    config.invite_days_before =
                        value.parse().ok().filter(|d| *d <= 365).ok_or_else(|| {
                            bad(name, &value, "expected a number of days up to 365")
                        })?
                }
                "BEREDSKAB_TIME_ZONE" => {
                    config.time_zone = value.parse().map_err(|_| {
                        bad(name, &value, "expected a time zone like Europe/Copenhagen")
                    })?
                }
                "BEREDSKAB_EVALUATION_DAYS" => {
                    config.evaluation_days =
                        value.parse().ok().filter(|d| *d <= 365).ok_or_else(|| {
                            bad(name, &value, "expected a number of days up to 365")
                        })?
                }
                "BEREDSKAB_REVIEW_REMINDER_DAYS" => {
                    config.review_reminder_days = value
                        .parse()
                        .ok()
                        .filter(|d| (1..=365).contains(d))
                        .ok_or_else(|| {
                            bad(name, &value, "expected a number of days from 1 to 365")
                        })?
                }
                "BEREDSKAB_ACTION_REMINDER_DAYS" => {
                    config.action_reminder_days = value
                        .parse()
                        .ok()
                        .filter(|d| (1..=365).contains(d))
                        .ok_or_else(|| {
                            bad(name, &value, "expected a number of days from 1 to 365")
                        })?
                }
                _ => config.language = value,
            }
        }
        if config.admin_user.trim().is_empty() {
            return Err(bad(
                "BEREDSKAB_ADMIN_USER",
                &config.admin_user,
                "must not be empty",
            ));
        }
        if config.review_reminder_days == 0 {
            return Err(bad(
                "BEREDSKAB_REVIEW_REMINDER_DAYS",
                "0",
                "expected a number of days from 1 to 365",
            ));
        }
        if config.action_reminder_days == 0 {
            return Err(bad(
                "BEREDSKAB_ACTION_REMINDER_DAYS",
                "0",
                "expected a number of days from 1 to 365",
            ));
        }
        config.check_oidc()?;
        config.check_sms()?;
        if config.oidc_issuer.is_some() && !mfa_chosen {
            config.require_mfa = true;
        }
        if !crate::render::i18n::LANGUAGES.contains(&config.language.as_str()) {
            return Err(bad(
                "BEREDSKAB_LANGUAGE",
                &config.language,
                "expected da or en",
            ));
        }
        Ok(config)
    }
}

impl Config {
    /// Whether people can sign in through an OpenID Connect provider.
    pub fn oidc_enabled(&self) -> bool {
        self.oidc_issuer.is_some()
    }

    /// The scopes to ask the provider for: the configured ones, `openid` first and once.
    pub fn oidc_scope_list(&self) -> Vec<String> {
        let mut scopes = vec!["openid".to_string()];
        for scope in self.oidc_scopes.split_whitespace() {
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }
        scopes
    }

    /// The provider settings go together: an issuer needs a client id, and the claims named
    /// must be names.
    fn check_oidc(&self) -> Result<(), ConfigError> {
        let bad = |name: &'static str, value: &str, message: &str| ConfigError::Env {
            name,
            value: value.to_string(),
            message: message.to_string(),
        };
        match (&self.oidc_issuer, &self.oidc_client_id) {
            (Some(issuer), None) => {
                return Err(bad(
                    "BEREDSKAB_OIDC_ISSUER",
                    issuer,
                    "needs BEREDSKAB_OIDC_CLIENT_ID too",
                ));
            }
            (None, Some(id)) => {
                return Err(bad(
                    "BEREDSKAB_OIDC_CLIENT_ID",
                    id,
                    "needs BEREDSKAB_OIDC_ISSUER too",
                ));
            }
            (Some(_), Some(id)) if id.trim().is_empty() => {
                return Err(bad("BEREDSKAB_OIDC_CLIENT_ID", id, "must not be empty"));
            }
            _ => {}
        }
        for (name, value) in [
            ("BEREDSKAB_OIDC_USERNAME_CLAIM", &self.oidc_username_claim),
            ("BEREDSKAB_OIDC_GROUPS_CLAIM", &self.oidc_groups_claim),
            ("BEREDSKAB_OIDC_EMAIL_CLAIM", &self.oidc_email_claim),
        ] {
            if value.trim().is_empty() || value.chars().any(char::is_whitespace) {
                return Err(bad(
                    name,
                    value,
                    "expected the name of a claim, such as email",
                ));
            }
        }
        Ok(())
    }

    /// The SMS settings go together: a provider needs a token and an http(s) address, and the
    /// sender must be one a phone shows.
    fn check_sms(&self) -> Result<(), ConfigError> {
        let bad = |name: &'static str, value: &str, message: &str| ConfigError::Env {
            name,
            value: value.to_string(),
            message: message.to_string(),
        };
        let sender = self.sms_sender.as_str();
        let digits = sender.chars().all(|c| c.is_ascii_digit());
        let fits = if digits {
            (1..=15).contains(&sender.len())
        } else {
            (1..=11).contains(&sender.chars().count())
                && sender
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ')
        };
        if !fits {
            return Err(bad(
                "BEREDSKAB_SMS_SENDER",
                sender,
                "expected up to 11 letters (a-z, A-Z) and digits, or up to 15 digits",
            ));
        }
        if self.sms_provider.is_none() {
            return Ok(());
        }
        if self
            .sms_token
            .as_ref()
            .is_none_or(|t| t.expose().trim().is_empty())
        {
            return Err(bad(
                "BEREDSKAB_SMS_PROVIDER",
                "gatewayapi",
                "needs BEREDSKAB_SMS_TOKEN too",
            ));
        }
        if !(self.sms_url.starts_with("https://") || self.sms_url.starts_with("http://")) {
            return Err(bad(
                "BEREDSKAB_SMS_URL",
                &self.sms_url,
                "expected an http(s) address",
            ));
        }
        Ok(())
    }

    /// The address the provider sends people back to after they signed in there.
    pub fn oidc_redirect_uri(&self) -> String {
        self.link("/auth/oidc/callback")
    }

    /// The address `path` (which starts with `/`) on this server, for links in mail and
    /// calendar feeds.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url())
    }

    /// The address links in mail and calendar feeds use: the one set, else `http://` and the
    /// address the server listens on, so that `--bind 127.0.0.1:8090` gives links to port 8090.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.bind),
        }
    }

    /// Why the links in mail will not reach people, if they will not: mail goes out by SMTP
    /// while the links name this machine only (a loopback address or `localhost`) or no machine
    /// at all (an unspecified address such as `0.0.0.0`).
    pub fn public_url_warning(&self) -> Option<String> {
        if self.mail_transport != MailTransport::Smtp {
            return None;
        }
        let url = self.public_url();
        let host = url::Url::parse(&url).ok()?.host()?.to_owned();
        let nowhere = match &host {
            url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
            url::Host::Ipv4(ip) => ip.is_loopback() || ip.is_unspecified(),
            url::Host::Ipv6(ip) => ip.is_loopback() || ip.is_unspecified(),
        };
        nowhere.then(|| {
            format!(
                "links in mail point to {url}, which the recipients cannot reach: set BEREDSKAB_PUBLIC_URL to the address people use"
            )
        })
    }
}

/// An `http(s)` address without its trailing `/`.
fn base_url(value: &str) -> Result<String, &'static str> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(value.trim_end_matches('/').to_string())
        }
        _ => Err("expected an address like https://beredskab.kommune.dk"),
    }
}

/// An issuer: an `https` address (or `http` on this machine, for trying out and tests), kept
/// as written: the provider's metadata must name exactly this issuer.
fn issuer(value: &str) -> Result<String, &'static str> {
    let url = url::Url::parse(value)
        .map_err(|_| "expected an address like https://login.microsoftonline.com/<tenant>/v2.0")?;
    let loopback = match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => {
            return Err("expected an address like https://login.microsoftonline.com/<tenant>/v2.0");
        }
    };
    match url.scheme() {
        "https" => Ok(value.to_string()),
        "http" if loopback => Ok(value.to_string()),
        "http" => Err("the identity provider must be reached over https"),
        _ => Err("expected an address like https://login.microsoftonline.com/<tenant>/v2.0"),
    }
}

/// `oidc_issuer` from a file.
fn issuer_url<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    issuer(&text)
        .map(Some)
        .map_err(|m| serde::de::Error::custom(format!("{text:?}: {m}")))
}

/// A file value read with its type's `FromStr`.
fn parsed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse()
        .map_err(|e| serde::de::Error::custom(format!("{text:?}: {e}")))
}

/// `public_url` from a file.
fn public_url<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    base_url(&text)
        .map(Some)
        .map_err(|m| serde::de::Error::custom(format!("{text:?}: {m}")))
}

fn flag(value: &str) -> Option<bool> {
    match value {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
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
    fn secrets_are_used_but_never_shown() {
        let config = Config::load(
            None,
            env(&[
                ("BEREDSKAB_SMTP_PASSWORD", "smtp-secret-1"),
                ("BEREDSKAB_METRICS_TOKEN", "token-secret-2"),
                ("BEREDSKAB_ADMIN_PASSWORD", "admin-secret-3"),
                ("BEREDSKAB_DEMO_PASSWORD", "demo-secret-4"),
            ]),
        )
        .unwrap();
        assert_eq!(
            config.smtp_password.as_ref().unwrap().expose(),
            "smtp-secret-1"
        );
        assert_eq!(
            config.metrics_token.as_ref().unwrap().expose(),
            "token-secret-2"
        );
        let shown = format!("{config:?}");
        assert!(
            shown.contains("smtp_password: Some(Secret(hidden))"),
            "{shown}"
        );
        assert!(!shown.contains("secret-"), "{shown}");
    }

    #[test]
    fn links_follow_the_bind_address_unless_the_public_address_is_set() {
        let config = Config::load(None, env(&[("BEREDSKAB_BIND", "127.0.0.1:8090")])).unwrap();
        assert_eq!(config.link("/drills/1"), "http://127.0.0.1:8090/drills/1");
        // Mail to files: nothing to warn about; by SMTP, a loopback address reaches no one.
        assert_eq!(config.public_url_warning(), None);
        let smtp = Config {
            mail_transport: MailTransport::Smtp,
            ..config.clone()
        };
        assert!(
            smtp.public_url_warning()
                .is_some_and(|w| w.contains("http://127.0.0.1:8090")),
            "{:?}",
            smtp.public_url_warning()
        );
        let everywhere = Config {
            bind: "0.0.0.0:8080".parse().unwrap(),
            ..smtp.clone()
        };
        assert!(everywhere.public_url_warning().is_some());
        let set = Config::load(
            None,
            env(&[
                ("BEREDSKAB_BIND", "0.0.0.0:8090"),
                ("BEREDSKAB_PUBLIC_URL", "https://beredskab.kommune.dk/"),
                ("BEREDSKAB_MAIL_TRANSPORT", "smtp"),
            ]),
        )
        .unwrap();
        assert_eq!(set.link("/x"), "https://beredskab.kommune.dk/x");
        assert_eq!(set.public_url_warning(), None);
        let bad = Config::load(None, env(&[("BEREDSKAB_PUBLIC_URL", "beredskab.dk")])).unwrap_err();
        assert!(
            bad.to_string().starts_with("BEREDSKAB_PUBLIC_URL="),
            "{bad}"
        );
    }

    #[test]
    fn group_mappings_come_from_the_file_and_are_checked() {
        use crate::domain::access::AccessRole;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "[[group_mappings]]\ngroup = \"GG-Beredskab\"\nplan = \"*\"\nroles = [\"viewer\"]\n\n\
             [[group_mappings]]\ngroup = \"GG-IT-chef\"\nplan = \"kommune\"\n\
             roles = [\"approver\", \"incident-lead\"]\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), env(&[])).unwrap();
        assert_eq!(config.group_mappings.len(), 2);
        assert_eq!(
            config.group_mappings[1].roles,
            [AccessRole::Approver, AccessRole::IncidentLead]
        );
        std::fs::write(
            &file,
            "[[group_mappings]]\ngroup = \"x\"\nplan = \"*\"\nroles = [\"administrator\"]\n",
        )
        .unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err().to_string();
        assert!(err.contains("group_mappings[0]: administrator"), "{err}");
        std::fs::write(
            &file,
            "[[group_mappings]]\ngroup = \"x\"\nplan = \"*\"\nroles = [\"boss\"]\n",
        )
        .unwrap();
        let err = Config::load(Some(&file), env(&[])).unwrap_err().to_string();
        assert!(err.contains("boss"), "{err}");
    }

    #[test]
    fn local_sign_in_settings_come_from_file_and_environment() {
        let config = Config::load(None, env(&[])).unwrap();
        assert!(!config.require_mfa);
        assert_eq!(config.local_login, LocalLogin::All);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "require_mfa = true\nlocal_login = \"break-glass-only\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), env(&[])).unwrap();
        assert!(config.require_mfa);
        assert_eq!(config.local_login, LocalLogin::BreakGlassOnly);
        let config = Config::load(
            Some(&file),
            env(&[
                ("BEREDSKAB_REQUIRE_MFA", "false"),
                ("BEREDSKAB_LOCAL_LOGIN", "all"),
            ]),
        )
        .unwrap();
        assert!(!config.require_mfa);
        assert_eq!(config.local_login, LocalLogin::All);
        let err = Config::load(None, env(&[("BEREDSKAB_LOCAL_LOGIN", "some")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"BEREDSKAB_LOCAL_LOGIN="some": expected all or break-glass-only"#
        );
    }

    #[test]
    fn an_sms_gateway_is_configured_with_its_token_and_a_sender_a_phone_shows() {
        let config = Config::load(None, env(&[])).unwrap();
        assert_eq!(config.sms_provider, None);
        assert_eq!(config.sms_url, GATEWAYAPI_URL);
        assert_eq!(config.sms_sender, "Beredskab");
        let config = Config::load(
            None,
            env(&[
                ("BEREDSKAB_SMS_PROVIDER", "gatewayapi"),
                ("BEREDSKAB_SMS_TOKEN", "sms-token-7"),
                ("BEREDSKAB_SMS_SENDER", "Kalundborg"),
                ("BEREDSKAB_SMS_URL", "https://gatewayapi.eu/rest/mtsms"),
            ]),
        )
        .unwrap();
        assert_eq!(config.sms_provider, Some(SmsProvider::Gatewayapi));
        assert_eq!(config.sms_token.as_ref().unwrap().expose(), "sms-token-7");
        assert!(!format!("{config:?}").contains("sms-token-7"));
        let refused =
            |vars: &[(&str, &str)]| Config::load(None, env(vars)).unwrap_err().to_string();
        assert_eq!(
            refused(&[("BEREDSKAB_SMS_PROVIDER", "gatewayapi")]),
            r#"BEREDSKAB_SMS_PROVIDER="gatewayapi": needs BEREDSKAB_SMS_TOKEN too"#
        );
        assert_eq!(
            refused(&[("BEREDSKAB_SMS_PROVIDER", "twilio")]),
            r#"BEREDSKAB_SMS_PROVIDER="twilio": expected gatewayapi"#
        );
        assert!(
            refused(&[("BEREDSKAB_SMS_SENDER", "Kalundborg Kommune")])
                .starts_with(r#"BEREDSKAB_SMS_SENDER="Kalundborg Kommune": expected up to 11"#)
        );
        assert!(Config::load(None, env(&[("BEREDSKAB_SMS_SENDER", "4572364100")])).is_ok());
        assert!(
            refused(&[
                ("BEREDSKAB_SMS_PROVIDER", "gatewayapi"),
                ("BEREDSKAB_SMS_TOKEN", "t"),
                ("BEREDSKAB_SMS_URL", "gatewayapi.com/rest/mtsms"),
            ])
            .contains("expected an http(s) address")
        );
    }

    #[test]
    fn an_identity_provider_is_configured_from_file_or_environment() {
        let config = Config::load(None, env(&[])).unwrap();
        assert!(!config.oidc_enabled());
        assert_eq!(config.oidc_username_claim, "preferred_username");
        assert_eq!(config.oidc_groups_claim, "groups");
        assert_eq!(config.oidc_email_claim, "email");
        assert!(config.oidc_create_accounts);
        assert_eq!(config.oidc_scope_list(), ["openid", "profile", "email"]);
        let config = Config::load(
            None,
            env(&[
                (
                    "BEREDSKAB_OIDC_ISSUER",
                    "https://login.microsoftonline.com/t/v2.0",
                ),
                ("BEREDSKAB_OIDC_CLIENT_ID", "beredskab"),
                ("BEREDSKAB_OIDC_CLIENT_SECRET", "oidc-secret-5"),
                ("BEREDSKAB_OIDC_NAME", "Kalundborg Kommune"),
                ("BEREDSKAB_OIDC_USERNAME_CLAIM", "upn"),
                ("BEREDSKAB_OIDC_GROUPS_CLAIM", "roles"),
                ("BEREDSKAB_OIDC_EMAIL_CLAIM", "mail"),
                ("BEREDSKAB_OIDC_SCOPES", "profile email profile"),
                ("BEREDSKAB_OIDC_CREATE_ACCOUNTS", "false"),
                ("BEREDSKAB_PUBLIC_URL", "https://beredskab.kommune.dk/"),
            ]),
        )
        .unwrap();
        assert!(config.oidc_enabled());
        assert_eq!(
            config.oidc_issuer.as_deref(),
            Some("https://login.microsoftonline.com/t/v2.0")
        );
        assert_eq!(config.oidc_client_id.as_deref(), Some("beredskab"));
        assert_eq!(
            config.oidc_client_secret.as_ref().unwrap().expose(),
            "oidc-secret-5"
        );
        assert_eq!(config.oidc_name.as_deref(), Some("Kalundborg Kommune"));
        assert_eq!(config.oidc_username_claim, "upn");
        assert_eq!(config.oidc_groups_claim, "roles");
        assert_eq!(config.oidc_email_claim, "mail");
        assert_eq!(config.oidc_scope_list(), ["openid", "profile", "email"]);
        assert!(!config.oidc_create_accounts);
        assert_eq!(
            config.oidc_redirect_uri(),
            "https://beredskab.kommune.dk/auth/oidc/callback"
        );
        let shown = format!("{config:?}");
        assert!(!shown.contains("oidc-secret-5"), "{shown}");

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "oidc_issuer = \"http://127.0.0.1:9000\"\noidc_client_id = \"b\"\noidc_create_accounts = false\n",
        )
        .unwrap();
        let config = Config::load(Some(&file), env(&[])).unwrap();
        assert_eq!(config.oidc_issuer.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(!config.oidc_create_accounts);
    }

    #[test]
    fn a_second_factor_is_required_by_default_with_an_identity_provider() {
        let with = [
            ("BEREDSKAB_OIDC_ISSUER", "https://idp.kommune.dk"),
            ("BEREDSKAB_OIDC_CLIENT_ID", "beredskab"),
        ];
        assert!(Config::load(None, env(&with)).unwrap().require_mfa);
        let mut chosen = with.to_vec();
        chosen.push(("BEREDSKAB_REQUIRE_MFA", "false"));
        assert!(!Config::load(None, env(&chosen)).unwrap().require_mfa);
        // Chosen in the file counts as chosen too.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "require_mfa = false\n").unwrap();
        assert!(!Config::load(Some(&file), env(&with)).unwrap().require_mfa);
        assert!(!Config::load(None, env(&[])).unwrap().require_mfa);
    }

    #[test]
    fn identity_provider_settings_that_cannot_work_are_refused() {
        let err =
            Config::load(None, env(&[("BEREDSKAB_OIDC_ISSUER", "https://idp.dk")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"BEREDSKAB_OIDC_ISSUER="https://idp.dk": needs BEREDSKAB_OIDC_CLIENT_ID too"#
        );
        let err = Config::load(None, env(&[("BEREDSKAB_OIDC_CLIENT_ID", "b")])).unwrap_err();
        assert!(
            err.to_string().contains("needs BEREDSKAB_OIDC_ISSUER"),
            "{err}"
        );
        let err = Config::load(
            None,
            env(&[
                ("BEREDSKAB_OIDC_ISSUER", "http://idp.kommune.dk"),
                ("BEREDSKAB_OIDC_CLIENT_ID", "b"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("over https"), "{err}");
        let err = Config::load(
            None,
            env(&[
                ("BEREDSKAB_OIDC_ISSUER", "https://idp.kommune.dk"),
                ("BEREDSKAB_OIDC_CLIENT_ID", "b"),
                ("BEREDSKAB_OIDC_GROUPS_CLAIM", "my groups"),
            ]),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("BEREDSKAB_OIDC_GROUPS_CLAIM="),
            "{err}"
        );
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
