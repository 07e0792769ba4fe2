//! The branding rows of Chatwoot's `installation_configs` table, without a
//! database: which rows a brand needs, their values, the stored-value format
//! Rails reads and writes, the SQL that upserts them and the Redis keys that
//! cache them. [`crate::config_db`] runs it against a real install.
//!
//! Facts from upstream at 7d9800d (v3.15.0):
//! - `InstallationConfig` has `serialize :serialized_value,
//!   ActiveSupport::HashWithIndifferentAccess` on a `jsonb` column (Rails
//!   7.0). Its YAML coder dumps the hash, and the jsonb type stores that YAML
//!   document as a JSON *string*: `"--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nvalue: Nexa\n"`.
//!   Loading is `YAML.safe_load` with that class permitted, then a check that
//!   the result is one; anything else breaks every page that reads it.
//! - `locked` is `NOT NULL DEFAULT true`; `config/installation_config.yml`
//!   gives no `locked:` for the branding keys, so `ConfigLoader` creates them
//!   locked (hidden from super admin). New rows here are created locked too;
//!   the lock of an existing row is never changed (an operator who unlocked a
//!   row to edit it in super admin keeps that choice).
//! - `GlobalConfig` caches each key for a day under `V1:GLOBAL_CONFIG:<KEY>`
//!   through `$alfred`, a `Redis::Namespace.new('alfred')`: the real key is
//!   `alfred:V1:GLOBAL_CONFIG:<KEY>`, holding `{"value": …}` as JSON.

use std::collections::BTreeMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::brand::Brand;
use crate::error::{Error, Problem, Result};
use crate::patchset::{Op, PatchSet};

pub const TABLE: &str = "installation_configs";
/// The Ruby class `serialize` names; Psych writes it as the mapping's tag.
pub const HASH_TAG: &str = "!ruby/hash:ActiveSupport::HashWithIndifferentAccess";
/// `Redis::Namespace('alfred')` + `GlobalConfig::VERSION` + `KEY_PREFIX`.
pub const CACHE_PREFIX: &str = "alfred:V1:GLOBAL_CONFIG:";
/// The file the patch set's rule brands (fresh installs read it once).
pub const CONFIG_FILE: &str = "config/installation_config.yml";

/// The branding keys, in `config/installation_config.yml` order (the order
/// rows are written in). All are locked upstream.
pub const BRANDING_KEYS: [&str; 10] = [
    "INSTALLATION_NAME",
    "LOGO_THUMBNAIL",
    "LOGO",
    "LOGO_DARK",
    "BRAND_URL",
    "WIDGET_BRAND_URL",
    "BRAND_NAME",
    "TERMS_URL",
    "PRIVACY_URL",
    "DISPLAY_MANIFEST",
];

/// What a new branding row gets for `locked`: upstream's (none of the keys
/// says `locked: false`, so `ConfigLoader` leaves the column default).
pub const NEW_ROW_LOCKED: bool = true;

/// DISPLAY_MANIFEST stays as the brand's image ships it (upstream `true`):
/// it links the favicons, apple/ms icons and manifest, which the patch set
/// brands. An install that hid them (set it false) gets them back, branded.
pub const DISPLAY_MANIFEST: bool = true;

/// A config value as Rails reads it back (`InstallationConfig#value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Bool(bool),
    /// `nil`: no row value, a `{}` column default, `value:` left empty.
    Null,
    /// Anything else Psych would load (a number, a date, a list…), shown as written.
    Other(String),
}

impl Value {
    /// For messages and JSON: text JSON-quoted (so control characters from a
    /// database never reach a terminal raw), the rest as they read.
    pub fn shown(&self) -> String {
        match self {
            Value::Text(s) => serde_json::to_string(s).expect("string serialises"),
            Value::Bool(b) => b.to_string(),
            Value::Null => "nil".into(),
            Value::Other(s) => format!("{} (not a string)", serde_json::to_string(s).expect("string serialises")),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Text(s) | Value::Other(s) => s.clone().into(),
            Value::Bool(b) => (*b).into(),
            Value::Null => serde_json::Value::Null,
        }
    }
}

/// One branding row to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub value: Value,
    /// Used only when the row does not exist yet.
    pub locked: bool,
}

