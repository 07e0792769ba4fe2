//! A new brand pack (`whitelabel new`): a commented `brand.toml`, placeholder
//! artwork and a mail layout, written into the brands directory in one step.
//!
//! Every value a person must decide is a [`super::TODO`] placeholder that
//! `check` rejects by field name; what `--name`/`--domain` settle is filled
//! in, and what they only suggest goes after `TODO: ` so one deletion accepts it.

use std::path::{Path, PathBuf};

use super::{BRAND_FILE, BRAND_ID_RULE, DEFAULT_BASE, MAX_NAME_CHARS, is_brand_id, is_hostname, is_todo};
use crate::error::{Error, Result};

/// The scaffold's primary color: white text on it has a contrast of 7.4:1.
/// The artwork and the layout use it too.
pub const DEFAULT_PRIMARY: &str = "#3451b2";
/// The web app manifest's `short_name` shows under a home-screen icon.
const SHORT_NAME_CHARS: usize = 12;

const MARK_SVG: &str = include_str!("scaffold/mark.svg");
const LOGO_SVG: &str = include_str!("scaffold/logo.svg");
const LOGO_DARK_SVG: &str = include_str!("scaffold/logo_dark.svg");
const MAIL_LAYOUT: &str = include_str!("scaffold/base.liquid");

/// What `new` was given.
#[derive(Debug, Default)]
pub struct Options {
    pub id: String,
    pub name: Option<String>,
    pub domain: Option<String>,
}

/// One file of the pack, relative to it, with what it is for.
#[derive(Debug, serde::Serialize)]
pub struct File {
    pub path: String,
    #[serde(skip)]
    pub data: Vec<u8>,
    pub about: &'static str,
}

/// One value left for a person: the dotted field and what goes there.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Todo {
    pub field: String,
    pub hint: String,
}

#[derive(Debug)]
pub struct Scaffold {
    pub id: String,
    pub files: Vec<File>,
    pub todo: Vec<Todo>,
    /// Fields filled in from `--name`/`--domain`.
    pub derived: Vec<String>,
}

/// A value in the generated `brand.toml`: settled, or a placeholder.
enum Value {
    Set(String),
    Todo(String),
}

