//! The brand's `[strings.<locale>]` overrides: `check` refuses an unknown
//! locale or key (naming the closest) and changed placeholders; a render over
//! the every-locale tree puts the brand's wording, hostile characters
//! included, into the dashboard, widget and survey messages (evaluated by
//! node, displayed by vue-i18n's own compiler), their maps' JSON sources, and
//! the Rails YAML (loaded by Psych, interpolated by rails-i18n).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// Every character that means something to vue-i18n, JS quoting, Rails
/// interpolation or ERB, none forming a placeholder.
const HOSTILE: &str = "Entre 'já' \"agora\" `crase` ${ aberto { | @ %{ %> 100% a\\b";

fn with_strings(table: &str) -> tempfile::TempDir {
    nexa_variant(|toml| format!("{toml}\n{table}\n"))
}

fn check(table: &str) -> (bool, String) {
    let pack = with_strings(table);
    let o = whitelabel(&["check", variant_dir(&pack).to_str().unwrap()]);
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn check_refuses_unknown_locales_and_keys_naming_the_closest() {
    let (ok, out) = check("[strings.pt_BX]\n\"LOGIN.TITLE\" = \"Entrar\"");
    assert!(!ok, "{out}");
    assert!(out.contains("brand.toml") && out.contains("strings.pt_BX"), "file and field: {out}");
    assert!(out.contains("[strings.pt_BR]"), "the closest locale: {out}");

    let (ok, out) = check("[strings.pt_BR]\n\"INTEGRATION_SETTINGS.SLACK.HELP_TEXT.BODYY\" = \"x\"");
    assert!(!ok, "{out}");
    assert!(out.contains("strings.pt_BR.\"INTEGRATION_SETTINGS.SLACK.HELP_TEXT.BODYY\""), "field: {out}");
    assert!(out.contains("did you mean \"INTEGRATION_SETTINGS.SLACK.HELP_TEXT.BODY\""), "closest key: {out}");

    // A Rails key is a key too, and a near miss names it.
    let (ok, out) = check("[strings.pt_BR]\n\"errors.signup.disposable_mail\" = \"x\"");
    assert!(!ok && out.contains("did you mean \"errors.signup.disposable_email\""), "{out}");
}

#[test]
fn check_refuses_changed_placeholders_and_accepts_kept_ones() {
    for (key, text, have, original) in [
        ("SURVEY.DESCRIPTION", "Fale de {inbox}", "{inbox}", "{inboxName}"),
        ("SURVEY.DESCRIPTION", "Sem nome", "", "{inboxName}"),
        ("errors.signup.email_already_exists", "Já existe: {email}", "{email}", "%{email}"),
        ("LOGIN.TITLE", "Entrar @:LOGIN.OTHER", "@:LOGIN.OTHER", ""),
    ] {
        let (ok, out) = check(&format!("[strings.pt_BR]\n\"{key}\" = {text:?}"));
        assert!(!ok, "{key} = {text:?} passed: {out}");
        assert!(out.contains(&format!("has placeholders [{have}], the original has [{original}]")), "{key}: {out}");
        assert!(out.contains("keep exactly the original's placeholders"), "the fix: {out}");
    }
    let (ok, out) = check(
        "[strings.pt_BR]\n\"SURVEY.DESCRIPTION\" = \"Conte como foi com {inboxName}!\"\n\
         \"errors.signup.email_already_exists\" = \"Já existe uma conta com %{email}\"",
    );
    assert!(ok, "kept placeholders pass: {out}");
}

#[test]
fn a_bad_override_stops_the_render_too() {
    let pack = with_strings("[strings.pt_BR]\n\"LOGIN.TITEL\" = \"Entrar\"");
    let tmp = tempfile::tempdir().unwrap();
    let o = render_cmd(variant_dir(&pack).to_str().unwrap(), &fixture(), &tmp.path().join("o"), &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("did you mean \"LOGIN.TITLE\""), "{err}");
    assert!(!tmp.path().join("o").exists(), "nothing written");
}

/// `value` of a Rails locale file, as Psych loads it and rails-i18n interpolates it.
fn rails(file: &Path, path: &[&str], values: &str) -> String {
    let dig: Vec<String> = path.iter().map(|p| format!("{p:?}")).collect();
    let o = Command::new("ruby")
        .args(["-ryaml", "-ri18n", "-e"])
        .arg(format!(
            "v = YAML.safe_load(File.read(ARGV[0])).dig({}); print I18n.interpolate(v, {{{values}}})",
            dig.join(",")
        ))
        .arg(file)
        .output()
        .expect("ruby with the i18n gem is needed (apt-get install ruby ruby-i18n)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn overrides_reach_every_message_object_map_and_rails_file_literally() {
    let Some(shared) = locales::shared(&repo()) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    copy_dir(&fixture(), &app);
    locales::lay_out(&shared, &app);
    let pack = with_strings(&format!(
        "[strings.pt_BR]\n\
         \"LOGIN.TITLE\" = {HOSTILE:?}\n\
         \"INTEGRATION_SETTINGS.SLACK.HELP_TEXT.BODY\" = \"<p>O Nexa sincroniza as conversas do Slack.</p>\"\n\
         \"TEAM_AVAILABILITY.ONLINE\" = {HOSTILE:?}\n\
         \"SURVEY.DESCRIPTION\" = \"Como foi com {{inboxName}}? 'Conte' | @\"\n\
         \"errors.signup.disposable_email\" = {HOSTILE:?}\n\
         \"errors.signup.email_already_exists\" = \"Já existe uma conta Nexa com %{{email}} (100%)\"\n\
         [strings.fi]\n\"LOGIN.TITLE\" = \"Kirjaudu Nexaan\"\n"
    ));
    let (_o, out, report) = render(&variant_dir(&pack), &app, &[]);
    // A changed content-named chunk is in the overlay under its new name.
    let at = |p: &str| out.join(served_path(&report, &format!("public/vite/assets/{p}")));

    let dashboard = locales::evaluate(&at("dashboard-locales-AbC123xy.js"));
    let widget = locales::evaluate(&at("widget-locales-Wd3e4f5a.js"));
    let survey = locales::evaluate(&at("survey-locales-Sv6b7c8d.js"));
    let messages: Vec<String> = [
        &dashboard["pt_BR"]["LOGIN"]["TITLE"],
        &widget["pt_BR"]["TEAM_AVAILABILITY"]["ONLINE"],
        &dashboard["pt_BR"]["INTEGRATION_SETTINGS"]["SLACK"]["HELP_TEXT"]["BODY"],
        &survey["pt_BR"]["SURVEY"]["DESCRIPTION"],
        &dashboard["fi"]["LOGIN"]["TITLE"],
        &dashboard["pt"]["LOGIN"]["TITLE"],
    ]
    .iter()
    .map(|v| v.as_str().unwrap().to_string())
    .collect();
    let shown = vue_i18n_display(&messages);
    assert_eq!(shown[0], HOSTILE, "the dashboard shows the override literally");
    assert_eq!(shown[1], HOSTILE, "the widget shows the override literally");
    assert_eq!(shown[2], "<p>O Nexa sincroniza as conversas do Slack.</p>");
    assert!(messages[3].contains("{inboxName}"), "the placeholder stays syntax: {:?}", messages[3]);
    assert_eq!(shown[3], "Como foi com ? 'Conte' | @", "the rest is literal");
    assert_eq!(shown[4], "Kirjaudu Nexaan", "another locale");
    assert!(
        shown[5].contains("Nexa") && shown[5] != HOSTILE,
        "pt (not pt_BR) keeps the name replacement: {}",
        shown[5]
    );
    // Other messages of the locale are untouched by the override.
    assert_eq!(dashboard["pt_BR"]["LOGIN"]["EMAIL"]["LABEL"], "e-mail");

    // The maps' JSON sources say the same.
    let map: serde_json::Value =
        serde_json::from_slice(&std::fs::read(at("dashboard-locales-AbC123xy.js.map")).unwrap()).unwrap();
    let sources = map["sources"].as_array().unwrap();
    let login = sources.iter().position(|s| s.as_str().unwrap().ends_with("/pt_BR/login.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(map["sourcesContent"][login].as_str().unwrap()).unwrap();
    assert_eq!(vue_i18n_display(&[json["LOGIN"]["TITLE"].as_str().unwrap().to_string()])[0], HOSTILE);
    let said = |path: &str| {
        report["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == served_path(&report, path).as_str() && f["rules"].to_string().contains("strings"))
    };
    assert!(
        said("public/vite/assets/survey-locales-Sv6b7c8d.js"),
        "the report says the chunk holds the brand's wording"
    );
    assert!(said("public/vite/assets/survey-locales-Sv6b7c8d.js.map") && said("config/locales/pt_BR.yml"));

    // Rails: Psych loads it, rails-i18n shows it.
    let yml = out.join("config/locales/pt_BR.yml");
    let hostile_rails = rails(&yml, &["pt_BR", "errors", "signup", "disposable_email"], "x: 1");
    assert_eq!(hostile_rails, HOSTILE);
    let email = rails(&yml, &["pt_BR", "errors", "signup", "email_already_exists"], "email: \"a@b.c\"");
    assert_eq!(email, "Já existe uma conta Nexa com a@b.c (100%)");
    let neighbour = rails(&yml, &["pt_BR", "errors", "signup", "invalid_email"], "x: 1");
    assert_eq!(neighbour, "Você digitou um email inválido", "the rest of the file is as it was");
    for chunk in ["dashboard-locales-AbC123xy.js", "widget-locales-Wd3e4f5a.js", "survey-locales-Sv6b7c8d.js"] {
        node_check(chunk, &std::fs::read(at(chunk)).unwrap()).unwrap();
    }
}

#[test]
fn the_shipped_catalogue_is_built_from_the_upstream_data() {
    let Some(shared) = locales::shared(&repo()) else { return };
    let fresh = whitelabel::overrides::Catalogue::build(&shared).unwrap();
    let shipped = whitelabel::overrides::Catalogue::read(
        &std::fs::read(repo().join("patches/chatwoot-v3.15.0/strings-catalogue.json.gz")).unwrap(),
    )
    .unwrap();
    assert!(fresh == shipped, "regenerate it: cargo run --example strings_catalogue (see patchset.toml)");
    assert!(shipped.locales.len() > 40 && shipped.locales["pt_BR"].len() > 3000, "every locale, every app");
}