impl Row {
    /// The `serialized_value` jsonb: the YAML document as a JSON string.
    pub fn stored(&self) -> serde_json::Value {
        serde_json::Value::String(encode(&self.value))
    }

    pub fn cache_key(&self) -> String {
        format!("{CACHE_PREFIX}{}", self.name)
    }
}

/// The rows for `brand`, valued by the patch set's yaml-entries rule on
/// `config/installation_config.yml` (the same templates, so an existing
/// install ends up exactly like a fresh install of the brand's image), plus
/// DISPLAY_MANIFEST.
pub fn rows(brand: &Brand, patchset: &PatchSet) -> Result<Vec<Row>> {
    let rule =
        patchset.rules.iter().find(|r| matches!(r.op, Op::YamlEntries { .. }) && r.matcher.is_match(CONFIG_FILE));
    let Some(rule) = rule else {
        return Err(Error::Input(Problem::new(
            &patchset.dir,
            None,
            format!("has no yaml-entries rule on {CONFIG_FILE}, so the branding values are unknown"),
            "add the installation-config rule (see patches/chatwoot-v3.15.0/50-config.toml)",
        )));
    };
    let Op::YamlEntries { set, .. } = &rule.op else { unreachable!("matched above") };
    let mut values: BTreeMap<&str, String> =
        set.iter().map(|(k, t)| (k.as_str(), t.render(brand, |s| s.to_string()))).collect();
    let missing: Vec<&str> =
        BRANDING_KEYS.iter().copied().filter(|k| *k != "DISPLAY_MANIFEST" && !values.contains_key(k)).collect();
    if !missing.is_empty() {
        return Err(Error::Input(Problem::new(
            &rule.file,
            Some(format!("rule {}", rule.id)),
            format!("does not set {}", missing.join(", ")),
            "give the rule a value for every branding key",
        )));
    }
    let mut out = Vec::new();
    for key in BRANDING_KEYS {
        let value = match values.remove(key) {
            Some(text) => Value::Text(text),
            None => Value::Bool(DISPLAY_MANIFEST),
        };
        out.push(Row { name: key.to_string(), value, locked: NEW_ROW_LOCKED });
    }
    // Keys a later patch set adds are branding defaults too.
    for (key, text) in values {
        out.push(Row { name: key.to_string(), value: Value::Text(text), locked: NEW_ROW_LOCKED });
    }
    Ok(out)
}

// ---- the stored value ----

/// The YAML document Rails' coder reads as `{value: …}` (indifferent access).
/// Text is always double-quoted with every character YAML could reinterpret
/// escaped: one line, whatever the brand wrote. (Psych picks plain style for
/// some strings; both load to the same value.)
pub fn encode(value: &Value) -> String {
    let scalar = match value {
        Value::Text(s) => format!("\"{}\"", yaml_double(s)),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        Value::Other(s) => format!("\"{}\"", yaml_double(s)),
    };
    let sep = if scalar.is_empty() { "" } else { " " };
    format!("--- {HASH_TAG}\nvalue:{sep}{scalar}\n")
}

/// The inside of a YAML 1.1 double-quoted scalar as libyaml (Psych) reads it:
/// `"` and `\` escaped, line breaks (including NEL, LS, PS, which YAML 1.1
/// folds) and everything libyaml refuses as unprintable as `\uXXXX`.
pub fn yaml_double(s: &str) -> String {
    crate::escape::yaml_double(s)
}

/// Reads a `serialized_value` the way `InstallationConfig#value` does (Rails
/// 7.0 YAML coder, then `[:value]`). `Err` when Rails would raise instead:
/// such a row breaks the app and is rewritten.
pub fn decode(stored: &serde_json::Value) -> std::result::Result<Value, String> {
    let yaml = match stored {
        // The coder returns non-YAML payloads as they are; `{}` (the column
        // default) and other objects are plain hashes whose `[:value]` is nil.
        serde_json::Value::Object(_) | serde_json::Value::Null => return Ok(Value::Null),
        serde_json::Value::String(s) if s.starts_with("---") => s,
        other => return Err(format!("holds {other} instead of a YAML document")),
    };
    let mut parser = Parser::new_from_str(yaml);
    let mut next = || parser.next_token().map(|(e, _)| e).map_err(|e| format!("is not valid YAML ({e})"));
    expect(next()?, |e| matches!(e, Event::StreamStart))?;
    expect(next()?, |e| matches!(e, Event::DocumentStart))?;
    match next()? {
        Event::MappingStart(_, Some(tag)) if format!("{}{}", tag.handle, tag.suffix) == HASH_TAG => {}
        Event::MappingStart(..) => return Err("is a YAML mapping without the HashWithIndifferentAccess tag".into()),
        _ => return Err("is not a YAML mapping".into()),
    }
    let mut value = Value::Null;
    loop {
        let key = match next()? {
            Event::MappingEnd => break,
            Event::Scalar(k, ..) => k,
            _ => return Err("has a key that is not a string".into()),
        };
        let v = node(&mut next)?;
        if key == "value" {
            value = v;
        }
    }
    match next()? {
        Event::DocumentEnd => Ok(value),
        _ => Err("has more than one YAML node".into()),
    }
}

