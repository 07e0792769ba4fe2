//! The brand's Docker Swarm stack file: postgres, redis, the Chatwoot app and
//! sidekiq behind Traefik, with the brand image pinned by digest, every Docker
//! and Traefik name prefixed by the brand (several brands share one swarm),
//! and secrets only as Docker secret references. Also the in-place re-pin of
//! a file a person has edited: only the image lines change.
//!
//! Every brand value is written through [`value`] (compose interpolation and
//! YAML double quoting); names are validated upstream to a charset that needs
//! no quoting (see [`crate::brand::is_stack_name`]).

use std::path::Path;

use crate::brand::Brand;
use crate::docker::entrypoint;
use crate::error::{Error, Problem, Result};
use crate::escape::yaml_quoted;
use crate::image_ref::ImageRef;
use crate::secrets::{self, Secret};

pub const POSTGRES_IMAGE: &str = "pgvector/pgvector:pg16";
pub const REDIS_IMAGE: &str = "redis:latest";
pub const DATABASE: &str = "chatwoot_production";
pub const DB_USER: &str = "postgres";
/// Traefik's certificate resolver and entry points of the existing setup.
pub const CERT_RESOLVER: &str = "le";
const ENTRY_HTTPS: &str = "websecure";
const ENTRY_HTTP: &str = "web";

/// Every name the stack gives, derived from the brand's stack name.
#[derive(Debug, Clone)]
pub struct Names {
    pub stack: String,
    pub postgres: String,
    pub redis: String,
    pub app: String,
    pub sidekiq: String,
    pub internal_network: String,
    pub postgres_volume: String,
    pub redis_volume: String,
    pub storage_volume: String,
    pub router: String,
    pub http_router: String,
    pub traefik_service: String,
    pub redirect_middleware: String,
}

impl Names {
    /// Service names use `-` (they are DNS names on the overlay networks);
    /// volumes, networks, secrets and Traefik objects use `_`, which a stack
    /// name never contains, so two brands can never produce the same name.
    pub fn new(stack: &str) -> Names {
        Names {
            stack: stack.to_string(),
            postgres: format!("{stack}-postgres"),
            redis: format!("{stack}-redis"),
            app: format!("{stack}-app"),
            sidekiq: format!("{stack}-sidekiq"),
            internal_network: format!("{stack}_internal"),
            postgres_volume: format!("{stack}_postgres_data"),
            redis_volume: format!("{stack}_redis_data"),
            storage_volume: format!("{stack}_chatwoot_data"),
            router: format!("{stack}_app"),
            http_router: format!("{stack}_app_http"),
            traefik_service: format!("{stack}_app"),
            redirect_middleware: format!("{stack}_https_redirect"),
        }
    }

    pub fn services(&self) -> [&str; 4] {
        [&self.postgres, &self.redis, &self.app, &self.sidekiq]
    }

    pub fn secrets(&self) -> Vec<String> {
        secrets::ALL.iter().map(|s| s.docker_name(&self.stack)).collect()
    }
}

/// A brand value as a compose value: `$` doubled (compose interpolates `$x`
/// and `${x}` everywhere), then a YAML double-quoted scalar.
pub fn value(s: &str) -> String {
    yaml_quoted(&s.replace('$', "$$"))
}

/// A flow sequence of quoted values: `["sh", "x"]`.
fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| value(s)).collect::<Vec<_>>().join(", "))
}

/// `repo[:tag]@sha256:<64 lower-case hex>` (see [`crate::digest`]).
pub fn is_digest_reference(s: &str) -> bool {
    crate::digest::pinned(s).is_ok()
}

/// The image to pin, from `--image`: refused unless it is a digest reference.
pub fn image_from_arg(image: &str, digest_file: &Path) -> Result<ImageRef> {
    if let Ok(r) = crate::digest::pinned(image) {
        return Ok(r);
    }
    let fix = if image.contains('@') {
        "write it as repo@sha256:<64 lower-case hex digits>".to_string()
    } else {
        format!(
            "a tag can move to another image; pin the digest: `whitelabel build <BRAND> --push --digest-file {}` \
             writes it, or `docker inspect --format '{{{{index .RepoDigests 0}}}}' {image}` shows it",
            digest_file.display()
        )
    };
    Err(Error::usage(format!("--image `{image}` is not pinned by digest (repo@sha256:…)"), fix))
}