impl Scaffold {
    /// The files of a new pack, in memory. Refuses an unsafe id, a name the
    /// pack would reject, and a domain that is not a host name.
    pub fn new(opts: &Options) -> Result<Scaffold> {
        let id = opts.id.as_str();
        if !is_brand_id(id) {
            return Err(Error::usage(
                format!("`{id}` cannot be a brand id (it names the pack directory, tags and stack names)"),
                format!("use {BRAND_ID_RULE}, e.g. `acme`"),
            ));
        }
        let name = opts.name.as_deref().map(str::trim).map(check_name).transpose()?;
        let domain = opts.domain.as_deref().map(check_domain).transpose()?;
        let mut derived = Vec::new();
        let mut todo = Vec::new();
        let mut value = |field: &str, v: Value| -> String {
            let key = field.rsplit('.').next().unwrap_or(field);
            match v {
                Value::Set(s) => {
                    derived.push(field.to_string());
                    format!("{key} = {}", toml_str(&s))
                }
                Value::Todo(hint) => {
                    let placeholder = format!("TODO: {hint}");
                    todo.push(Todo { field: field.to_string(), hint });
                    format!("{key} = {}  # TODO", toml_str(&placeholder))
                }
            }
        };

        // With --domain, a TODO holds a suggestion from it (the company's
        // site is usually the parent of the chat host: chat.acme.example →
        // acme.example), valid once `TODO: ` goes. Without, a description:
        // no example URL, sender or host to keep by mistake.
        let site = domain.as_deref().map(parent_domain);
        let suggest = |path: &str, what: &str| match &site {
            Some(s) => format!("https://{s}{path}"),
            None => what.to_string(),
        };

        let name_line = match &name {
            Some(n) => value("brand.name", Value::Set(n.clone())),
            None => value("brand.name", Value::Todo("the product name users see".into())),
        };
        let short_line = match &name {
            Some(n) => value("brand.short_name", Value::Set(short_name(n))),
            None => "# short_name = \"Acme\"".to_string(),
        };
        let company = value("brand.company", Value::Todo("the company's legal name".into()));
        let home = value("urls.home", Value::Todo(suggest("", "the company's site, e.g. https://www.acme.example")));
        let app = match &domain {
            Some(d) => value("urls.app", Value::Set(format!("https://{d}"))),
            None => value("urls.app", Value::Todo("https:// and the host of [stack] domain".into())),
        };
        let help = value("urls.help", Value::Todo(suggest("/help", "the help center, e.g. https://help.acme.example")));
        let terms = value("urls.terms", Value::Todo(suggest("/terms", "the terms of service page")));
        let privacy = value("urls.privacy", Value::Todo(suggest("/privacy", "the privacy policy page")));
        let widget = value(
            "urls.widget",
            Value::Todo(suggest("", "where the widget's powered-by link goes, e.g. https://www.acme.example")),
        );
        let sender = value(
            "mail.sender",
            Value::Todo(match &site {
                Some(s) => format!("{} <support@{s}>", sender_name(name.as_deref())),
                None => "`Name <address>` your mail server may send as, e.g. Acme <support@acme.example>".into(),
            }),
        );
        let repository = value(
            "image.repository",
            Value::Todo(match &site {
                Some(s) => format!("registry.{s}/{id}/chatwoot"),
                None => format!("your registry's repository, e.g. registry.acme.example/{id}/chatwoot"),
            }),
        );
        let stack_domain = match &domain {
            Some(d) => value("stack.domain", Value::Set(d.clone())),
            None => value("stack.domain", Value::Todo("the host this is served on, e.g. chat.acme.example".into())),
        };

        let toml = format!(
            r##"# Brand pack `{id}` for whitelabel (schema 1), written by `whitelabel new`.
# Every line marked TODO is yours to fill in (where `TODO: ` is followed by
# a suggested value, deleting `TODO: ` accepts it). `whitelabel check {id}`
# lists what is left. Paths are relative to this directory; URLs are absolute https://.
schema = 1

# Who the brand is.
[brand]
# The product name users see wherever the UI, mails and icons named the
# upstream product (at most {MAX_NAME_CHARS} characters).
{name_line}
# A shorter name for home-screen icons (web app manifest); defaults to name.
{short_line}
# The company behind it: the image's vendor label and the page description.
{company}
# Default language of the interface: en, pt_BR, es, fr, de, ...
locale = "en"

# Public addresses.
[urls]
# The company's site: "powered by" links and upstream home links go here.
{home}
# Where this installation is served (FRONTEND_URL): https:// + [stack] domain.
{app}
# The help center: upstream documentation links go here.
{help}
{terms}
{privacy}
# Where the chat widget's "powered by" link goes.
{widget}

# The primary color is shade 500 of the palette; the other shades are mixed
# from it. White text on it needs a WCAG contrast of at least 3:1 (`check`
# prints the ratio). The placeholder artwork and mail layout use it too.
[colors]
primary = "{DEFAULT_PRIMARY}"
# Override single shades (25, 50, 75, 100, 200 ... 900) if a mix looks off:
# [colors.palette]
# 700 = "#23367a"

# Artwork: SVG with shapes and paths only (text is not rendered: convert a
# wordmark to paths). The files here are placeholders: replace them.
[logos]
light = "logo.svg"           # on light backgrounds
dark = "logo_dark.svg"       # on dark backgrounds
mark = "mark.svg"            # square; every icon (favicons, app icons) is made from it
icon_background = "#ffffff"  # behind the mark in app icons

[mail]
# The default From: (when MAILER_SENDER_EMAIL is unset), `Name <address>`:
# an address your mail server may send as.
{sender}
# The Liquid layout around every mail; it must output {{{{ content_for_layout }}}}.
layout = "mail/base.liquid"

# Upstream URL prefix = brand URL, on top of the patch set's own table (which
# already sends documentation to urls.help, terms to urls.terms, ...).
[links]
# "https://www.chatwoot.com/blog" = "https://www.example.com/blog"

[image]
# Where the branded image is tagged and pushed: [host[:port]/]path, lower
# case, without a tag.
{repository}
# The upstream image it is built on (the patch set is chosen by its tag).
base = "{DEFAULT_BASE}"

[stack]
# The host name this installation is served on, without https://.
{stack_domain}
"##
        );

        let files = vec![
            File { path: BRAND_FILE.into(), data: toml.into_bytes(), about: "settings" },
            File { path: "logo.svg".into(), data: LOGO_SVG.into(), about: "placeholder logo for light backgrounds" },
            File {
                path: "logo_dark.svg".into(),
                data: LOGO_DARK_SVG.into(),
                about: "placeholder logo for dark backgrounds",
            },
            File { path: "mark.svg".into(), data: MARK_SVG.into(), about: "placeholder square mark (every icon)" },
            File { path: "mail/base.liquid".into(), data: MAIL_LAYOUT.into(), about: "mail layout" },
        ];
        Ok(Scaffold { id: id.to_string(), files, todo, derived })
    }

