//! `whitelabel apply-config` against a real PostgreSQL and Redis
//! (`.ci/services up` starts private ones and writes their URLs to
//! target/services/{postgres,redis}.env). Each test gets its own database,
//! with `installation_configs` created as Chatwoot's db/schema.rb does and
//! seeded as ConfigLoader seeds a fresh install (Ruby's Psych writes the
//! rows), and its own Redis database number. Stored rows are read back with
//! Ruby's Psych and ActiveSupport, the way Rails reads them.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value as Json;

/// The rows apply-config owns (the issue's list).
const BRANDING: [&str; 10] = whitelabel::installation::BRANDING_KEYS;

/// `installation_configs` exactly as db/schema.rb (7d9800d) has it: Rails'
/// bigint primary key, precision-6 timestamps without time zone, both
/// unique indexes.
const SCHEMA: &str = r#"
CREATE TABLE installation_configs (
    id bigserial PRIMARY KEY,
    name character varying NOT NULL,
    serialized_value jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    locked boolean DEFAULT true NOT NULL
);
CREATE UNIQUE INDEX index_installation_configs_on_name_and_created_at ON installation_configs (name, created_at);
CREATE UNIQUE INDEX index_installation_configs_on_name ON installation_configs (name);
"#;

// ---- services ----

/// A test service URL: the variable, else target/services/<file>. Missing
/// fails under CI and skips elsewhere.
fn service(var: &str, file: &str) -> Option<String> {
    if let Ok(v) = std::env::var(var) {
        return Some(v);
    }
    let path = repo().join("target/services").join(file);
    let found = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix(&format!("{var}=")).map(str::to_string)));
    if found.is_none() {
        assert!(std::env::var_os("CI").is_none(), "no {var}: run `.ci/services up` (writes {})", path.display());
        eprintln!("skipped: no {var} (run `.ci/services up`)");
    }
    found
}

fn ruby(args: &[&str], stdin: &str) -> String {
    let script = repo().join("tests/ruby/installation_config.rb");
    let mut child = Command::new("ruby")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{} ({e})", needs("ruby with ruby-activesupport")));
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "ruby {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// A database of its own, dropped at the end; plus a Redis database number.
struct Install {
    admin_url: String,
    name: String,
    url: String,
    redis_url: String,
}

impl Install {
    /// An empty database (no table), or None when skipped.
    fn empty(tag: &str, redis_db: u8) -> Option<Install> {
        let admin_url = service("WHITELABEL_TEST_DATABASE_URL", "postgres.env")?;
        let redis_base = service("WHITELABEL_TEST_REDIS_URL", "redis.env")?;
        let name = format!("wl_{}_{tag}", std::process::id());
        let mut admin = postgres::Client::connect(&admin_url, postgres::NoTls).expect("test PostgreSQL is up");
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        let mut redis_url = url::Url::parse(&redis_base).unwrap();
        redis_url.set_path(&redis_db.to_string());
        let install = Install { admin_url, name, url: url.to_string(), redis_url: redis_url.to_string() };
        let _: () = redis::cmd("FLUSHDB").query(&mut install.redis()).unwrap();
        Some(install)
    }

    /// A fresh install: the table, seeded from `yml` as ConfigLoader does.
    fn seeded(tag: &str, redis_db: u8, yml: &Path) -> Option<Install> {
        let install = Install::empty(tag, redis_db)?;
        let mut db = install.db();
        db.batch_execute(SCHEMA).unwrap();
        let rows: Vec<(String, String, bool)> =
            serde_json::from_str(&ruby(&["seed", yml.to_str().unwrap()], "")).unwrap();
        for (name, yaml, locked) in rows {
            db.execute(
                "INSERT INTO installation_configs (name, serialized_value, locked, created_at, updated_at) \
                 VALUES ($1, $2, $3, '2024-11-20 10:00:00', '2024-11-20 10:00:00')",
                &[&name, &Json::String(yaml), &locked],
            )
            .unwrap();
        }
        Some(install)
    }

    fn db(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).unwrap()
    }

    fn redis(&self) -> redis::Connection {
        redis::Client::open(self.redis_url.as_str()).unwrap().get_connection().unwrap()
    }

    /// Every row as stored, by name.
    fn snapshot(&self) -> BTreeMap<String, (i64, Json, bool, String, String)> {
        self.db()
            .query(
                "SELECT name, id, serialized_value, locked, created_at::text, updated_at::text FROM installation_configs",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))))
            .collect()
    }

    /// `InstallationConfig#value` of every row, as Rails reads it.
    fn values(&self) -> BTreeMap<String, Json> {
        let stored: serde_json::Map<String, Json> =
            self.snapshot().into_iter().map(|(name, (_, value, ..))| (name, value)).collect();
        serde_json::from_str(&ruby(&["decode"], &Json::Object(stored).to_string())).unwrap()
    }

    /// Caches every branding key as GlobalConfig would, plus one other key.
    fn seed_cache(&self, value: &str) {
        let mut r = self.redis();
        for key in BRANDING {
            let cached = serde_json::json!({ "value": value }).to_string();
            let _: () = redis::cmd("SET").arg(cache_key(key)).arg(cached).arg("EX").arg(86400).query(&mut r).unwrap();
        }
        let _: () =
            redis::cmd("SET").arg(cache_key("ENABLE_ACCOUNT_SIGNUP")).arg(r#"{"value":false}"#).query(&mut r).unwrap();
    }

    fn cache(&self) -> BTreeMap<String, String> {
        let mut r = self.redis();
        let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut r).unwrap();
        keys.into_iter()
            .map(|k| {
                let v: String = redis::cmd("GET").arg(&k).query(&mut r).unwrap();
                (k, v)
            })
            .collect()
    }

    fn apply(&self, brand: &str, extra: &[&str]) -> Output {
        let mut args = vec!["apply-config", brand, "--database-url", &self.url, "--redis-url", &self.redis_url];
        args.extend_from_slice(extra);
        whitelabel(&args)
    }

    fn password(&self) -> String {
        url::Url::parse(&self.url).unwrap().password().unwrap().to_string()
    }

    fn redis_password(&self) -> String {
        url::Url::parse(&self.redis_url).unwrap().password().unwrap().to_string()
    }
}

