//! String literals of a JavaScript file that hold *text*, not code.
//!
//! A literal is code, and never patched, when it is compared (`=== "Chatwoot"`,
//! `in`, `switch` cases, `.includes()`-style matching, `RegExp(...)`), used as
//! a property key or member name, or is a module specifier. A hoisted
//! `const x = "..."` is code when `x` is ever compared. Regex literals and
//! identifiers are not literals at all. Literals that are values of i18n keys
//! (`TITLE: "..."`, directly or through a hoisted const) are flagged so that
//! vue-i18n message syntax gets escaped in them.

use std::collections::{HashMap, HashSet};

use oxc_allocator::Allocator;
use oxc_ast::ast::*;
use oxc_ast_visit::{Visit, walk};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType};

use crate::escape::Quote;

/// The body (between the quotes) of one patchable literal piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub start: usize,
    pub end: usize,
    pub quote: Quote,
    /// Holds a vue-i18n message.
    pub i18n: bool,
    /// Used as code (compared, a key, a module name): never patched.
    pub code: bool,
}

/// Method names whose string arguments are matched against, not shown.
const MATCHING_METHODS: [&str; 10] = [
    "includes",
    "indexOf",
    "lastIndexOf",
    "startsWith",
    "endsWith",
    "match",
    "matchAll",
    "search",
    "replace",
    "replaceAll",
];

/// Parses `src` and returns its patchable literals in source order, or the
/// parser's first error.
pub fn patchable_literals(src: &str, i18n_keys: Option<&regex::Regex>) -> Result<Vec<Literal>, String> {
    Ok(classified(src, i18n_keys)?.into_iter().filter(|l| !l.code).collect())
}

/// Every string literal piece of `src`, text and code alike (the audit
/// compares code literals before and after). With `json`, `src` is a JSON
/// document (a source-map source), parsed as an expression.
pub fn literals(src: &str, json: bool) -> Result<Vec<Literal>, String> {
    if !json {
        return classified(src, None);
    }
    let wrapped = format!("({src}\n)");
    let mut out = classified(&wrapped, None)?;
    for l in &mut out {
        l.start -= 1;
        l.end -= 1;
    }
    Ok(out)
}

fn classified(src: &str, i18n_keys: Option<&regex::Regex>) -> Result<Vec<Literal>, String> {
    let allocator = Allocator::default();
    let mut ret = Parser::new(&allocator, src, SourceType::mjs()).parse();
    if ret.panicked || !ret.diagnostics.is_empty() {
        // Classic scripts (the widget SDK) may use sloppy-mode syntax.
        let retry = Parser::new(&allocator, src, SourceType::cjs()).parse();
        if retry.panicked || !retry.diagnostics.is_empty() {
            return Err(describe(src, &ret.diagnostics));
        }
        ret = retry;
    }
    let mut v = Collector { src, i18n_keys, ..Default::default() };
    v.visit_program(&ret.program);
    let mut out = Vec::new();
    for (owner, start, end, quote) in v.pieces {
        let hoisted = v.consts.get(&owner).map(String::as_str);
        let code = v.code.contains(&owner) || hoisted.is_some_and(|n| v.compared.contains(n));
        let i18n = !code && (v.i18n.contains(&owner) || hoisted.is_some_and(|n| v.i18n_idents.contains(n)));
        out.push(Literal { start, end, quote, i18n, code });
    }
    out.sort_by_key(|l| l.start);
    Ok(out)
}

/// True when `src` parses as JavaScript (module or script).
pub fn parses(src: &str) -> Result<(), String> {
    let allocator = Allocator::default();
    let ret = Parser::new(&allocator, src, SourceType::mjs()).parse();
    if !ret.panicked && ret.diagnostics.is_empty() {
        return Ok(());
    }
    let retry = Parser::new(&allocator, src, SourceType::cjs()).parse();
    if !retry.panicked && retry.diagnostics.is_empty() {
        return Ok(());
    }
    Err(describe(src, &ret.diagnostics))
}

fn describe(src: &str, diagnostics: &[oxc_diagnostics::OxcDiagnostic]) -> String {
    match diagnostics.first() {
        Some(d) => {
            let offset = d.labels.first().map(|l| l.offset() as usize).unwrap_or(0);
            let line = src[..offset.min(src.len())].matches('\n').count() + 1;
            format!("line {line}: {}", d.message)
        }
        None => "the parser gave up".into(),
    }
}