fn expect(e: Event, ok: impl Fn(&Event) -> bool) -> std::result::Result<(), String> {
    if ok(&e) { Ok(()) } else { Err("is not a YAML document".into()) }
}

/// One node: a scalar resolved as Psych would, or a collection (skipped whole).
fn node(next: &mut impl FnMut() -> std::result::Result<Event, String>) -> std::result::Result<Value, String> {
    match next()? {
        Event::Scalar(s, style, _, tag) => Ok(match (style, tag) {
            (_, Some(t)) if t.suffix != "str" => Value::Other(s),
            (TScalarStyle::Plain, None) => resolve_plain(s),
            _ => Value::Text(s),
        }),
        Event::Alias(_) => Ok(Value::Other("*alias".into())),
        Event::SequenceStart(..) | Event::MappingStart(..) => {
            let mut depth = 1;
            while depth > 0 {
                match next()? {
                    Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                    Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                    _ => {}
                }
            }
            Ok(Value::Other("(a collection)".into()))
        }
        _ => Err("is not a YAML document".into()),
    }
}

/// YAML 1.1 plain-scalar resolution as Psych's ScalarScanner does it, on the
/// safe side: anything that could load as a number, date or symbol is
/// `Other`, so it never passes for the brand's text.
fn resolve_plain(s: String) -> Value {
    let lower = s.to_ascii_lowercase();
    match lower.as_str() {
        "" | "~" | "null" => Value::Null,
        "true" | "yes" | "on" => Value::Bool(true),
        "false" | "no" | "off" => Value::Bool(false),
        _ if s.starts_with(|c: char| c.is_ascii_digit() || "+-.:".contains(c)) => Value::Other(s),
        _ => Value::Text(s),
    }
}

// ---- what to do ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// No row yet: created with [`Row::locked`].
    Insert,
    /// The row holds another value (or one Rails cannot read).
    Update,
    Unchanged,
}

/// One row's step: the row, what the table holds now, what to do.
#[derive(Debug, Clone)]
pub struct Step {
    pub row: Row,
    /// `None`: no row. `Some(Err)`: a value Rails cannot read.
    pub current: Option<std::result::Result<Value, String>>,
    /// The existing row's lock (kept as it is).
    pub current_locked: Option<bool>,
    pub action: Action,
}

/// An existing row as read from the table.
#[derive(Debug, Clone)]
pub struct Existing {
    pub serialized_value: serde_json::Value,
    pub locked: bool,
}

/// Compares each row with what the table holds, by the value Rails reads (so
/// a row Psych wrote in another quoting style is not rewritten).
pub fn plan(rows: &[Row], existing: &BTreeMap<String, Existing>) -> Vec<Step> {
    rows.iter()
        .map(|row| {
            let found = existing.get(&row.name);
            let current = found.map(|e| decode(&e.serialized_value));
            let action = match &current {
                None => Action::Insert,
                Some(Ok(v)) if *v == row.value => Action::Unchanged,
                Some(_) => Action::Update,
            };
            Step { row: row.clone(), current, current_locked: found.map(|e| e.locked), action }
        })
        .collect()
}

// ---- SQL ----

/// The statement run for each row that changes, with `$1` name, `$2`
/// serialized_value (jsonb), `$3` locked. `locked` is only set on insert.
/// Times are UTC like Rails writes them (the columns have no time zone).
pub const UPSERT_SQL: &str = "INSERT INTO installation_configs (name, serialized_value, locked, created_at, updated_at) \
VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') \
ON CONFLICT (name) DO UPDATE SET serialized_value = EXCLUDED.serialized_value, updated_at = EXCLUDED.updated_at";

