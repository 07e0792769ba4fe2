//! The brand pack: `brands/<name>/brand.toml` plus its files. Loading a pack
//! validates all of it (the `check` command) and yields a [`Brand`] whose
//! values are safe to hand to the patch engine.

pub mod edition;
mod files;
mod mail;
pub mod packs;
pub mod scaffold;
mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::color::{Palette, Rgb, SHADES, WHITE};
use crate::error::{Error, Problem, Result};
use crate::image_ref::ImageRef;
use crate::svg::{MAX_SVG_BYTES, Svg};
pub use files::PackDir;
use schema::RawBrandFile;

pub const BRAND_FILE: &str = "brand.toml";
const MAX_BRAND_TOML: u64 = 64 * 1024;
const MAX_LAYOUT: u64 = 256 * 1024;
const MAX_NAME_CHARS: usize = 64;
/// WCAG ratio below which white text on the primary color is unreadable.
pub const MIN_CONTRAST: f64 = 3.0;
pub const DEFAULT_BASE: &str = "chatwoot/chatwoot:v3.15.0";
/// The external overlay network Traefik shares when `[stack] network` is unset.
pub const DEFAULT_NETWORK: &str = "minha_rede";
pub const DEFAULT_SMTP_PORT: u16 = 587;
const MAX_STACK_NAME: usize = 32;
/// What `whitelabel new` writes where a person must decide: `TODO` or
/// `TODO: hint`. Never a valid value, so `check` names every one left.
pub const TODO: &str = "TODO";
/// What a brand id (the pack directory name) may be, for `new`'s error.
pub const BRAND_ID_RULE: &str =
    "lower-case letters, digits and `-`, starting with a letter and not ending with `-`, at most 32 characters";

/// Bounds on `[strings]` (a pack is untrusted): characters per message, overrides in all.
const MAX_STRING: usize = 8192;
const MAX_STRINGS: usize = 20_000;

#[derive(Debug)]
pub struct Brand {
    /// The pack's directory name (`nexa`), used in tags and file names.
    pub id: String,
    pub pack: PackDir,
    pub name: String,
    pub short_name: String,
    pub company: String,
    pub locale: String,
    pub urls: Urls,
    pub primary: Rgb,
    pub palette: Palette,
    pub logos: Logos,
    pub mail: Mail,
    /// Upstream URL prefix → brand URL, from the pack's `[links]`.
    pub links: Vec<(String, String)>,
    pub image: Image,
    pub stack: Stack,
    /// `[strings.<locale>]`: per-locale wording (checked against the patch
    /// set's catalogue by [`crate::overrides::check`]).
    pub strings: crate::overrides::Strings,
    /// Digest over `brand.toml` and every file it references.
    pub digest: String,
    /// Figures worth showing (contrast ratios), not problems.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub struct Urls {
    pub home: String,
    pub app: String,
    pub help: String,
    pub terms: String,
    pub privacy: String,
    pub widget: String,
}

#[derive(Debug)]
pub struct Logos {
    pub light: Asset,
    pub dark: Asset,
    pub mark: Asset,
    pub icon_background: Rgb,
}

/// A vetted SVG from the pack.
#[derive(Debug)]
pub struct Asset {
    pub rel: String,
    pub svg: Svg,
}

#[derive(Debug)]
pub struct Mail {
    pub sender: String,
    pub sender_name: String,
    pub sender_address: String,
    pub layout_rel: String,
    pub layout: String,
}

#[derive(Debug)]
pub struct Image {
    pub repository: String,
    pub base: String,
}

#[derive(Debug)]
pub struct Stack {
    pub domain: String,
    /// `[stack] name` when set; see [`Brand::stack_name`] for the default.
    pub name: Option<String>,
    pub network: String,
    pub smtp: Smtp,
}

/// The mail server, as the stack's environment gives it to Chatwoot (the
/// password is a Docker secret, never here).
#[derive(Debug)]
pub struct Smtp {
    pub address: Option<String>,
    pub port: u16,
    pub username: Option<String>,
}

/// Turns the `<BRAND>` argument into a pack directory: a path when it names
/// an existing directory or contains a slash, else `brands/<name>`.
pub fn locate(arg: &str, brands_dir: &Path) -> PathBuf {
    let as_path = Path::new(arg);
    if arg.contains('/') || (as_path.is_dir() && as_path.join(BRAND_FILE).is_file()) {
        as_path.to_path_buf()
    } else {
        brands_dir.join(arg)
    }
}

