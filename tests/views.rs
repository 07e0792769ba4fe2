//! Brand values in server views, mailer code and locale files, judged by the
//! real parsers: Ruby's ERB (tag structure, compiled code, what a rendered
//! view shows), Ruby itself for `.rb` files, Psych for YAML and node for JS.
//! Every field that reaches a view is tried with every breaker of every
//! layer it lands in; what no escaping can make safe is refused by `check`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// What ends or opens something in one of the layers (ERB, Liquid, Ruby,
/// JS, YAML, vue-i18n).
const BREAKERS: [&str; 10] = ["%>", "-%>", "<%#", "{{", "}}", "\"", "'", "`", "${", "\\"];

/// The reproductions, on top of one value per breaker.
const REPROS: [&str; 4] = ["x%>);system(\"id\");(<%=y", "<%= 7*7 %>", "50%", "a\\%>b"];

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Nexa with these values in the fields that reach views.
fn pack(name: &str, short: &str, company: &str, sender: &str) -> tempfile::TempDir {
    let (name, short, company, sender) = (toml_str(name), toml_str(short), toml_str(company), toml_str(sender));
    nexa_variant(|t| {
        t.replacen("name = \"Nexa\"", &format!("name = {name}"), 1)
            .replacen("short_name = \"Nexa\"", &format!("short_name = {short}"), 1)
            .replacen("company = \"Nexa Tecnologia Ltda.\"", &format!("company = {company}"), 1)
            .lines()
            .map(|l| if l.starts_with("sender = ") { format!("sender = {sender}") } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn ruby_json(script: &str, args: &[&Path]) -> serde_json::Value {
    let o = Command::new("ruby")
        .arg(repo().join("tests/ruby").join(script))
        .args(args)
        .output()
        .expect("ruby is needed (.ci/services up installs it)");
    assert!(o.status.success(), "ruby {script} {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn html(s: &str) -> String {
    whitelabel::escape::html(s)
}

/// Every string Psych reads out of a YAML file (it fails on what it refuses).
fn psych_strings(file: &Path) -> Vec<String> {
    let script = "require 'psych'; require 'json'; \
        def walk(v, out) = case v when Hash then v.each_value { |x| walk(x, out) } when Array then v.each { |x| walk(x, out) } when String then out << v end; \
        out = []; walk(Psych.unsafe_load_file(ARGV[0]), out); puts JSON.generate(out)";
    let o = Command::new("ruby").args(["-e", script]).arg(file).output().expect("ruby");
    assert!(o.status.success(), "Psych refuses {}: {}", file.display(), String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn judge(name: &str, short: &str, company: &str, sender_name: &str) {
    let sender = format!("{sender_name} <mail@nexa.example>");
    let p = pack(name, short, company, &sender);
    let check = whitelabel(&["check", variant_dir(&p).to_str().unwrap()]);
    assert!(check.status.success(), "{name:?}: check refused: {}", String::from_utf8_lossy(&check.stderr));
    let (_t, out, _) = render(&variant_dir(&p), &fixture(), &[]);
    let overlay = files(&out);
    let ctx = format!("name {name:?} company {company:?} sender {sender:?}");

    let mut views = 0;
    for rel in overlay.keys().filter(|p| p.ends_with(".erb")) {
        views += 1;
        let v = ruby_json("erb_view.rb", &[&fixture().join(rel), &out.join(rel), Path::new("render")]);
        assert_eq!(v["kinds"], v["base_kinds"], "{ctx}: ERB tags of {rel} changed");
        assert_eq!(v["compiles"], v["base_compiles"], "{ctx}: {rel} does not compile: {}", v["error"]);
        // Views plain ERB cannot compile (Rails block helpers) show their text.
        let shown = v["rendered"].as_str().unwrap_or_else(|| text(&overlay[rel]));
        let expect = match rel.as_str() {
            // `|| 'Name'` and `alt: 'Name …'`: Ruby strings ERB outputs as is.
            "app/views/devise/mailer/confirmation_instructions.html.erb" => format!("to try {name}."),
            "app/views/super_admin/application/_navigation.html.erb" => {
                assert!(shown.contains(&format!("alt=\"{name} Admin Dashboard\"")), "{ctx}: {rel} shows:\n{shown}");
                format!("<div class=\"text-sm\">{} 3.15.0</div>", html(name))
            }
            "app/views/layouts/vueapp.html.erb" => format!("content=\"{} – {}\"", html(name), html(company)),
            _ => html(name),
        };
        assert!(shown.contains(&expect), "{ctx}: {rel} does not show {expect:?}:\n{shown}");
    }
    assert_eq!(views, 6, "{ctx}: the six patched views (the super-admin settings alert among them)");

    let mut senders = 0;
    for rel in overlay.keys().filter(|p| p.ends_with(".rb")) {
        let strings = ruby_json("rb_strings.rb", &[&out.join(rel)]);
        senders += strings["strings"].as_array().unwrap().iter().filter(|s| s.as_str() == Some(&sender)).count();
    }
    assert_eq!(senders, 4, "{ctx}: Ruby reads the sender back from the four mailer files");

    for rel in overlay.keys().filter(|p| p.ends_with(".yml")) {
        let strings = psych_strings(&out.join(rel));
        if rel.starts_with("config/locales/") {
            assert!(
                strings.iter().any(|s| s.replace("%%", "%").contains(name)),
                "{ctx}: Psych does not read the name back from {rel}"
            );
        }
    }
    for (rel, bytes) in overlay.iter().filter(|(p, _)| p.ends_with(".js")) {
        node_check(rel, bytes).unwrap_or_else(|e| panic!("{ctx}: {e}"));
    }
}

#[test]
fn every_view_field_survives_every_breaker() {
    for b in BREAKERS {
        // The sender's name may hold neither `<`, `>` nor `"` (it is parsed).
        let sender_name = if b.contains(['<', '>', '"']) {
            format!("Mail{}", b.replace(['<', '>', '"'], ""))
        } else {
            format!("Mail {b}")
        };
        judge(&format!("A{b}B"), &format!("S{b}"), &format!("C{b} Ltd"), &sender_name);
    }
    for r in REPROS {
        judge(r, r, r, "Nexa % \\ ' {{x}}");
    }
}

#[test]
fn line_breaks_are_refused_in_every_one_line_field() {
    let fields = ["brand.name", "brand.short_name", "brand.company", "mail.sender"];
    for c in ['\n', '\r', '\0', '\t', '\u{85}', '\u{2028}', '\u{2029}'] {
        for field in fields {
            let v = |f: &str, ok: &str| if f == field { format!("A{c}B") } else { ok.to_string() };
            let sender = if field == "mail.sender" {
                format!("Na{c}me <m@nexa.example>")
            } else {
                "Nexa <m@nexa.example>".into()
            };
            let p = pack(
                &v("brand.name", "Nexa"),
                &v("brand.short_name", "Nexa"),
                &v("brand.company", "Nexa Ltda."),
                &sender,
            );
            let o = whitelabel(&["check", variant_dir(&p).to_str().unwrap()]);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "{field} with U+{:04X}: {err}", c as u32);
            assert!(err.contains(field) && err.contains(&format!("U+{:04X}", c as u32)), "{field}: {err}");
            assert!(err.contains("keep it on one line"), "{err}");
        }
    }
}

/// A view damaged behind the engine's back (as a wrong escape kind would):
/// the audit names it, and `build` refuses it even with --allow-leaks.
#[test]
fn a_damaged_view_is_an_audit_error() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("app");
    copy_dir(&fixture(), &tree);
    let view = tree.join("app/views/devise/mailer/confirmation_instructions.html.erb");
    let text = std::fs::read_to_string(&view).unwrap().replace("|| 'Chatwoot'", "|| 'x%>);system(\"id\");(<%=y'");
    std::fs::write(&view, text).unwrap();
    let o = whitelabel(&["audit", tree.to_str().unwrap(), "--base", fixture().to_str().unwrap(), "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    });
    let findings = report["findings"].as_array().unwrap();
    let damaged = findings
        .iter()
        .find(|f| {
            f["category"] == "syntax" && f["path"] == "app/views/devise/mailer/confirmation_instructions.html.erb"
        })
        .unwrap_or_else(|| panic!("no syntax finding: {report:#}"));
    assert!(damaged["excerpt"].as_str().unwrap().contains("ERB tag structure changed"), "{damaged}");
    assert_ne!(o.status.code(), Some(0));
}