    /// Writes the pack as `<brands_dir>/<id>`: into a hidden temporary
    /// directory next to it, then renamed into place, so the pack appears
    /// whole or not at all. Refuses an existing path.
    pub fn write(&self, brands_dir: &Path) -> Result<PathBuf> {
        let target = brands_dir.join(&self.id);
        let exists = || {
            Error::usage(
                format!("{} already exists; nothing was written", target.display()),
                format!("pick another brand id, or move {} away first", target.display()),
            )
        };
        if target.symlink_metadata().is_ok() {
            return Err(exists());
        }
        std::fs::create_dir_all(brands_dir).map_err(|e| Error::io("creating", brands_dir, e))?;
        // Hidden, so `list` never shows a half-written pack; 0777 before the
        // umask, like any directory the user makes (tempdirs default to 0700).
        let prefix = format!(".{}.new-", self.id);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o777));
        let tmp = builder.tempdir_in(brands_dir).map_err(|e| Error::io("creating a directory in", brands_dir, e))?;
        for f in &self.files {
            let path = tmp.path().join(&f.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io("creating", parent, e))?;
            }
            std::fs::write(&path, &f.data).map_err(|e| Error::io("writing", &path, e))?;
        }
        // Checked again just before the rename: rename(2) would replace an
        // empty directory made in the meantime (a non-empty one fails it).
        if target.symlink_metadata().is_ok() {
            return Err(exists());
        }
        std::fs::rename(tmp.path(), &target).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::DirectoryNotEmpty => exists(),
            _ => Error::io("moving into place", &target, e),
        })?;
        // The temporary path is gone now; nothing is left to clean up.
        let _ = tmp.keep();
        Ok(target)
    }
}

/// `--name` as the pack would accept it for `brand.name`.
fn check_name(name: &str) -> Result<String> {
    let bad =
        |why: &str| Error::usage(format!("--name {why}"), "give the product name users see, e.g. --name \"Acme Desk\"");
    if name.is_empty() {
        return Err(bad("is empty"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(&format!("is longer than {MAX_NAME_CHARS} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("contains control characters (newline, tab, ...)"));
    }
    if is_todo(name) {
        return Err(bad("is a TODO placeholder"));
    }
    Ok(name.to_string())
}

/// `--domain` as a lower-case host name.
fn check_domain(domain: &str) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if !is_hostname(&d) {
        return Err(Error::usage(
            format!("--domain `{domain}` is not a host name"),
            "give the host the installation is served on, without https:// or a path, e.g. --domain chat.acme.example",
        ));
    }
    Ok(d)
}

/// `chat.acme.example` → `acme.example`; `acme.example` and `acme.com.br`
/// stay (no public suffix list: this only feeds suggestions).
fn parent_domain(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    let rest = &labels[1..];
    let second_level = ["com", "net", "org", "gov", "edu", "co", "ac"];
    let is_suffix = rest.len() == 2 && rest[1].len() == 2 && second_level.contains(&rest[0]);
    if rest.len() >= 2 && !is_suffix { rest.join(".") } else { host.to_string() }
}

/// The display part of a suggested `Name <address>`: the name without the
/// characters that syntax cannot hold.
fn sender_name(name: Option<&str>) -> String {
    let cleaned = name.unwrap_or_default().replace(['"', '<', '>'], "");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.is_empty() { "Support".into() } else { cleaned }
}

/// The name when it fits under an icon, else its first word, else the name cut.
fn short_name(name: &str) -> String {
    if name.chars().count() <= SHORT_NAME_CHARS {
        return name.to_string();
    }
    match name.split_whitespace().next() {
        Some(w) if w.chars().count() <= SHORT_NAME_CHARS => w.to_string(),
        _ => name.chars().take(SHORT_NAME_CHARS).collect::<String>().trim_end().to_string(),
    }
}

/// A TOML string literal of `s` (quotes, backslashes and the rest escaped).
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_and_names() {
        assert_eq!(parent_domain("chat.acme.example"), "acme.example");
        assert_eq!(parent_domain("acme.example"), "acme.example");
        assert_eq!(parent_domain("chatwoot.nexateam.com.br"), "nexateam.com.br");
        assert_eq!(parent_domain("acme.com.br"), "acme.com.br");
        assert_eq!(short_name("Nexa"), "Nexa");
        assert_eq!(short_name("Acme Customer Desk"), "Acme");
        assert_eq!(short_name("Supercalifragilistic"), "Supercalifra");
    }

    #[test]
    fn hostile_names_stay_one_toml_string() {
        let name = "Acme\" # = [x]\\";
        let s = Scaffold::new(&Options { id: "acme".into(), name: Some(name.into()), domain: None }).unwrap();
        let text = String::from_utf8(s.files[0].data.clone()).unwrap();
        let v: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(v["brand"]["name"].as_str(), Some(name));
    }
}