#[derive(Default)]
struct Collector<'s> {
    src: &'s str,
    i18n_keys: Option<&'s regex::Regex>,
    /// (owner span start, body start, body end, quote) for every literal piece.
    pieces: Vec<(u32, usize, usize, Quote)>,
    code: HashSet<u32>,
    i18n: HashSet<u32>,
    /// Hoisted `const x = "..."`: literal owner → name.
    consts: HashMap<u32, String>,
    compared: HashSet<String>,
    i18n_idents: HashSet<String>,
}

enum Mark {
    Code,
    I18n,
}

impl Collector<'_> {
    fn mark(&mut self, e: &Expression, how: &Mark) {
        match e {
            Expression::StringLiteral(s) => self.mark_owner(s.span.start, how),
            Expression::TemplateLiteral(t) => self.mark_owner(t.span.start, how),
            Expression::Identifier(id) => {
                let set = match how {
                    Mark::Code => &mut self.compared,
                    Mark::I18n => &mut self.i18n_idents,
                };
                set.insert(id.name.to_string());
            }
            Expression::ParenthesizedExpression(p) => self.mark(&p.expression, how),
            Expression::ConditionalExpression(c) if matches!(how, Mark::I18n) => {
                self.mark(&c.consequent, how);
                self.mark(&c.alternate, how);
            }
            _ => {}
        }
    }

    fn mark_owner(&mut self, owner: u32, how: &Mark) {
        match how {
            Mark::Code => self.code.insert(owner),
            Mark::I18n => self.i18n.insert(owner),
        };
    }

    fn is_i18n_key(&self, key: &PropertyKey) -> bool {
        match (self.i18n_keys, key.static_name()) {
            (Some(re), Some(name)) => re.is_match(&name),
            _ => false,
        }
    }
}