/// Collects problems while validating, so `check` reports all of them.
struct Checker<'a> {
    file: &'a Path,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn problem(&mut self, field: &str, message: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem::new(self.file, Some(field.to_string()), message, fix));
    }

    fn required(&mut self, field: &str, value: &Option<String>, example: &str) -> String {
        match value.as_deref().map(str::trim) {
            Some(v) if is_todo(v) => {
                self.problem(
                    field,
                    format!("still holds the placeholder \"{v}\" that `whitelabel new` wrote"),
                    format!("replace it in {BRAND_FILE}, e.g. `{example}`"),
                );
                String::new()
            }
            Some(v) if !v.is_empty() => v.to_string(),
            _ => {
                self.problem(field, "is missing", format!("add `{}` to {}", example, BRAND_FILE));
                String::new()
            }
        }
    }

    fn text(&mut self, field: &str, value: &Option<String>, example: &str) -> String {
        let v = self.required(field, value, example);
        if v.chars().count() > MAX_NAME_CHARS {
            self.problem(field, format!("is longer than {MAX_NAME_CHARS} characters"), "shorten it");
        }
        self.one_line(field, &v);
        v
    }

    /// Refuses what no escaping makes safe everywhere a one-line value lands:
    /// control characters (CR and LF split mail headers, NUL ends C strings)
    /// and the Unicode line and paragraph separators (YAML 1.1 and old JS
    /// engines take them for line breaks).
    fn one_line(&mut self, field: &str, v: &str) {
        if let Some(c) = v.chars().find(|&c| breaks_line(c)) {
            self.problem(
                field,
                format!("contains the control or line-separator character U+{:04X}", c as u32),
                "keep it on one line: remove control characters, tabs, newlines and U+2028/U+2029",
            );
        }
    }

    fn url(&mut self, field: &str, value: &Option<String>) -> String {
        let v =
            self.required(field, value, &format!("{} = \"https://...\"", field.rsplit('.').next().unwrap_or(field)));
        if !v.is_empty()
            && let Err(why) = check_https_url(&v)
        {
            self.problem(field, format!("\"{v}\" {why}"), "use an absolute https:// URL");
        }
        v
    }

    fn color(&mut self, field: &str, value: &Option<String>) -> Rgb {
        let v = self.required(field, value, &format!("{} = \"#1a2b3c\"", field.rsplit('.').next().unwrap_or(field)));
        match Rgb::parse(&v) {
            Some(c) => c,
            None => {
                if !v.is_empty() {
                    self.problem(field, format!("\"{v}\" is not a hex color"), "write it as #rrggbb");
                }
                WHITE
            }
        }
    }

    fn svg(&mut self, pack: &PackDir, field: &str, value: &Option<String>) -> Option<Asset> {
        let rel = self.required(field, value, &format!("{} = \"logo.svg\"", field.rsplit('.').next().unwrap_or(field)));
        if rel.is_empty() {
            return None;
        }
        let data = match pack.read(&rel, MAX_SVG_BYTES) {
            Ok(d) => d,
            Err(why) => {
                self.problem(field, why, "point it at an SVG file inside the brand pack");
                return None;
            }
        };
        match Svg::parse(&data) {
            Ok(svg) => Some(Asset { rel, svg }),
            Err(why) => {
                self.problem(field, format!("\"{rel}\" {why}"), "export a plain SVG with shapes and paths only");
                None
            }
        }
    }
}

/// Accepts only absolute https URLs with a host and nothing a template could
/// trip on (no credentials, no spaces, quotes or braces).
/// A character that ends a line somewhere a one-line value lands (mail
/// headers, YAML, JS, Ruby): every control character, NEL, LS and PS.
pub fn breaks_line(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

pub fn check_https_url(text: &str) -> std::result::Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("is not a URL ({e})"))?;
    if url.scheme() != "https" {
        return Err("is not https".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("contains credentials".into());
    }
    if let Some(c) = text.chars().find(|c| c.is_whitespace() || "\"'<>\\`{}|^".contains(*c)) {
        return Err(format!("contains the character {c:?}"));
    }
    Ok(())
}