/// The image to pin, from a digest file (see [`crate::digest::read`]), as
/// `whitelabel build --push --digest-file FILE` writes it.
pub fn image_from_file(path: &Path, brand_arg: &str) -> Result<ImageRef> {
    match crate::digest::read(path) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(Error::Input(Problem::new(
            path,
            None,
            "does not exist, so there is no image digest to pin",
            format!(
                "build and push first: `whitelabel build {brand_arg} --push --digest-file {}`, \
                 or pass --image repo@sha256:…",
                path.display()
            ),
        ))),
        Err(why) => Err(Error::Input(Problem::new(
            path,
            None,
            why,
            format!("rewrite it with `whitelabel build {brand_arg} --push --digest-file {}`", path.display()),
        ))),
    }
}

/// The whole stack file for `brand`, pinned to `image`.
pub fn render(brand: &Brand, names: &Names, image: &str) -> String {
    let n = names;
    let net = &brand.stack.network;
    let domain = &brand.stack.domain;
    let smtp = &brand.stack.smtp;
    let secret_file = |s: Secret| value(&s.path());
    let mut y = String::new();
    let mut line = |s: &str| {
        y.push_str(s);
        y.push('\n');
    };

    line(&format!("# Docker Swarm stack `{}` (https://{domain}), written by `whitelabel stack`.", n.stack));
    line("#");
    line(&format!("#   whitelabel secrets <BRAND> --swarm     # once: creates the Docker secrets {}_*", n.stack));
    line(&format!("#   docker stack deploy -c <this file> {}", n.stack));
    line("#");
    line("# Running `whitelabel stack` again after a new build changes only the `image:`");
    line(&format!("# lines of {} and {}; everything else you edit here is kept", n.app, n.sidekiq));
    line("# (`--force` writes the file anew). No secret value is in this file: the");
    line("# *_FILE variables point at Docker secrets mounted under /run/secrets/.");
    line("version: \"3.8\"");
    line("");
    line("# Chatwoot's environment, shared by the app and sidekiq.");
    line("x-chatwoot-env: &chatwoot-env");
    let env: Vec<(&str, String)> = vec![
        ("INSTALLATION_NAME", value(&brand.name)),
        ("FRONTEND_URL", value(&brand.urls.app)),
        ("DEFAULT_LOCALE", value(&brand.locale)),
        ("FORCE_SSL", value("true")),
        ("ENABLE_ACCOUNT_SIGNUP", value("false")),
        ("RAILS_LOG_TO_STDOUT", value("true")),
        ("SECRET_KEY_BASE_FILE", secret_file(secrets::SECRET_KEY_BASE)),
        ("POSTGRES_HOST", value(&n.postgres)),
        ("POSTGRES_PORT", value("5432")),
        ("POSTGRES_USERNAME", value(DB_USER)),
        ("POSTGRES_PASSWORD_FILE", secret_file(secrets::POSTGRES_PASSWORD)),
        ("POSTGRES_DATABASE", value(DATABASE)),
        ("REDIS_URL", value(&format!("redis://{}:6379", n.redis))),
        ("ACTIVE_STORAGE_SERVICE", value("local")),
        ("MAILER_SENDER_EMAIL", value(&brand.mail.sender)),
        ("SMTP_ADDRESS", value(smtp.address.as_deref().unwrap_or(""))),
        ("SMTP_PORT", value(&smtp.port.to_string())),
        ("SMTP_USERNAME", value(smtp.username.as_deref().unwrap_or(""))),
        ("SMTP_PASSWORD_FILE", secret_file(secrets::SMTP_PASSWORD)),
        ("USE_INBOX_AVATAR_FOR_BOT", value("true")),
    ];
    for (k, v) in &env {
        line(&format!("  {k}: {v}"));
    }
    line("");
    line("services:");

    // postgres
    line(&format!("  {}:", n.postgres));
    line(&format!("    image: {}", value(POSTGRES_IMAGE)));
    line("    environment:");
    line(&format!("      POSTGRES_USER: {}", value(DB_USER)));
    line(&format!("      POSTGRES_DB: {}", value(DATABASE)));
    line(&format!("      POSTGRES_PASSWORD_FILE: {}", secret_file(secrets::POSTGRES_PASSWORD)));
    secret_refs(&mut line, n, &[secrets::POSTGRES_PASSWORD]);
    line("    volumes:");
    line(&format!("      - {}:/var/lib/postgresql/data", n.postgres_volume));
    line("    networks:");
    line(&format!("      - {}", n.internal_network));
    deploy(&mut line, "2048M");
    line("");

    // redis
    line(&format!("  {}:", n.redis));
    line(&format!("    image: {}", value(REDIS_IMAGE)));
    line(&format!("    command: {}", list(&["redis-server".into(), "--appendonly".into(), "yes".into()])));
    line("    volumes:");
    line(&format!("      - {}:/data", n.redis_volume));
    line("    networks:");
    line(&format!("      - {}", n.internal_network));
    deploy(&mut line, "1024M");
    line("");

    // app
    line(&format!("  {}:", n.app));
    line(&format!("    image: {image}"));
    line(&format!("    entrypoint: {}", list(&entrypoint::wrap(&["docker/entrypoints/rails.sh"]))));
    let rails = ["bundle", "exec", "rails", "s", "-p", "3000", "-b", "0.0.0.0"];
    line(&format!("    command: {}", list(&rails.map(String::from))));
    chatwoot_common(&mut line, n, net);
    deploy(&mut line, "1024M");
    line("      labels:");
    let host_rule = value(&format!("Host(`{domain}`)"));
    let labels: Vec<(String, String)> = vec![
        ("traefik.enable".into(), value("true")),
        ("traefik.docker.network".into(), value(net)),
        (format!("traefik.http.routers.{}.rule", n.router), host_rule.clone()),
        (format!("traefik.http.routers.{}.entrypoints", n.router), value(ENTRY_HTTPS)),
        (format!("traefik.http.routers.{}.tls", n.router), value("true")),
        (format!("traefik.http.routers.{}.tls.certresolver", n.router), value(CERT_RESOLVER)),
        (format!("traefik.http.routers.{}.service", n.router), value(&n.traefik_service)),
        (format!("traefik.http.services.{}.loadbalancer.server.port", n.traefik_service), value("3000")),
        (format!("traefik.http.services.{}.loadbalancer.passhostheader", n.traefik_service), value("true")),
        (format!("traefik.http.routers.{}.rule", n.http_router), host_rule),
        (format!("traefik.http.routers.{}.entrypoints", n.http_router), value(ENTRY_HTTP)),
        (format!("traefik.http.routers.{}.middlewares", n.http_router), value(&n.redirect_middleware)),
        (format!("traefik.http.routers.{}.service", n.http_router), value(&n.traefik_service)),
        (format!("traefik.http.middlewares.{}.redirectscheme.scheme", n.redirect_middleware), value("https")),
        (format!("traefik.http.middlewares.{}.redirectscheme.permanent", n.redirect_middleware), value("true")),
    ];
    for (k, v) in &labels {
        line(&format!("        {k}: {v}"));
    }
    line("");

    // sidekiq
    line(&format!("  {}:", n.sidekiq));
    line(&format!("    image: {image}"));
    line(&format!("    entrypoint: {}", list(&entrypoint::wrap(&[]))));
    let sidekiq = ["bundle", "exec", "sidekiq", "-C", "config/sidekiq.yml"];
    line(&format!("    command: {}", list(&sidekiq.map(String::from))));
    chatwoot_common(&mut line, n, net);
    deploy(&mut line, "1024M");
    line("");

    line("volumes:");
    for v in [&n.postgres_volume, &n.redis_volume, &n.storage_volume] {
        line(&format!("  {v}:"));
        line(&format!("    name: {v}"));
    }
    line("");
    line("networks:");
    line(&format!("  {}:", n.internal_network));
    line("    driver: overlay");
    line(&format!("  {}:", value(net)));
    line("    external: true");
    line(&format!("    name: {}", value(net)));
    line("");
    line("# Created by `whitelabel secrets <BRAND> --swarm` (or `docker secret create NAME -`).");
    line("secrets:");
    for s in secrets::ALL {
        let name = s.docker_name(&n.stack);
        line(&format!("  {name}:"));
        line("    external: true");
        line(&format!("    name: {name}"));
    }
    y
}

