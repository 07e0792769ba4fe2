//! Patch-set value templates: text with `{brand.name}`-style placeholders
//! filled from the brand pack. Only placeholder values are escaped for where
//! they land; the template's own text is written as is.

use crate::brand::Brand;

/// Placeholders a template may use.
const KNOWN: [&str; 19] = [
    "brand.id",
    "brand.digest8",
    "logos.mark_data_uri",
    "brand.name",
    "brand.short_name",
    "brand.company",
    "brand.locale",
    "urls.home",
    "urls.app",
    "urls.help",
    "urls.terms",
    "urls.privacy",
    "urls.widget",
    "mail.sender",
    "mail.sender_name",
    "mail.sender_address",
    "stack.domain",
    "colors.primary",
    "logos.icon_background",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(Vec<Part>);

impl Template {
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').ok_or_else(|| format!("unclosed placeholder in {text:?}"))? + open;
            let name = &rest[open + 1..close];
            let shade = name.strip_prefix("colors.").is_some_and(|s| crate::color::SHADES.contains(&s));
            if !KNOWN.contains(&name) && !shade {
                return Err(format!("unknown placeholder {{{name}}} in {text:?}"));
            }
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            parts.push(Part::Var(name.to_string()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template(parts))
    }

    /// Fills the placeholders, passing each value through `escape`.
    pub fn render(&self, brand: &Brand, escape: impl Fn(&str) -> String) -> String {
        self.bind(brand).render(escape)
    }

    /// Resolves the placeholders now; escaping is chosen later, per match.
    pub fn bind(&self, brand: &Brand) -> Bound {
        Bound(
            self.0
                .iter()
                .map(|p| match p {
                    Part::Text(t) => (false, t.clone()),
                    Part::Var(v) => (true, brand.var(v).unwrap_or_default()),
                })
                .collect(),
        )
    }
}

/// A template with its placeholder values resolved: (is a value, text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound(Vec<(bool, String)>);

impl Bound {
    /// The text with every value passed through `escape`.
    pub fn render(&self, escape: impl Fn(&str) -> String) -> String {
        self.0.iter().map(|(value, t)| if *value { escape(t) } else { t.clone() }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_placeholders_only() {
        assert!(Template::parse("Login to {brand.name}").is_ok());
        assert!(Template::parse("{colors.500}").is_ok());
        assert!(Template::parse("{colors.550}").unwrap_err().contains("unknown"));
        assert!(Template::parse("{nope}").unwrap_err().contains("unknown"));
        assert!(Template::parse("{brand.name").unwrap_err().contains("unclosed"));
    }
}