impl Brand {
    /// Loads and validates the pack in `dir`. Any problem fails the load,
    /// with every problem found listed.
    pub fn load(dir: &Path) -> Result<Brand> {
        let toml_path = dir.join(BRAND_FILE);
        let invalid = |problems| Error::InvalidBrand { pack: dir.to_path_buf(), problems };
        let pack = PackDir::open(dir).map_err(|_| {
            invalid(vec![Problem::new(
                dir,
                None,
                "brand pack directory not found",
                "pass a name under ./brands/ (or --brands-dir) or a path to a brand directory",
            )])
        })?;
        let raw_bytes = pack.read(BRAND_FILE, MAX_BRAND_TOML).map_err(|why| {
            invalid(vec![Problem::new(&toml_path, None, why, "create brand.toml (see brands/nexa/brand.toml)")])
        })?;
        let raw_text = String::from_utf8(raw_bytes.clone())
            .map_err(|_| invalid(vec![Problem::new(&toml_path, None, "is not UTF-8", "save it as UTF-8")]))?;
        let raw: RawBrandFile = toml::from_str(&raw_text).map_err(|e| {
            let field = e.span().map(|s| line_of(&raw_text, s.start));
            invalid(vec![Problem::new(
                &toml_path,
                field.map(|l| format!("line {l}")),
                e.message().to_string(),
                "fix the TOML syntax or remove the unknown field",
            )])
        })?;

        let mut c = Checker { file: &toml_path, problems: Vec::new() };
        if let Some(v) = raw.schema
            && v != 1
        {
            c.problem("schema", format!("version {v} is not supported"), "set `schema = 1`");
        }
        let name = c.text("brand.name", &raw.brand.name, "name = \"Acme Desk\"");
        let short_name = match &raw.brand.short_name {
            Some(_) => c.text("brand.short_name", &raw.brand.short_name, ""),
            None => name.clone(),
        };
        let company = c.text("brand.company", &raw.brand.company, "company = \"Acme Ltd\"");
        let locale = c.required("brand.locale", &raw.brand.locale, "locale = \"pt_BR\"");
        if !locale.is_empty() && !is_locale(&locale) {
            c.problem(
                "brand.locale",
                format!("\"{locale}\" is not a locale code"),
                "use a code like en, pt_BR or zh_CN",
            );
        }

        let urls = Urls {
            home: c.url("urls.home", &raw.urls.home),
            app: c.url("urls.app", &raw.urls.app),
            help: c.url("urls.help", &raw.urls.help),
            terms: c.url("urls.terms", &raw.urls.terms),
            privacy: c.url("urls.privacy", &raw.urls.privacy),
            widget: c.url("urls.widget", &raw.urls.widget),
        };

        let primary = c.color("colors.primary", &raw.colors.primary);
        let mut overrides = BTreeMap::new();
        for (key, value) in &raw.colors.palette {
            let field = format!("colors.palette.{key}");
            if !SHADES.contains(&key.as_str()) {
                c.problem(&field, "is not a palette shade", format!("use one of {}", SHADES.join(", ")));
            } else if let Some(color) = Rgb::parse(value) {
                overrides.insert(key.clone(), color);
            } else {
                c.problem(&field, format!("\"{value}\" is not a hex color"), "write it as #rrggbb");
            }
        }
        let palette = Palette::derive(primary, &overrides);
        let mut notes = Vec::new();
        if raw.colors.primary.is_some() && Rgb::parse(raw.colors.primary.as_deref().unwrap_or("")).is_some() {
            let ratio = primary.contrast(WHITE);
            notes.push(format!("contrast of white text on primary {primary}: {ratio:.2}:1"));
            if ratio < MIN_CONTRAST {
                c.problem(
                    "colors.primary",
                    format!("white text on {primary} has a contrast ratio of {ratio:.2}:1, below {MIN_CONTRAST}:1"),
                    "pick a darker primary color",
                );
            }
        }

        let light = c.svg(&pack, "logos.light", &raw.logos.light);
        let dark = c.svg(&pack, "logos.dark", &raw.logos.dark);
        let mark = c.svg(&pack, "logos.mark", &raw.logos.mark);
        if let Some(m) = &mark {
            let (w, h) = (m.svg.width(), m.svg.height());
            if (w - h).abs() > 0.01 * w.max(h) {
                c.problem(
                    "logos.mark",
                    format!("\"{}\" is {w}x{h}, not square", m.rel),
                    "give the mark a square viewBox",
                );
            }
        }
        let icon_background = c.color("logos.icon_background", &raw.logos.icon_background);

        let sender = c.required("mail.sender", &raw.mail.sender, "sender = \"Acme <support@acme.example>\"");
        c.one_line("mail.sender", &sender);
        let (sender_name, sender_address) = match mail::parse_sender(&sender) {
            Some(parts) => parts,
            None => {
                if !sender.is_empty() {
                    c.problem(
                        "mail.sender",
                        format!("\"{sender}\" is not `Name <address>`"),
                        "write it as Acme <support@acme.example>",
                    );
                }
                (String::new(), String::new())
            }
        };
        let layout_rel = c.required("mail.layout", &raw.mail.layout, "layout = \"mail/base.liquid\"");
        let mut layout = String::new();
        if !layout_rel.is_empty() {
            match pack
                .read(&layout_rel, MAX_LAYOUT)
                .and_then(|d| String::from_utf8(d).map_err(|_| "is not UTF-8".into()))
            {
                Ok(text) => {
                    if let Err(why) = mail::check_layout(&text) {
                        c.problem("mail.layout", format!("\"{layout_rel}\" {why}"), "fix the Liquid layout");
                    }
                    layout = text;
                }
                Err(why) => c.problem("mail.layout", why, "point it at a Liquid file inside the brand pack"),
            }
        }

        let mut links = Vec::new();
        for (from, to) in &raw.links {
            let field = format!("links.\"{from}\"");
            if !(from.starts_with("https://") || from.starts_with("http://")) || from.len() < 12 {
                c.problem(
                    &field,
                    "is not an upstream URL prefix",
                    "use a prefix like \"https://www.chatwoot.com/docs\"",
                );
            }
            if let Err(why) = check_https_url(to) {
                c.problem(&field, format!("\"{to}\" {why}"), "map it to an absolute https:// URL");
            }
            if crate::actions::replace::XML_NAMESPACES
                .iter()
                .any(|ns| ns.starts_with(from.as_str()) || from.starts_with(ns))
            {
                c.problem(
                    &field,
                    "is an XML namespace name, not a link: SVG and XML files would break",
                    "remove it from [links]; only upstream web pages are links",
                );
            }
            links.push((from.clone(), to.clone()));
        }

        let repository = c.required(
            "image.repository",
            &raw.image.repository,
            "repository = \"registry.example.com/acme/chatwoot\"",
        );
        if !repository.is_empty() && !is_repository(&repository) {
            c.problem(
                "image.repository",
                format!("\"{repository}\" is not an image repository"),
                "use lower case like registry.example.com/acme/chatwoot, without a tag",
            );
        }
        let base = raw.image.base.clone().unwrap_or_else(|| DEFAULT_BASE.to_string());
        if !is_reference(&base) {
            c.problem(
                "image.base",
                format!("\"{base}\" is not an image reference"),
                "use a reference like chatwoot/chatwoot:v3.15.0",
            );
        }
        let domain = c.required("stack.domain", &raw.stack.domain, "domain = \"chat.acme.example\"");
        if !domain.is_empty() && !is_hostname(&domain) {
            c.problem("stack.domain", format!("\"{domain}\" is not a host name"), "use a name like chat.acme.example");
        }
        let stack = stack_settings(&mut c, &raw.stack, domain);
        for (locale, keys) in &raw.strings {
            for (key, text) in keys {
                if text.trim().is_empty() || text.chars().count() > MAX_STRING {
                    c.problem(
                        &format!("strings.{locale}.\"{key}\""),
                        format!("is empty or longer than {MAX_STRING} characters"),
                        "write the message's text",
                    );
                }
            }
        }
        let overrides: usize = raw.strings.values().map(|k| k.len()).sum();
        if overrides > MAX_STRINGS {
            c.problem(
                "strings",
                format!("has {overrides} overrides, more than {MAX_STRINGS}"),
                "override fewer messages",
            );
        }

        if !c.problems.is_empty() {
            return Err(invalid(c.problems));
        }
        let (light, dark, mark) = (light.unwrap(), dark.unwrap(), mark.unwrap());
        let digest = pack_digest(&pack, &raw_bytes, &[&light.rel, &dark.rel, &mark.rel, &layout_rel]);
        let id = pack.root().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(Brand {
            id,
            pack,
            name,
            short_name,
            company,
            locale,
            urls,
            primary,
            palette,
            logos: Logos { light, dark, mark, icon_background },
            mail: Mail { sender, sender_name, sender_address, layout_rel, layout },
            links,
            image: Image { repository, base },
            stack,
            strings: raw.strings,
            digest,
            notes,
        })
    }

