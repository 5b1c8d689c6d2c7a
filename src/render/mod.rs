//! Templates, locale strings and static files, embedded in the binary at build time: what
//! pages, mail and documents are rendered with, by the web layer, the scheduler and the
//! command line alike.

pub mod document;
pub mod findings;
pub mod i18n;
pub mod picture;
pub mod reports;
pub mod runbook;
pub mod sheet;

use std::sync::Arc;

use handlebars::Handlebars;
use rust_embed::RustEmbed;
use serde_json::{Value, json};

use crate::domain::{Duration, PersonId, Plan};
use sha2::Digest as _;

use i18n::{LANGUAGES, Locales, Translate};

/// A template that failed to render.
#[derive(Debug, thiserror::Error)]
#[error("rendering {template}: {message}")]
pub struct RenderError {
    pub template: String,
    pub message: String,
}

pub type Result<T, E = RenderError> = std::result::Result<T, E>;

#[derive(RustEmbed)]
#[folder = "templates/"]
pub struct Assets;

/// A rendered message.
pub struct MailBody {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The registered templates and the locale strings.
pub struct Templates {
    /// Pages, partials and the HTML of mail: every value HTML-escaped.
    hb: Handlebars<'static>,
    /// The subjects and plain-text parts of mail, which are not HTML: nothing escaped.
    plain: Handlebars<'static>,
    pub locales: Arc<Locales>,
    /// A digest of every embedded template, string and static file, and the program's version:
    /// part of every ETag, so that a new build never answers 304 for a page it renders anew.
    pub build: String,
}

fn text(path: &str) -> anyhow::Result<String> {
    let file = Assets::get(path).ok_or_else(|| anyhow::anyhow!("templates/{path} is missing"))?;
    Ok(String::from_utf8(file.data.into_owned())?)
}

/// The embedded locale strings of every language; fails if a language lacks a string another
/// one has.
pub fn locales() -> anyhow::Result<Locales> {
    let mut files = Vec::new();
    for lang in LANGUAGES {
        files.push((lang, text(&format!("locales/{lang}.toml"))?));
    }
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(l, t)| (*l, t.as_str())).collect();
    let locales = Locales::parse(&borrowed).map_err(anyhow::Error::msg)?;
    let missing = locales.missing();
    if !missing.is_empty() {
        anyhow::bail!("locale strings missing:\n{}", missing.join("\n"));
    }
    Ok(locales)
}

impl Templates {
    /// Registers every page and partial in strict mode and reads the locales; fails if a
    /// template does not compile or a language lacks a string another one has.
    pub fn load() -> anyhow::Result<Self> {
        let locales = Arc::new(locales()?);
        let registry = |escape: bool| {
            let mut hb = Handlebars::new();
            hb.set_strict_mode(true);
            if !escape {
                hb.register_escape_fn(handlebars::no_escape);
            }
            hb.register_helper(
                "t",
                Box::new(Translate {
                    locales: locales.clone(),
                    escape,
                }),
            );
            hb.register_helper(
                "tt",
                Box::new(Translate {
                    locales: locales.clone(),
                    escape: false,
                }),
            );
            hb.register_helper("paragraphs", Box::new(paragraphs));
            hb.register_helper("asset", Box::new(asset));
            hb
        };
        let (mut hb, mut plain) = (registry(true), registry(false));
        // A template is named by its file name in its folder (pages, partials, emails).
        let mut names = std::collections::HashMap::new();
        for path in Assets::iter() {
            let Some(stem) = path.strip_suffix(".hbs") else {
                continue;
            };
            let name = stem.rsplit('/').next().unwrap_or(stem).to_string();
            if let Some(other) = names.insert(name.clone(), path.to_string()) {
                anyhow::bail!("templates/{other} and templates/{path} are both named {name:?}");
            }
            let source = text(&path)?;
            let unescaped = path.starts_with("emails/")
                && (name.ends_with("_text") || name.ends_with("_subject"));
            let registry = if unescaped { &mut plain } else { &mut hb };
            registry
                .register_template_string(&name, source)
                .map_err(|e| anyhow::anyhow!("templates/{path}: {e}"))?;
        }
        let mut digest = sha2::Sha256::new();
        sha2::Digest::update(&mut digest, env!("CARGO_PKG_VERSION"));
        for path in Assets::iter() {
            if let Some(file) = Assets::get(&path) {
                sha2::Digest::update(&mut digest, file.metadata.sha256_hash());
            }
        }
        let build = hex(&sha2::Digest::finalize(digest)[..8]);
        Ok(Templates {
            hb,
            plain,
            locales,
            build,
        })
    }