/// Image-independent parts of the app and sidekiq services.
fn chatwoot_common(line: &mut impl FnMut(&str), n: &Names, net: &str) {
    line("    environment: *chatwoot-env");
    secret_refs(line, n, &secrets::ALL);
    line("    volumes:");
    line(&format!("      - {}:/app/storage", n.storage_volume));
    line("    networks:");
    line(&format!("      - {}", n.internal_network));
    line(&format!("      - {}", value(net)));
}

fn secret_refs(line: &mut impl FnMut(&str), n: &Names, which: &[Secret]) {
    line("    secrets:");
    for s in which {
        line(&format!("      - source: {}", s.docker_name(&n.stack)));
        line(&format!("        target: {}", s.key()));
    }
}

/// One replica on the manager (the volumes are local to it), with limits.
fn deploy(line: &mut impl FnMut(&str), memory: &str) {
    line("    deploy:");
    line("      mode: replicated");
    line("      replicas: 1");
    line("      placement:");
    line("        constraints:");
    line("          - node.role == manager");
    line("      resources:");
    line("        limits:");
    line("          cpus: \"1\"");
    line(&format!("          memory: {memory}"));
}

/// What [`repin`] did.
#[derive(Debug)]
pub struct Repinned {
    pub text: String,
    /// The images the app and sidekiq had.
    pub previous: Vec<String>,
    /// Lines rewritten (0: already pinned to the image).
    pub lines: usize,
}