    /// The value a patch-set template placeholder names, e.g. `brand.name`,
    /// `urls.help`, `colors.500`.
    pub fn var(&self, key: &str) -> Option<String> {
        let v = match key {
            "brand.id" => &self.id,
            "brand.name" => &self.name,
            "brand.short_name" => &self.short_name,
            "brand.company" => &self.company,
            "brand.locale" => &self.locale,
            "urls.home" => &self.urls.home,
            "urls.app" => &self.urls.app,
            "urls.help" => &self.urls.help,
            "urls.terms" => &self.urls.terms,
            "urls.privacy" => &self.urls.privacy,
            "urls.widget" => &self.urls.widget,
            "mail.sender" => &self.mail.sender,
            "mail.sender_name" => &self.mail.sender_name,
            "mail.sender_address" => &self.mail.sender_address,
            "stack.domain" => &self.stack.domain,
            "brand.digest8" => return Some(self.digest[..8].to_string()),
            "logos.mark_data_uri" => return Some(data_uri(&self.logos.mark.svg.to_clean_svg())),
            "colors.primary" => return Some(self.primary.hex()),
            "logos.icon_background" => return Some(self.logos.icon_background.hex()),
            _ => {
                return key.strip_prefix("colors.").and_then(|s| self.palette.get(s)).map(Rgb::hex);
            }
        };
        Some(v.clone())
    }