impl<'a> Visit<'a> for Collector<'_> {
    fn visit_string_literal(&mut self, it: &StringLiteral<'a>) {
        let (s, e) = (it.span.start as usize, it.span.end as usize);
        if e >= s + 2
            && let Some(q) = Quote::from_char(self.src.as_bytes()[s])
        {
            self.pieces.push((it.span.start, s + 1, e - 1, q));
        }
    }

    fn visit_template_literal(&mut self, it: &TemplateLiteral<'a>) {
        for q in &it.quasis {
            let raw = q.value.raw.as_str();
            if raw.is_empty() {
                continue;
            }
            let (start, end) = (q.span.start as usize, q.span.end as usize);
            // The element's span is its raw text; look it up only if not.
            let start =
                if &self.src[start..end] == raw { start } else { start + self.src[start..end].find(raw).unwrap_or(0) };
            self.pieces.push((it.span.start, start, start + raw.len(), Quote::Backtick));
        }
        for e in &it.expressions {
            self.visit_expression(e);
        }
    }

    fn visit_binary_expression(&mut self, it: &BinaryExpression<'a>) {
        if it.operator.is_equality() || it.operator == BinaryOperator::In {
            self.mark(&it.left, &Mark::Code);
            self.mark(&it.right, &Mark::Code);
        }
        walk::walk_binary_expression(self, it);
    }

    fn visit_switch_case(&mut self, it: &SwitchCase<'a>) {
        if let Some(test) = &it.test {
            self.mark(test, &Mark::Code);
        }
        walk::walk_switch_case(self, it);
    }

    fn visit_call_expression(&mut self, it: &CallExpression<'a>) {
        let matching = match &it.callee {
            Expression::Identifier(id) => id.name == "RegExp",
            e => e
                .get_member_expr()
                .and_then(|m| m.static_property_name())
                .is_some_and(|n| MATCHING_METHODS.contains(&n)),
        };
        if matching && let Some(first) = it.arguments.first().and_then(|a| a.as_expression()) {
            self.mark(first, &Mark::Code);
        }
        walk::walk_call_expression(self, it);
    }

    fn visit_new_expression(&mut self, it: &NewExpression<'a>) {
        if matches!(&it.callee, Expression::Identifier(id) if id.name == "RegExp") {
            for a in it.arguments.iter().filter_map(|a| a.as_expression()) {
                self.mark(a, &Mark::Code);
            }
        }
        walk::walk_new_expression(self, it);
    }

    fn visit_property_key(&mut self, it: &PropertyKey<'a>) {
        match it {
            PropertyKey::StringLiteral(s) => self.mark_owner(s.span.start, &Mark::Code),
            PropertyKey::TemplateLiteral(t) => self.mark_owner(t.span.start, &Mark::Code),
            _ => {}
        }
        walk::walk_property_key(self, it);
    }

    fn visit_object_property(&mut self, it: &ObjectProperty<'a>) {
        if !it.computed && self.is_i18n_key(&it.key) {
            self.mark(&it.value, &Mark::I18n);
        }
        walk::walk_object_property(self, it);
    }

    fn visit_computed_member_expression(&mut self, it: &ComputedMemberExpression<'a>) {
        self.mark(&it.expression, &Mark::Code);
        walk::walk_computed_member_expression(self, it);
    }

    fn visit_variable_declarator(&mut self, it: &VariableDeclarator<'a>) {
        if let (Some(name), Some(init)) = (it.id.get_identifier_name(), &it.init) {
            let owner = match init {
                Expression::StringLiteral(s) => Some(s.span.start),
                Expression::TemplateLiteral(t) if t.expressions.is_empty() => Some(t.span.start),
                _ => None,
            };
            if let Some(owner) = owner {
                self.consts.insert(owner, name.to_string());
            }
        }
        walk::walk_variable_declarator(self, it);
    }

    fn visit_directive(&mut self, it: &Directive<'a>) {
        self.mark_owner(it.expression.span.start, &Mark::Code);
    }

    fn visit_import_declaration(&mut self, it: &ImportDeclaration<'a>) {
        self.mark_owner(it.source.span.start, &Mark::Code);
        walk::walk_import_declaration(self, it);
    }

    fn visit_export_all_declaration(&mut self, it: &ExportAllDeclaration<'a>) {
        self.mark_owner(it.source.span.start, &Mark::Code);
        walk::walk_export_all_declaration(self, it);
    }

    fn visit_export_from_declaration(&mut self, it: &ExportFromDeclaration<'a>) {
        self.mark_owner(it.source.span.start, &Mark::Code);
        walk::walk_export_from_declaration(self, it);
    }

    fn visit_import_expression(&mut self, it: &ImportExpression<'a>) {
        self.mark_owner(it.source.span().start, &Mark::Code);
        walk::walk_import_expression(self, it);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(src: &str) -> Vec<(String, bool)> {
        let re = regex::Regex::new("^[A-Z][A-Z0-9_]*$").unwrap();
        patchable_literals(src, Some(&re))
            .unwrap()
            .into_iter()
            .map(|l| (src[l.start..l.end].to_string(), l.i18n))
            .collect()
    }

    #[test]
    fn text_literals_are_found_in_all_quote_styles() {
        let b = bodies(r#"const e={LOGIN:{TITLE:"Login to Chatwoot",SUB:'It\'s Chatwoot'}};let t=`Hi ${n} Chatwoot`;"#);
        assert_eq!(
            b,
            vec![
                ("Login to Chatwoot".into(), true),
                (r"It\'s Chatwoot".into(), true),
                ("Hi ".into(), false),
                (" Chatwoot".into(), false)
            ]
        );
    }

    #[test]
    fn code_literals_are_left_alone() {
        let src = r#"import a from "./Chatwoot.js";
const g={isAChatwootInstance:s=>s.installationName==="Chatwoot",b:s=>"Chatwoot"!==s.x};
switch(x){case "Chatwoot":break}
const r=/Chatwoot/g; y.replace(/Chatwoot/g,n); z.includes("Chatwoot"); new RegExp("Chatwoot");
o["Chatwoot"]=1; const k={"Chatwoot":1}; "Chatwoot" in o;"#;
        assert_eq!(bodies(src), Vec::<(String, bool)>::new());
    }

    #[test]
    fn hoisted_consts_follow_their_uses() {
        let src = r#"const a="Powered by Chatwoot",b="Chatwoot";const m={POWERED_BY:a};if(n===b)f();"#;
        assert_eq!(bodies(src), vec![("Powered by Chatwoot".into(), true)]);
    }

    #[test]
    fn syntax_errors_are_reported_with_a_line() {
        assert!(patchable_literals("let x = \"a\";\nlet = = 2;", None).unwrap_err().starts_with("line 2"));
        assert!(parses("let x = 1;").is_ok());
    }
}
