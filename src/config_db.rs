//! The database and cache side of `apply-config`: writes the branding rows
//! that [`crate::installation`] plans into a live Chatwoot PostgreSQL in one
//! transaction, then drops the stale `GlobalConfig` keys from its Redis.
//! Connection strings are secrets here: only [`redact`]ed forms are shown.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::installation::{self, Action, Existing, Row, Step};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// What to reach and how.
pub struct Options<'a> {
    pub database_url: &'a str,
    pub redis_url: Option<&'a str>,
    /// Read only: plan and print, write nothing, delete nothing.
    pub dry_run: bool,
}

/// What a run found and did.
#[derive(Debug)]
pub struct Report {
    /// The database URL with its password replaced.
    pub database: String,
    pub redis: Option<String>,
    pub dry_run: bool,
    pub steps: Vec<Step>,
    /// Rows written and committed (0 on a dry run).
    pub written: usize,
    pub cache: Vec<CacheKey>,
    /// The transaction as a psql script (only rows that change are written).
    pub sql: String,
    pub elapsed: Duration,
}

impl Report {
    pub fn changes(&self) -> usize {
        self.steps.iter().filter(|s| s.action != Action::Unchanged).count()
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheKey {
    pub key: String,
    pub state: CacheState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheState {
    /// Not cached: the app reads the table on next use.
    Absent,
    /// Cached with the brand's value already.
    Current,
    Deleted,
    /// Stale; a dry run leaves it.
    WouldDelete,
}

/// Plans and (unless `dry_run`) applies `rows`; Redis is checked before the
/// database is touched, so an unreachable cache stops the run with nothing done.
pub fn apply(rows: &[Row], opts: &Options) -> Result<Report> {
    let started = Instant::now();
    let db = Target::new(opts.database_url);
    let mut redis = opts.redis_url.map(Redis::connect).transpose()?;
    let mut client = connect(&db)?;
    check_table(&mut client, &db)?;

    let fail = |action: &str, e: postgres::Error| db.error(action, &e, db_fix(&e, opts.dry_run));
    let mut tx =
        client.build_transaction().read_only(opts.dry_run).start().map_err(|e| fail("starting a transaction on", e))?;
    // Fail rather than wait behind a long lock (a stuck console, a migration).
    tx.batch_execute("SET LOCAL lock_timeout = '10s'").map_err(|e| fail("configuring", e))?;
    let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    let select = if opts.dry_run {
        installation::SELECT_SQL.to_string()
    } else {
        format!("{} FOR UPDATE", installation::SELECT_SQL)
    };
    let existing: BTreeMap<String, Existing> = tx
        .query(&select, &[&names])
        .map_err(|e| fail("reading installation_configs on", e))?
        .iter()
        .map(|r| (r.get::<_, String>(0), Existing { serialized_value: r.get(1), locked: r.get(2) }))
        .collect();
    let steps = installation::plan(rows, &existing);
    let sql = installation::script(&steps);

    let mut written = 0;
    if !opts.dry_run && steps.iter().any(|s| s.action != Action::Unchanged) {
        let upsert = tx.prepare(installation::UPSERT_SQL).map_err(|e| fail("preparing the upsert on", e))?;
        for step in steps.iter().filter(|s| s.action != Action::Unchanged) {
            let row = &step.row;
            let n = tx
                .execute(&upsert, &[&row.name, &row.stored(), &row.locked])
                .map_err(|e| fail(&format!("writing {} on", row.name), e))?;
            if n != 1 {
                return Err(db.error_text(
                    &format!("writing {} on", row.name),
                    format!("{n} rows were written instead of 1"),
                    "nothing was changed (rolled back); check the table's unique index on name",
                ));
            }
            written += 1;
        }
        tx.commit().map_err(|e| {
            db.error(
                "committing on",
                &e,
                "the commit did not go through; run again (a run that finds the rows done changes nothing)",
            )
        })?;
    }

    let mut cache = Vec::new();
    if let Some(redis) = redis.as_mut() {
        for step in &steps {
            let key = step.row.cache_key();
            let state = redis.clear_if_stale(&key, &step.row.value, opts.dry_run)?;
            cache.push(CacheKey { key, state });
        }
    }
    Ok(Report {
        database: db.shown.clone(),
        redis: redis.map(|r| r.target.shown),
        dry_run: opts.dry_run,
        steps,
        written,
        cache,
        sql,
        elapsed: started.elapsed(),
    })
}

fn connect(db: &Target) -> Result<postgres::Client> {
    let mut config: postgres::Config = db.url.parse().map_err(|e: postgres::Error| {
        db.error(
            "reading",
            &e,
            "pass --database-url as postgres://USER:PASSWORD@HOST:5432/DATABASE (the URL Chatwoot's DATABASE_URL or POSTGRES_* point at)",
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    config.application_name("whitelabel apply-config");
    config.connect(postgres::NoTls).map_err(|e| {
        let fix = match e.as_db_error().map(|d| d.code().code()) {
            Some("28P01" | "28000") => "check the user and password in --database-url",
            Some("3D000") => "check the database name in --database-url (Chatwoot's is usually chatwoot_production)",
            _ if e.to_string().contains("TLS") => {
                "this tool connects without TLS: reach the database over a private network or an SSH tunnel, without sslmode=require"
            }
            _ => "check the host and port in --database-url and that PostgreSQL accepts TCP connections from this machine",
        };
        db.error("connecting to", &e, fix)
    })
}

/// Refuses anything but Chatwoot's `installation_configs` (columns and the
/// unique index on `name` the upsert relies on).
fn check_table(client: &mut postgres::Client, db: &Target) -> Result<()> {
    let migrate = "is this a Chatwoot database? run migrations first (bundle exec rails db:chatwoot_prepare)";
    let columns: BTreeMap<String, String> = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             WHERE a.attrelid = to_regclass('installation_configs') AND a.attnum > 0 AND NOT a.attisdropped",
            &[],
        )
        .map_err(|e| db.error("inspecting", &e, "check that the database user may read the catalog"))?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    if columns.is_empty() {
        return Err(db.error_text("looking for table installation_configs in", "there is no such table", migrate));
    }
    for (name, want) in [
        ("name", "character varying"),
        ("serialized_value", "jsonb"),
        ("locked", "boolean"),
        ("created_at", "timestamp"),
        ("updated_at", "timestamp"),
    ] {
        match columns.get(name) {
            Some(have) if have.starts_with(want) || (name == "name" && have == "text") => {}
            Some(have) => {
                return Err(db.error_text(
                    "checking installation_configs in",
                    format!("column {name} is {have}, not {want}"),
                    migrate,
                ));
            }
            None => {
                return Err(db.error_text(
                    "checking installation_configs in",
                    format!("column {name} is missing"),
                    migrate,
                ));
            }
        }
    }
    let unique_name = client
        .query_one(
            "SELECT count(*) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] \
             WHERE i.indrelid = to_regclass('installation_configs') AND i.indisunique AND i.indnatts = 1 \
             AND i.indpred IS NULL AND a.attname = 'name'",
            &[],
        )
        .map_err(|e| db.error("inspecting", &e, "check that the database user may read the catalog"))?
        .get::<_, i64>(0);
    if unique_name == 0 {
        return Err(db.error_text(
            "checking installation_configs in",
            "there is no unique index on name (index_installation_configs_on_name)",
            migrate,
        ));
    }
    Ok(())
}

fn db_fix(e: &postgres::Error, dry_run: bool) -> &'static str {
    let rolled_back =
        if dry_run { "nothing was changed" } else { "nothing was changed (the transaction was rolled back)" };
    match e.as_db_error().map(|d| d.code().code()) {
        Some("42501") => {
            "use the database user Chatwoot itself runs as (it owns installation_configs); nothing was changed"
        }
        Some("55P03") => {
            "another session holds these rows (a Rails console, a migration?); finish it and run again; nothing was changed"
        }
        Some("57P01" | "57P02" | "57P03") => {
            "the server ended the session; nothing was committed: run again once it is back"
        }
        _ if e.is_closed() || e.as_db_error().is_none() => {
            "the connection to PostgreSQL was lost; nothing was committed: check the server and run again"
        }
        _ => rolled_back,
    }
}

/// An error and its causes on one line; PostgreSQL's own words for server errors.
fn message(e: &(dyn std::error::Error + 'static)) -> String {
    if let Some(db) = e.downcast_ref::<postgres::Error>().and_then(postgres::Error::as_db_error) {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out = format!("{out}: {text}");
        }
        cause = c.source();
    }
    out
}

/// A connection string and its printable form.
struct Target {
    url: String,
    shown: String,
    secrets: Vec<String>,
}

impl Target {
    fn new(url: &str) -> Target {
        Target { url: url.to_string(), shown: redact(url), secrets: secrets(url) }
    }

    fn error(&self, action: &str, e: &(dyn std::error::Error + 'static), fix: &str) -> Error {
        self.error_text(action, message(e), fix)
    }

    fn error_text(&self, action: &str, message: impl Into<String>, fix: &str) -> Error {
        // Libraries do not echo passwords today; this keeps it so.
        let mut message = message.into();
        for s in &self.secrets {
            message = message.replace(s.as_str(), "***");
        }
        Error::Service { action: action.to_string(), target: self.shown.clone(), message, fix: fix.to_string() }
    }
}

struct Redis {
    target: Target,
    con: redis::Connection,
}

impl Redis {
    fn connect(url: &str) -> Result<Redis> {
        let target = Target::new(url);
        let fix_of = |e: &redis::RedisError| {
            let auth = e.kind() == redis::ErrorKind::AuthenticationFailed
                || matches!(e.code(), Some("NOAUTH" | "WRONGPASS"))
                || ["NOAUTH", "WRONGPASS"].iter().any(|c| e.to_string().contains(c));
            if auth {
                "check the password in --redis-url (redis://:PASSWORD@HOST:6379, Chatwoot's REDIS_PASSWORD)"
            } else {
                "check --redis-url (redis://:PASSWORD@HOST:6379/DB, as Chatwoot's REDIS_URL) and that Redis listens there"
            }
        };
        let client = redis::Client::open(url).map_err(|e| target.error("reading", &e, fix_of(&e)))?;
        let mut con = client
            .get_connection_with_timeout(REDIS_TIMEOUT)
            .map_err(|e| target.error("connecting to", &e, fix_of(&e)))?;
        let timeouts = con.set_read_timeout(Some(REDIS_TIMEOUT)).and(con.set_write_timeout(Some(REDIS_TIMEOUT)));
        timeouts.map_err(|e| target.error("connecting to", &e, fix_of(&e)))?;
        redis::cmd("PING").query::<String>(&mut con).map_err(|e| target.error("connecting to", &e, fix_of(&e)))?;
        Ok(Redis { target, con })
    }

    /// Deletes `key` unless it is absent or already caches `value`.
    fn clear_if_stale(&mut self, key: &str, value: &installation::Value, dry_run: bool) -> Result<CacheState> {
        let fix = "the rows are written; run apply-config again to clear the stale cache (or it expires within a day)";
        let cached: Option<Vec<u8>> = redis::cmd("GET")
            .arg(key)
            .query(&mut self.con)
            .map_err(|e| self.target.error("reading the cache on", &e, fix))?;
        let Some(cached) = cached else { return Ok(CacheState::Absent) };
        if installation::cache_is_current(&String::from_utf8_lossy(&cached), value) {
            return Ok(CacheState::Current);
        }
        if dry_run {
            return Ok(CacheState::WouldDelete);
        }
        redis::cmd("DEL")
            .arg(key)
            .query::<i64>(&mut self.con)
            .map_err(|e| self.target.error("clearing the cache on", &e, fix))?;
        Ok(CacheState::Deleted)
    }
}

/// `url` with its password shown as `***`: the `user:password@` part, a
/// `password=` query parameter, or a libpq `password=` keyword.
pub fn redact(url: &str) -> String {
    if url.contains("://") {
        if let Ok(mut u) = url::Url::parse(url) {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            if u.query_pairs().any(|(k, _)| k == "password") {
                let pairs: Vec<(String, String)> = u
                    .query_pairs()
                    .map(|(k, v)| {
                        let v = if k == "password" { "***".to_string() } else { v.into_owned() };
                        (k.into_owned(), v)
                    })
                    .collect();
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            return u.to_string();
        }
        // Unparsable: hide all of the user part.
        return match url.rsplit_once('@') {
            Some((head, tail)) => format!("{}://***@{tail}", head.split("://").next().unwrap_or("")),
            None => url.to_string(),
        };
    }
    conninfo_password().replace_all(url, "${1}***").into_owned()
}

fn conninfo_password() -> regex::Regex {
    regex::Regex::new(r"(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)").expect("valid regex")
}

/// The password in its raw and decoded forms, to scrub library messages.
fn secrets(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(u) = url::Url::parse(url) {
        if let Some(p) = u.password() {
            out.push(p.to_string());
            if let Ok(decoded) = percent_decode(p) {
                out.push(decoded);
            }
        }
        out.extend(u.query_pairs().filter(|(k, _)| k == "password").map(|(_, v)| v.into_owned()));
    }
    for c in conninfo_password().captures_iter(url) {
        out.push(c[2].trim_matches('\'').to_string());
    }
    out.retain(|s| s.len() >= 3);
    out
}

fn percent_decode(s: &str) -> std::result::Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_password_form() {
        assert_eq!(redact("postgres://chatwoot:s3cr%40t@db:5432/chatwoot"), "postgres://chatwoot:***@db:5432/chatwoot");
        assert_eq!(redact("redis://:hunter22@127.0.0.1:6379/0"), "redis://:***@127.0.0.1:6379/0");
        assert_eq!(
            redact("postgres://db/chatwoot?user=u&password=hunter22"),
            "postgres://db/chatwoot?user=u&password=***"
        );
        assert_eq!(redact("host=db user=u password='a b\\'c' dbname=x"), "host=db user=u password=*** dbname=x");
        assert_eq!(redact("postgres://u@db/x"), "postgres://u@db/x");
        assert!(!redact("postgres://u:p w@d@b/x").contains("p w"));
        let t = Target::new("postgres://u:hunter%2022@db/x");
        let e = t.error_text("connecting to", "bad hunter 22 and hunter%2022", "fix");
        assert!(!e.to_string().contains("hunter"), "{e}");
    }
}