    /// The prefix of every Docker name in the brand's stack (services,
    /// volumes, secrets, Traefik routers): `[stack] name`, else the pack
    /// directory name when that fits Docker and Traefik names.
    pub fn stack_name(&self) -> Result<String> {
        if let Some(name) = &self.stack.name {
            return Ok(name.clone());
        }
        if is_stack_name(&self.id) {
            return Ok(self.id.clone());
        }
        Err(Error::InvalidBrand {
            pack: self.pack.root().to_path_buf(),
            problems: vec![Problem::new(
                self.pack.root().join(BRAND_FILE),
                Some("stack.name".to_string()),
                format!(
                    "is not set, and the pack directory name \"{}\" cannot prefix Docker and Traefik names",
                    self.id
                ),
                format!("add `name = \"acme\"` under [stack]: {STACK_NAME_RULE}"),
            )],
        })
    }
}

const STACK_NAME_RULE: &str = "lower-case letters, digits and `-`, starting with a letter, at most 32 characters";

/// `[stack]` beyond the domain: names, network, mail server.
fn stack_settings(c: &mut Checker, raw: &schema::RawStack, domain: String) -> Stack {
    let name = raw.name.as_ref().map(|n| n.trim().to_string());
    if let Some(n) = &name
        && !is_stack_name(n)
    {
        c.problem("stack.name", format!("\"{n}\" cannot prefix Docker and Traefik names"), STACK_NAME_RULE);
    }
    let network = raw.network.as_deref().map(str::trim).unwrap_or(DEFAULT_NETWORK).to_string();
    if !is_network_name(&network) {
        c.problem(
            "stack.network",
            format!("\"{network}\" is not a Docker network name"),
            "use letters, digits, `_`, `.` and `-`, starting with a letter or digit (e.g. minha_rede)",
        );
    }
    let address = raw.smtp_address.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_string);
    if let Some(a) = &address
        && !is_hostname(a)
    {
        c.problem(
            "stack.smtp_address",
            format!("\"{a}\" is not a host name"),
            "use the mail server's host name, e.g. smtp.acme.example",
        );
    }
    let port = match raw.smtp_port {
        None => DEFAULT_SMTP_PORT,
        Some(p) => u16::try_from(p).ok().filter(|p| *p > 0).unwrap_or_else(|| {
            c.problem("stack.smtp_port", format!("{p} is not a TCP port"), "use a port between 1 and 65535, e.g. 587");
            DEFAULT_SMTP_PORT
        }),
    };
    let username = raw.smtp_username.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_string);
    if let Some(u) = &username
        && (u.chars().count() > 254 || u.chars().any(char::is_control))
    {
        c.problem(
            "stack.smtp_username",
            "is longer than 254 characters or contains control characters",
            "write the user name your mail provider gave you, on one line",
        );
    }
    Stack { domain, name, network, smtp: Smtp { address, port, username } }
}

/// A DNS label that also fits Docker object names and Traefik router names
/// once a suffix like `-app` or `_postgres_password` is added: no `_` (the
/// separator), no `.` (Traefik label paths), no upper case.
pub fn is_stack_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=MAX_STACK_NAME).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b[b.len() - 1] != b'-'
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Docker's network name grammar, bounded.
fn is_network_name(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=64).contains(&b.len())
        && b[0].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