    /// Renders page `name` with `data`; the language goes in as `lang`.
    pub fn page(&self, name: &str, lang: &str, mut data: Value) -> Result<String> {
        if let Value::Object(map) = &mut data {
            map.insert("lang".into(), Value::String(lang.to_string()));
            // The current page, as the language links' `next` parameter.
            let here = map.get("path").and_then(Value::as_str).unwrap_or("/");
            map.insert("here".into(), Value::String(url_escape(here)));
            // The layout asks for these on every page, signed in or not.
            map.entry("user").or_insert(Value::Null);
            map.entry("csrf").or_insert(Value::String(String::new()));
        }
        self.hb.render(name, &data).map_err(|e| RenderError {
            template: name.to_string(),
            message: e.to_string(),
        })
    }
}

impl Templates {
    /// The locale string `key` in `lang` (the key itself if there is none: never a blank).
    pub fn text(&self, lang: &str, key: &str) -> String {
        self.locales.get(lang, key).unwrap_or(key).to_string()
    }

    /// The locale string `key` in `lang` for a count of `n`, written into its `{n}`: `key_one`
    /// when `n` is 1 and the language has it, as the `t` helper does in templates.
    pub fn counted(&self, lang: &str, key: &str, n: usize) -> String {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let text = self.locales.get_counted(lang, key, n).unwrap_or(key);
        text.replace("{n}", &i18n::count(n, lang))
    }

    /// A message's subject, plain text and HTML from the email templates `{name}_subject`,
    /// `{name}_text` and `{name}_html`, in `lang`: the subject and the text as written (no HTML
    /// escaping), the HTML escaped and in the one mail layout.
    pub fn mail(&self, name: &str, lang: &str, mut data: Value) -> Result<MailBody> {
        if let Value::Object(map) = &mut data {
            map.insert("lang".into(), Value::String(lang.to_string()));
        }
        let plain = |part: &str| {
            let template = format!("{name}_{part}");
            self.plain
                .render(&template, &data)
                .map_err(|e| RenderError {
                    template,
                    message: e.to_string(),
                })
        };
        let subject = plain("subject")?.trim().to_string();
        let text = plain("text")?;
        let body = self.fragment(&format!("{name}_html"), lang, data.clone())?;
        data["subject"] = Value::String(subject.clone());
        data["body"] = Value::String(body);
        let html = self.fragment("mail_layout", lang, data)?;
        Ok(MailBody {
            subject,
            text,
            html,
        })
    }

    /// Renders template `name` as a piece of a page (escaped as always), for caching.
    pub fn fragment(&self, name: &str, lang: &str, mut data: Value) -> Result<String> {
        if let Value::Object(map) = &mut data {
            map.insert("lang".into(), Value::String(lang.to_string()));
        }
        self.hb.render(name, &data).map_err(|e| RenderError {
            template: name.to_string(),
            message: e.to_string(),
        })
    }
}

handlebars::handlebars_helper!(paragraphs: |text: str| paragraphs_of(text));
handlebars::handlebars_helper!(asset: |name: str| asset_path(name));

/// The first 8 bytes of a static file's SHA-256, in hex: the part of its name that changes
/// with its content.
fn content_hash(name: &str) -> Option<String> {
    let file = Assets::get(&format!("static/{name}"))?;
    Some(hex(&file.metadata.sha256_hash()[..8]))
}