/// The existing branding rows, locked until commit (`$1`: the names).
pub const SELECT_SQL: &str = "SELECT name, serialized_value, locked FROM installation_configs WHERE name = ANY($1)";

/// A SQL string literal (standard_conforming_strings: only `'` is special).
pub fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The statement with its parameters inlined as literals, runnable in psql.
pub fn upsert_with_literals(row: &Row) -> String {
    let json = serde_json::to_string(&row.stored()).expect("json");
    UPSERT_SQL
        .replace("$1", &sql_literal(&row.name))
        .replace("$2", &format!("{}::jsonb", sql_literal(&json)))
        .replace("$3", if row.locked { "true" } else { "false" })
}

/// The whole transaction as a psql script: what `--dry-run` prints.
pub fn script(steps: &[Step]) -> String {
    let mut out = String::from("BEGIN;\nSET LOCAL standard_conforming_strings = on;\n");
    for step in steps {
        match step.action {
            Action::Unchanged => out.push_str(&format!("-- {}: unchanged\n", step.row.name)),
            _ => out.push_str(&format!(
                "{};\n",
                upsert_with_literals(&step.row).replace(" ON CONFLICT", "\n  ON CONFLICT")
            )),
        }
    }
    out.push_str("COMMIT;\n");
    out
}

/// Whether a cached `{"value": …}` still holds `value`; unreadable is stale.
pub fn cache_is_current(cached: &str, value: &Value) -> bool {
    serde_json::from_str::<serde_json::Value>(cached)
        .ok()
        .and_then(|v| v.get("value").cloned())
        .is_some_and(|v| v == value.to_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    /// BRANDING_KEYS, NEW_ROW_LOCKED and DISPLAY_MANIFEST say what upstream's
    /// config/installation_config.yml says (the fixture copy, and the real
    /// file when shared/ is beside the checkout).
    #[test]
    fn constants_match_upstream_installation_config() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let files = [
            root.join("tests/fixtures/chatwoot-v3.15.0/config/installation_config.yml"),
            root.join("../shared/chatwoot-v3.15.0/config/installation_config.yml"),
        ];
        for file in files.iter().filter(|f| f.is_file()) {
            let docs = yaml_rust2::YamlLoader::load_from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
            let entries = docs[0].as_vec().unwrap();
            let names: Vec<&str> = entries.iter().map(|e| e["name"].as_str().unwrap()).collect();
            let at: Vec<usize> = BRANDING_KEYS.iter().map(|k| names.iter().position(|n| n == k).unwrap()).collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{}: branding keys out of order", file.display());
            for &i in &at {
                let locked = entries[i]["locked"].as_bool().unwrap_or(true);
                assert_eq!(locked, NEW_ROW_LOCKED, "{}: {}", file.display(), names[i]);
            }
            let manifest = &entries[at[9]];
            assert_eq!(manifest["value"].as_bool(), Some(DISPLAY_MANIFEST));
            assert_eq!(manifest["type"].as_str(), Some("boolean"));
        }
    }

    #[test]
    fn encodes_like_rails_dumps() {
        assert_eq!(
            encode(&Value::Bool(true)),
            "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nvalue: true\n"
        );
        // Psych writes exactly this for a value starting with `/`.
        assert_eq!(
            encode(&text("/brand-assets/logo.svg?v=1a2b3c4d")),
            "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nvalue: \"/brand-assets/logo.svg?v=1a2b3c4d\"\n"
        );
    }

    #[test]
    fn hostile_text_round_trips() {
        let cases = [
            "Nexa",
            "It's \"Q\": #1 - {brand.name} ${x} %{y} & <b>",
            "a: b # not a comment",
            "line one\nline two\r\n\ttab",
            "- leading dash",
            "  spaces  ",
            "",
            "yes",
            "null",
            "1.0",
            ":symbol",
            "@at `tick` |pipe >gt *star &amp !bang %pct",
            "Atendimento Ação 日本語 🚀",
            "nel\u{85}ls\u{2028}ps\u{2029}bom\u{feff}ff\u{ffff}fe\u{fffe}",
            "\u{0}\u{1}\u{7f}\u{9f}\\\\\"",
            "---\n...\n--- !ruby/object:Kernel",
        ];
        for s in cases {
            let doc = encode(&text(s));
            assert_eq!(doc.lines().count(), 2, "{s:?} → {doc:?}");
            assert_eq!(decode(&serde_json::Value::String(doc.clone())), Ok(text(s)), "{doc:?}");
        }
    }

    #[test]
    fn decodes_what_psych_writes() {
        let d = |y: &str| decode(&serde_json::Value::String(format!("--- {HASH_TAG}\n{y}")));
        assert_eq!(d("value: Chatwoot\n"), Ok(text("Chatwoot")));
        assert_eq!(d("value: https://www.chatwoot.com\n"), Ok(text("https://www.chatwoot.com")));
        assert_eq!(d("value: 'It''s'\n"), Ok(text("It's")));
        assert_eq!(d("value: |-\n  a\n  b\n"), Ok(text("a\nb")));
        // Psych's escapes for line separators and the like.
        assert_eq!(
            d("value: \"a\\Lb\\Nc\\Pd\\e\\x41\\uFEFF\"\n"),
            Ok(text("a\u{2028}b\u{85}c\u{2029}d\u{1b}A\u{feff}"))
        );
        assert_eq!(d("value: true\n"), Ok(Value::Bool(true)));
        assert_eq!(d("value: yes\n"), Ok(Value::Bool(true)));
        assert_eq!(d("value: 'yes'\n"), Ok(text("yes")));
        assert_eq!(d("value:\n"), Ok(Value::Null));
        assert_eq!(d("value: 3.15\n"), Ok(Value::Other("3.15".into())));
        assert_eq!(d("value:\n- a\n"), Ok(Value::Other("(a collection)".into())));
        assert_eq!(d("other: x\n"), Ok(Value::Null));
        assert_eq!(decode(&serde_json::json!({})), Ok(Value::Null));
        assert!(decode(&serde_json::json!("---\nvalue: x\n")).unwrap_err().contains("without"));
        assert!(decode(&serde_json::json!("Chatwoot")).is_err());
        assert!(decode(&serde_json::json!(3)).is_err());
    }

    #[test]
    fn plans_by_value_not_bytes() {
        let rows = vec![
            Row { name: "A".into(), value: text("Nexa"), locked: true },
            Row { name: "B".into(), value: text("Nexa"), locked: true },
            Row { name: "C".into(), value: Value::Bool(true), locked: true },
            Row { name: "D".into(), value: text("x"), locked: true },
        ];
        let stored =
            |y: &str| Existing { serialized_value: format!("--- {HASH_TAG}\nvalue: {y}\n").into(), locked: false };
        let existing = BTreeMap::from([
            ("A".to_string(), stored("Nexa")),
            ("B".to_string(), stored("Chatwoot")),
            ("C".to_string(), stored("true")),
        ]);
        let actions: Vec<Action> = plan(&rows, &existing).iter().map(|s| s.action).collect();
        assert_eq!(actions, [Action::Unchanged, Action::Update, Action::Unchanged, Action::Insert]);
    }

    #[test]
    fn literals_and_script() {
        assert_eq!(sql_literal("it's"), "'it''s'");
        let row = Row { name: "BRAND_NAME".into(), value: text("O'Brien \"\\\n$2"), locked: true };
        let sql = upsert_with_literals(&row);
        let literal = sql.split_once("'BRAND_NAME', '").unwrap().1.split_once("'::jsonb, true,").unwrap().0;
        let json: serde_json::Value = serde_json::from_str(&literal.replace("''", "'")).unwrap();
        assert_eq!(json, row.stored());
        let steps = plan(&[row], &BTreeMap::new());
        let script = script(&steps);
        assert!(script.starts_with("BEGIN;\n") && script.ends_with("COMMIT;\n"), "{script}");
    }

    #[test]
    fn cache_staleness() {
        assert!(cache_is_current(r#"{"value":"Nexa"}"#, &text("Nexa")));
        assert!(cache_is_current(r#"{"value":true}"#, &Value::Bool(true)));
        assert!(!cache_is_current(r#"{"value":"Chatwoot"}"#, &text("Nexa")));
        assert!(!cache_is_current(r#"{"value":"true"}"#, &Value::Bool(true)));
        assert!(!cache_is_current("garbage", &text("Nexa")));
    }
}