/// `data:image/svg+xml,` with everything but unreserved characters
/// percent-encoded, so it is safe in any quote style and in CSS `url()`.
fn data_uri(svg: &str) -> String {
    let mut out = String::from("data:image/svg+xml,");
    for b in svg.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~=:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn is_locale(s: &str) -> bool {
    let mut parts = s.splitn(2, ['_', '-']);
    let lang = parts.next().unwrap_or("");
    let region_ok =
        parts.next().is_none_or(|r| (2..=4).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric()));
    (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase()) && region_ok
}

/// A `TODO` placeholder left by `whitelabel new` (`TODO` or `TODO: hint`;
/// not a name that merely starts with the letters, like `TODOS Ltda`).
pub fn is_todo(v: &str) -> bool {
    v == TODO || v.strip_prefix(TODO).is_some_and(|rest| rest.starts_with(':'))
}

/// A brand id: the pack directory name, used in tags, labels, file names
/// and Docker stack names, so the narrowest rule all of them accept.
pub fn is_brand_id(s: &str) -> bool {
    // The stack name rule: every id `new` accepts names a stack too.
    is_stack_name(s)
}

pub fn is_hostname(s: &str) -> bool {
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
}

/// `[host[:port]/]path` in the Docker reference grammar, without tag or digest.
pub fn is_repository(s: &str) -> bool {
    ImageRef::parse(s).is_ok_and(|r| r.tag().is_none() && r.digest().is_none())
}

/// A repository with an optional `:tag` and/or `@sha256:` digest (see [`ImageRef`]).
pub fn is_reference(s: &str) -> bool {
    ImageRef::parse(s).is_ok()
}

fn pack_digest(pack: &PackDir, toml: &[u8], files: &[&str]) -> String {
    let mut h = Sha256::new();
    h.update((toml.len() as u64).to_le_bytes());
    h.update(toml);
    for rel in files {
        let data = pack.read(rel, MAX_LAYOUT.max(MAX_SVG_BYTES)).unwrap_or_default();
        h.update(rel.as_bytes());
        h.update((data.len() as u64).to_le_bytes());
        h.update(&data);
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_repositories() {
        assert!(is_repository("registry.nexateam.com.br/nexa/chatwoot"));
        assert!(is_repository("127.0.0.1:5000/nexa/chatwoot"));
        assert!(!is_repository("Nexa/Chatwoot"));
        assert!(!is_repository("nexa/chatwoot:v1"));
        assert!(is_reference("chatwoot/chatwoot:v3.15.0"));
        assert!(is_reference("127.0.0.1:5000/x/y:tag"));
        assert!(!is_reference("chatwoot/chatwoot:"));
    }

    #[test]
    fn https_urls_only() {
        assert!(check_https_url("https://nexateam.com.br/ajuda").is_ok());
        assert!(check_https_url("http://nexateam.com.br").is_err());
        assert!(check_https_url("https://user:pw@nexateam.com.br").is_err());
        assert!(check_https_url("https://nexateam.com.br/\"x").is_err());
        assert!(check_https_url("/relative").is_err());
    }

    #[test]
    fn locales_and_hosts() {
        assert!(is_locale("pt_BR") && is_locale("en") && is_locale("zh_CN"));
        assert!(!is_locale("Portuguese") && !is_locale(""));
        assert!(is_hostname("chatwoot.nexateam.com.br"));
        assert!(!is_hostname("localhost") && !is_hostname("a..b"));
    }

    #[test]
    fn stack_and_network_names() {
        assert!(is_stack_name("nexa") && is_stack_name("acme-2") && is_stack_name("a"));
        for bad in ["", "Nexa", "a_b", "a.b", "-a", "a-", "1a", "a b", &"a".repeat(33)] {
            assert!(!is_stack_name(bad), "{bad:?}");
        }
        assert!(is_network_name("minha_rede") && is_network_name("traefik-public") && is_network_name("net.1"));
        for bad in ["", "_x", "a b", "a/b", "a\"b", &"a".repeat(65)] {
            assert!(!is_network_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn brand_ids_and_placeholders() {
        assert!(is_brand_id("nexa") && is_brand_id("acme-2"));
        for bad in ["", "..", "a/b", "Nexa", "2acme", "acme-", "a_b", "a.b", &"a".repeat(33)] {
            assert!(!is_brand_id(bad), "{bad}");
        }
        assert!(is_todo("TODO") && is_todo("TODO: the product name"));
        assert!(!is_todo("TODOS Ltda") && !is_todo("Todo"));
    }
}