impl Drop for Install {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

fn cache_key(name: &str) -> String {
    format!("alfred:V1:GLOBAL_CONFIG:{name}")
}

fn fixture_yml() -> PathBuf {
    fixture().join("config/installation_config.yml")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: &Output) -> &Output {
    assert!(o.status.success(), "apply-config failed:\n{}\n{}", stdout(o), stderr(o));
    o
}

/// The brand's values, worked out from brand.toml and `check --json` (the
/// digest), not from the code under test.
fn expected(pack: &Path) -> BTreeMap<String, Json> {
    let toml: toml::Value = toml::from_str(&std::fs::read_to_string(pack.join("brand.toml")).unwrap()).unwrap();
    let check = whitelabel(&["check", pack.to_str().unwrap(), "--json"]);
    let digest: Json = serde_json::from_slice(&check.stdout).unwrap();
    let v = &digest["digest"].as_str().unwrap()[..8];
    let name = toml["brand"]["name"].as_str().unwrap();
    let url = |k: &str| Json::from(toml["urls"][k].as_str().unwrap());
    BTreeMap::from([
        ("INSTALLATION_NAME".into(), name.into()),
        ("BRAND_NAME".into(), name.into()),
        ("LOGO".into(), format!("/brand-assets/logo.svg?v={v}").into()),
        ("LOGO_DARK".into(), format!("/brand-assets/logo_dark.svg?v={v}").into()),
        ("LOGO_THUMBNAIL".into(), format!("/brand-assets/logo_thumbnail.svg?v={v}").into()),
        ("BRAND_URL".into(), url("home")),
        ("WIDGET_BRAND_URL".into(), url("widget")),
        ("TERMS_URL".into(), url("terms")),
        ("PRIVACY_URL".into(), url("privacy")),
        ("DISPLAY_MANIFEST".into(), true.into()),
    ])
}

fn branding_values(values: &BTreeMap<String, Json>) -> BTreeMap<String, Json> {
    values.iter().filter(|(k, _)| BRANDING.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect()
}

// ---- tests ----

#[test]
fn brands_an_existing_install_once() {
    let Some(install) = Install::seeded("once", 1, &fixture_yml()) else { return };
    let mut db = install.db();
    // An operator unlocked BRAND_URL to edit it in super admin; LOGO_DARK is
    // missing (an install older than that key).
    db.execute("UPDATE installation_configs SET locked = false WHERE name = 'BRAND_URL'", &[]).unwrap();
    db.execute("DELETE FROM installation_configs WHERE name = 'LOGO_DARK'", &[]).unwrap();
    install.seed_cache("Chatwoot");
    let before = install.snapshot();
    let values_before = install.values();
    assert_eq!(values_before["INSTALLATION_NAME"], "Chatwoot");

    let o = ok(&install.apply("nexa", &[])).clone();
    let err = stderr(&o);
    assert_eq!(err.matches("warning:").count(), 1, "{err}");
    assert!(err.contains("brand.toml: image.base: base image chatwoot/chatwoot:v3.15.0 contains enterprise/"), "{err}");
    assert!(err.contains("fix: build and run the brand's image on chatwoot/chatwoot:v3.15.0-ce"), "{err}");
    let out = stdout(&o);
    assert!(out.contains("Chatwoot\" → \"Nexa\"") && out.contains("9 rows written"), "{out}");

    let after = install.snapshot();
    let values = install.values();
    assert_eq!(branding_values(&values), expected(&nexa()));
    for name in BRANDING {
        let (id, stored, locked, created, updated) = &after[name];
        let yaml = stored.as_str().unwrap();
        assert!(yaml.starts_with("--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nvalue: "), "{yaml:?}");
        match before.get(name) {
            // Existing rows keep id, lock and created_at.
            Some((id0, _, locked0, created0, updated0)) => {
                assert_eq!((id, locked, created), (id0, locked0, created0), "{name}");
                // DISPLAY_MANIFEST was already true.
                assert_eq!(updated == updated0, name == "DISPLAY_MANIFEST", "{name}");
            }
            None => assert!(*locked, "a new {name} row is locked as upstream creates it"),
        }
    }
    assert!(!after["BRAND_URL"].2, "an unlocked row stays unlocked");
    // Nothing else in the table moved.
    for (name, row) in &before {
        if !BRANDING.contains(&name.as_str()) {
            assert_eq!(&after[name], row, "{name}");
        }
    }
    let cache = install.cache();
    assert_eq!(
        cache.keys().collect::<Vec<_>>(),
        [&cache_key("ENABLE_ACCOUNT_SIGNUP")],
        "stale keys deleted, others kept"
    );

    // The app caches the new values again; a second run changes nothing.
    for (name, value) in expected(&nexa()) {
        let _: () = redis::cmd("SET")
            .arg(cache_key(&name))
            .arg(serde_json::json!({ "value": value }).to_string())
            .query(&mut install.redis())
            .unwrap();
    }
    let cache = install.cache();
    let o = ok(&install.apply("nexa", &["--json"])).clone();
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((report["changed"].as_u64(), report["written"].as_u64()), (Some(0), Some(0)), "{report:#}");
    assert!(report["rows"].as_array().unwrap().iter().all(|r| r["action"] == "unchanged"), "{report:#}");
    assert!(report["cache"].as_array().unwrap().iter().all(|c| c["state"] == "current"), "{report:#}");
    assert_eq!(install.snapshot(), after, "second run wrote nothing");
    assert_eq!(install.cache(), cache, "second run deleted nothing");
    let o = ok(&install.apply("nexa", &[])).clone();
    assert!(stdout(&o).contains("Nothing to change"), "{}", stdout(&o));
}

#[test]
fn a_failure_midway_leaves_everything_as_it_was() {
    let Some(install) = Install::seeded("midway", 2, &fixture_yml()) else { return };
    // Raises on the 5th row written (AFTER: once per row, insert or update).
    install
        .db()
        .batch_execute(
            "CREATE SEQUENCE written;
             CREATE FUNCTION fail_fifth() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF nextval('written') = 5 THEN RAISE EXCEPTION 'provoked failure at %', NEW.name; END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER fail_fifth AFTER INSERT OR UPDATE ON installation_configs
               FOR EACH ROW EXECUTE FUNCTION fail_fifth();",
        )
        .unwrap();
    install.seed_cache("Chatwoot");
    let (before, cache) = (install.snapshot(), install.cache());
    let o = install.apply("nexa", &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("provoked failure at BRAND_URL") && err.contains("nothing was changed"), "{err}");
    let seq: i64 = install.db().query_one("SELECT last_value FROM written", &[]).unwrap().get(0);
    assert_eq!(seq, 5, "four rows were written before the failure");
    assert_eq!(install.snapshot(), before);
    assert_eq!(install.cache(), cache, "the cache is untouched");
}

#[test]
fn a_connection_killed_midway_leaves_everything_as_it_was() {
    let Some(install) = Install::seeded("killed", 3, &fixture_yml()) else { return };
    install
        .db()
        .batch_execute(
            "CREATE SEQUENCE written;
             CREATE FUNCTION stall_fifth() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               IF nextval('written') = 5 THEN PERFORM pg_sleep(60); END IF;
               RETURN NEW;
             END $$;
             CREATE TRIGGER stall_fifth AFTER INSERT OR UPDATE ON installation_configs
               FOR EACH ROW EXECUTE FUNCTION stall_fifth();",
        )
        .unwrap();
    install.seed_cache("Chatwoot");
    let (before, cache) = (install.snapshot(), install.cache());
    let mut child = Command::new(env!("CARGO_BIN_EXE_whitelabel"))
        .current_dir(repo())
        .args(["apply-config", "nexa", "--redis-url", &install.redis_url])
        .env("WHITELABEL_DATABASE_URL", &install.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Terminate its backend while it sleeps inside the 5th row.
    let mut db = install.db();
    let started = Instant::now();
    let pid = loop {
        let rows = db
            .query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'whitelabel apply-config' \
                 AND wait_event = 'PgSleep'",
                &[&install.name],
            )
            .unwrap();
        if let Some(r) = rows.first() {
            break r.get::<_, i32>(0);
        }
        if child.try_wait().unwrap().is_some() {
            let o = child.wait_with_output().unwrap();
            panic!("apply-config ended before the 5th row:\n{}\n{}", stdout(&o), stderr(&o));
        }
        assert!(started.elapsed() < Duration::from_secs(30), "apply-config never reached the 5th row");
        std::thread::sleep(Duration::from_millis(20));
    };
    let in_tx: i64 = db.query_one("SELECT last_value FROM written", &[]).unwrap().get(0);
    assert_eq!(in_tx, 5, "stalled on the 5th row");
    db.execute("SELECT pg_terminate_backend($1)", &[&pid]).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("nothing was committed") || err.contains("nothing was changed"), "{err}");
    assert!(!err.contains(&install.password()), "{err}");
    assert_eq!(install.snapshot(), before);
    assert_eq!(install.cache(), cache, "the cache is untouched");
}

#[test]
fn dry_run_prints_runnable_sql_and_changes_nothing() {
    let Some(install) = Install::seeded("dry", 4, &fixture_yml()) else { return };
    install.seed_cache("Chatwoot");
    let (before, cache) = (install.snapshot(), install.cache());
    let o = ok(&install.apply("nexa", &["--dry-run"])).clone();
    let out = stdout(&o);
    assert_eq!(install.snapshot(), before);
    assert_eq!(install.cache(), cache);
    for secret in [install.password(), install.redis_password()] {
        assert!(!out.contains(&secret) && !stderr(&o).contains(&secret), "a password was printed:\n{out}");
    }
    assert!(out.contains("postgres://whitelabel:***@"), "{out}");
    assert!(out.contains("INSERT INTO installation_configs") && out.contains("'INSTALLATION_NAME'"), "{out}");
    assert!(out.contains("-- DISPLAY_MANIFEST: unchanged"), "{out}");
    assert!(out.contains(&format!("-- redis: DEL {}", cache_key("LOGO"))), "{out}");

    // The printed SQL, run by hand, brands the install exactly as a run would.
    install.db().batch_execute(&out).unwrap();
    assert_eq!(branding_values(&install.values()), expected(&nexa()));
    let o = ok(&install.apply("nexa", &["--json", "--dry-run"])).clone();
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["changed"], 0, "{report:#}");
}