/// Points the app and sidekiq (and any other service that ran the same
/// image) at `image` by rewriting their `image:` lines in place; nothing else
/// in `text` changes. Refuses when those lines cannot be found unambiguously:
/// the result is parsed again and must equal the old document with only
/// those images changed.
pub fn repin(path: &Path, text: &str, names: &Names, image: &str) -> Result<Repinned> {
    let refuse = |why: String| {
        Error::Input(Problem::new(
            path,
            None,
            format!("{why}, so its image lines cannot be updated in place"),
            "fix the file, or pass --force to write it anew (your edits there are lost)",
        ))
    };
    let old = parse_one(text).map_err(|e| refuse(format!("is not a YAML document ({e})")))?;
    let service_image = |doc: &yaml_rust2::Yaml, svc: &str| doc["services"][svc]["image"].as_str().map(str::to_string);
    let mut previous = Vec::new();
    for svc in [&names.app, &names.sidekiq] {
        match service_image(&old, svc) {
            Some(img) if is_digest_reference(&img) => {
                if !previous.contains(&img) {
                    previous.push(img);
                }
            }
            Some(img) => return Err(refuse(format!("service {svc} runs `{img}`, not an image pinned by digest"))),
            None => return Err(refuse(format!("has no service {svc} with an `image:` (was [stack] name changed?)"))),
        }
    }
    if previous == [image] {
        return Ok(Repinned { text: text.to_string(), previous, lines: 0 });
    }

    let re =
        regex::Regex::new(r#"^(\s*image:[ \t]+)(?:"([^"\\]*)"|'([^']*)'|([^\s"'#&*!|>][^\s#]*))([ \t]*(?:#.*)?)$"#)
            .expect("valid regex");
    let mut out = String::with_capacity(text.len() + 64);
    let mut lines = 0;
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let end = &raw[body.len()..];
        if let Some(c) = re.captures(body) {
            let (m, quote) = match (c.get(2), c.get(3), c.get(4)) {
                (Some(m), _, _) => (m, "\""),
                (_, Some(m), _) => (m, "'"),
                (_, _, Some(m)) => (m, ""),
                _ => unreachable!("one alternative matched"),
            };
            if previous.iter().any(|p| p == m.as_str()) {
                out.push_str(&format!("{}{quote}{image}{quote}{}{end}", &c[1], &c[5]));
                lines += 1;
                continue;
            }
        }
        out.push_str(raw);
    }

    // The proof: the new document is the old one with only those images changed.
    let mut expected = old.clone();
    if let yaml_rust2::Yaml::Hash(services) = &mut expected["services"] {
        for (_, svc) in services.iter_mut() {
            if let yaml_rust2::Yaml::Hash(h) = svc {
                // In place: `insert` would move the key to the end of the map.
                if let Some(v) = h.get_mut(&yaml_rust2::Yaml::String("image".into()))
                    && v.as_str().is_some_and(|v| previous.iter().any(|p| p == v))
                {
                    *v = yaml_rust2::Yaml::String(image.to_string());
                }
            }
        }
    }
    let new = parse_one(&out).map_err(|e| refuse(format!("would not parse after the edit ({e})")))?;
    if new != expected {
        return Err(refuse(format!(
            "sets the images of {} and {} in a way other than one plain `image:` line each \
             (an anchor, a multi-line value, or the same image elsewhere)",
            names.app, names.sidekiq
        )));
    }
    Ok(Repinned { text: out, previous, lines })
}