/// Bytes in lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `/static/app.3f2a1b9c0d4e5f60.css`: a static file's address, named by its content so that
/// browsers may keep it for a year and still get a changed file at once.
pub fn asset_path(name: &str) -> String {
    match (content_hash(name), name.rsplit_once('.')) {
        (Some(hash), Some((stem, ext))) => format!("/static/{stem}.{hash}.{ext}"),
        _ => format!("/static/{name}"),
    }
}

/// A static file by its address name, and whether that name carries its current content hash
/// (`app.<hash>.css`); the plain name (`app.css`) is served too, for pages saved earlier.
pub fn static_asset(requested: &str) -> Option<(Vec<u8>, &'static str, bool)> {
    let hashed = requested.rsplit_once('.').and_then(|(rest, ext)| {
        let (stem, hash) = rest.rsplit_once('.')?;
        let name = format!("{stem}.{ext}");
        (content_hash(&name)? == hash).then_some(name)
    });
    let immutable = hashed.is_some();
    let (bytes, mime) = static_file(hashed.as_deref().unwrap_or(requested))?;
    Some((bytes, mime, immutable))
}

/// Text as written in a plan file, as paragraphs: blank lines separate paragraphs, single line
/// breaks (hard wrapping in the file) become spaces.
fn paragraphs_of(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

/// A static text file (the stylesheet), for inlining into a self-contained page.
pub fn static_text(name: &str) -> String {
    text(&format!("static/{name}")).unwrap_or_default()
}

/// The favicon drawn as a `size` × `size` PNG on white, with a margin that keeps it whole where
/// a phone crops the icon to a circle: the installed app's icon. Drawn once per size.
pub fn icon_png(size: u32) -> Option<Vec<u8>> {
    static DRAWN: std::sync::Mutex<Vec<(u32, Vec<u8>)>> = std::sync::Mutex::new(Vec::new());
    let mut drawn = DRAWN.lock().ok()?;
    if let Some((_, png)) = drawn.iter().find(|(s, _)| *s == size) {
        return Some(png.clone());
    }
    let png = draw_icon(size)?;
    drawn.push((size, png.clone()));
    Some(png)
}

fn draw_icon(size: u32) -> Option<Vec<u8>> {
    let (svg, _) = static_file("favicon.svg")?;
    let tree = resvg::usvg::Tree::from_data(&svg, &resvg::usvg::Options::default()).ok()?;
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size, size)?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let side = size as f32;
    let scale = side * 0.7 / tree.size().width().max(tree.size().height());
    let offset = side * 0.15;
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, offset, offset),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().ok()
}

/// A static file's bytes and content type.
pub fn static_file(name: &str) -> Option<(Vec<u8>, &'static str)> {
    let file = Assets::get(&format!("static/{name}"))?;
    let mime = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    Some((file.data.into_owned(), mime))
}

/// Percent-encodes a query value.
pub fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A duration for a page, in `lang`; `null` when there is none.
pub fn dur(d: Option<Duration>, lang: &str) -> Value {
    d.map_or(Value::Null, |d| Value::String(i18n::duration(d, lang)))
}

pub fn person_name(plan: &Plan, id: Option<&PersonId>) -> Value {
    match id {
        None => Value::Null,
        Some(id) => match plan.person(id.as_str()) {
            Some(p) => {
                json!({"id": p.id, "name": p.name, "title": p.title, "email": p.email, "phone": p.phone, "tel": tel(&p.phone)})
            }
            None => {
                json!({"id": id, "name": id.as_str(), "title": "", "email": "", "phone": "", "tel": ""})
            }
        },
    }
}

/// A phone number as a `tel:` target: digits and a leading `+` only.
pub fn tel(phone: &str) -> String {
    phone
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn hard_wrapped_text_becomes_paragraphs() {
        assert_eq!(
            super::paragraphs_of("one\ntwo\n\n  three \n"),
            ["one two", "three"]
        );
    }
}