#[test]
fn hostile_brand_names_round_trip_exactly() {
    let Some(install) = Install::seeded("hostile", 5, &fixture_yml()) else { return };
    // What a brand name may hold (one line: no control characters nor
    // U+2028/U+2029, which check refuses; 64 chars).
    let name = "It's \"Q\": #1 {x} %{y} \\ \u{a0}\u{feff}\u{ffff}ç日本🚀 --- !ruby/object *a &b |";
    let pack = nexa_variant(|t| {
        let t = t.replace("name = \"Nexa\"", &format!("name = {}", toml::Value::from(name)));
        t.replace("base = \"chatwoot/chatwoot:v3.15.0\"", "base = \"chatwoot/chatwoot:v3.15.0-ce\"")
    });
    let dir = variant_dir(&pack);
    let o = ok(&install.apply(dir.to_str().unwrap(), &[])).clone();
    assert!(!stderr(&o).contains("warning"), "no warning for a -ce base: {}", stderr(&o));
    let values = install.values();
    assert_eq!(values["INSTALLATION_NAME"], name);
    assert_eq!(branding_values(&values), expected(&dir));
    let o = ok(&install.apply(dir.to_str().unwrap(), &["--json"])).clone();
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["changed"], 0, "decoding the stored hostile value matches: {report:#}");
}