fn parse_one(text: &str) -> std::result::Result<yaml_rust2::Yaml, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| e.to_string())?;
    match <[_; 1]>::try_from(docs) {
        Ok([doc]) => Ok(doc),
        Err(docs) => Err(format!("{} documents, expected one", docs.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "r.io/nexa/chatwoot@sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "r.io/nexa/chatwoot@sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn digest_references() {
        assert!(is_digest_reference(D1));
        assert!(is_digest_reference(&D1.replace("chatwoot@", "chatwoot:v1@")));
        assert!(!is_digest_reference("r.io/nexa/chatwoot:latest"));
        assert!(!is_digest_reference(&D1.replace("1111", "AAAA")));
        assert!(!is_digest_reference(&D1[..D1.len() - 1]));
        assert!(!is_digest_reference(&format!("{D1}@sha256:00")));
    }

    #[test]
    fn values_are_quoted_and_not_interpolated() {
        assert_eq!(value("a $HOME ${X} \"q\""), r#""a $$HOME $${X} \"q\"""#);
    }

    fn doc(app: &str, sidekiq: &str) -> String {
        format!(
            "# mine\nversion: \"3.8\"\nservices:\n  n-app:\n    image: {app}   # pinned\n    environment:\n      A: \"1\"\n  \
             n-sidekiq:\n    image: \"{sidekiq}\"\n  n-postgres:\n    image: pgvector/pgvector:pg16\n"
        )
    }

    #[test]
    fn repin_changes_only_image_lines() {
        let names = Names::new("n");
        let p = Path::new("s.yml");
        let r = repin(p, &doc(D1, D1), &names, D2).unwrap();
        assert_eq!(r.text, doc(D2, D2));
        assert_eq!((r.lines, r.previous.as_slice()), (2, [D1.to_string()].as_slice()));
        assert_eq!(repin(p, &doc(D2, D2), &names, D2).unwrap().lines, 0);
        // CRLF files keep their line ends.
        let crlf = doc(D1, D1).replace('\n', "\r\n");
        assert_eq!(repin(p, &crlf, &names, D2).unwrap().text, doc(D2, D2).replace('\n', "\r\n"));
    }

    #[test]
    fn repin_refuses_what_it_cannot_prove() {
        let names = Names::new("n");
        let p = Path::new("s.yml");
        let refused = |text: &str| repin(p, text, &names, D2).unwrap_err().to_string();
        assert!(refused("services: [").contains("not a YAML document"));
        assert!(refused(&doc(D1, D1).replace("n-app:", "m-app:")).contains("no service n-app"));
        assert!(refused(&doc("r.io/x:latest", D1)).contains("not an image pinned by digest"));
        // The same image under an extension key: not only the services' lines.
        assert!(refused(&format!("{}x-img:\n  image: {D1}\n", doc(D1, D1))).contains("other than"));
        // An anchor and an alias: the line is not a plain value.
        let anchored = doc(D1, D1)
            .replace(&format!("image: {D1}   # pinned"), &format!("image: &img {D1}"))
            .replace(&format!("image: \"{D1}\""), "image: *img");
        assert!(refused(&anchored).contains("other than"), "{anchored}");
    }
}