#[test]
fn any_text_round_trips_through_rails() {
    // Below the brand pack's rules: line breaks, control characters and
    // YAML syntax, written by the library and read back by Psych.
    let Some(install) = Install::seeded("anytext", 6, &fixture_yml()) else { return };
    let texts = [
        "line one\nline two\r\n\ttabbed",
        "\u{0}\u{1}\u{1b}[31m\u{7f}\u{85}\u{9f}\u{2029}",
        "",
        "  padded  ",
        "yes",
        "~",
        "1e3",
        ":symbol",
        "- item",
        "? key",
        "@at `tick` %YAML !tag &anchor *alias",
        "---\n...\n",
        "\"'\\\"",
        "value: nested\nvalue: again",
    ];
    let rows: Vec<whitelabel::installation::Row> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| whitelabel::installation::Row {
            name: format!("TEXT_{i:02}"),
            value: whitelabel::installation::Value::Text(t.to_string()),
            locked: true,
        })
        .collect();
    let opts = whitelabel::config_db::Options { database_url: &install.url, redis_url: None, dry_run: false };
    let report = whitelabel::config_db::apply(&rows, &opts).unwrap();
    assert_eq!(report.written, texts.len());
    let values = install.values();
    for (i, t) in texts.iter().enumerate() {
        assert_eq!(values[&format!("TEXT_{i:02}")], *t, "{t:?}");
    }
    assert_eq!(whitelabel::config_db::apply(&rows, &opts).unwrap().changes(), 0, "read back equal");
}

#[test]
fn errors_name_the_problem_and_the_fix() {
    let Some(install) = Install::empty("errors", 7) else { return };

    // No table: not a Chatwoot database.
    let o = install.apply("nexa", &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("installation_configs") && err.contains("is this a Chatwoot database? run migrations first"),
        "{err}"
    );
    assert!(!err.contains(&install.password()), "{err}");

    // Unreachable PostgreSQL: the URL is shown without its password.
    let dead = "postgres://chatwoot:hunter2secret@127.0.0.1:1/chatwoot_production";
    let o = whitelabel(&["apply-config", "nexa", "--database-url", dead]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("connecting to postgres://chatwoot:***@127.0.0.1:1/chatwoot_production") && err.contains("fix:"),
        "{err}"
    );
    assert!(!err.contains("hunter2secret"), "{err}");

    // Redis is checked before the database is touched.
    install.db().batch_execute(SCHEMA).unwrap();
    let before = install.snapshot();
    let o = whitelabel(&[
        "apply-config",
        "nexa",
        "--database-url",
        &install.url,
        "--redis-url",
        "redis://:hunter3secret@127.0.0.1:1/0",
    ]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("redis://:***@127.0.0.1:1/0") && !err.contains("hunter3secret"), "{err}");
    assert_eq!(install.snapshot(), before);
    let mut wrong = url::Url::parse(&install.redis_url).unwrap();
    wrong.set_password(Some("wrong-password")).unwrap();
    let o = whitelabel(&["apply-config", "nexa", "--database-url", &install.url, "--redis-url", wrong.as_str()]);
    assert!(stderr(&o).contains("check the password in --redis-url"), "{}", stderr(&o));
    assert_eq!(install.snapshot(), before);

    // A wrong database password.
    let mut wrong = url::Url::parse(&install.url).unwrap();
    wrong.set_password(Some("wrong-password")).unwrap();
    let o = whitelabel(&["apply-config", "nexa", "--database-url", wrong.as_str(), "--json"]);
    let report: Json = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert!(report["error"].as_str().unwrap().contains("check the user and password"), "{report:#}");
}

#[test]
fn brands_a_full_upstream_seed() {
    // The real v3.15.0 installation_config.yml, when shared/ is beside the checkout.
    let real = repo().join("../shared/chatwoot-v3.15.0/config/installation_config.yml");
    if !real.is_file() {
        assert!(std::env::var_os("CI").is_none(), "CI must have ../shared/chatwoot-v3.15.0 beside the checkout");
        eprintln!("skipped: {} is not here", real.display());
        return;
    }
    let Some(install) = Install::seeded("upstream", 8, &real) else { return };
    let before = install.values();
    let entries = std::fs::read_to_string(&real).unwrap().matches("\n- name: ").count();
    assert_eq!(before.len(), entries, "the whole upstream file was seeded");
    ok(&install.apply("nexa", &[]));
    let after = install.values();
    assert_eq!(branding_values(&after), expected(&nexa()));
    for (name, value) in &before {
        if !BRANDING.contains(&name.as_str()) {
            assert_eq!(&after[name], value, "{name}");
        }
    }
}
