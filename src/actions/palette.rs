//! `action = "palette"`: upstream palette colors → brand shades, in every
//! form CSS and JS write them: `#1f93ff` (any case, with or without an alpha
//! suffix), `rgb(31 147 255 / …)` and `rgb(31, 147, 255)` / `rgba(...)`.

use std::collections::HashMap;

use regex::Regex;

use super::Outcome;
use crate::color::Rgb;
use crate::edits::Edit;

pub struct Palette {
    map: HashMap<Rgb, Rgb>,
    /// Group `hex`: a `#rrggbb`; group `rgb`: the numbers of an `rgb(` form.
    any: Regex,
    digits: Regex,
}

impl Palette {
    pub fn new(pairs: &[(Rgb, Rgb)]) -> Palette {
        let hexes: Vec<String> = pairs.iter().map(|(from, _)| from.hex()[1..].to_string()).collect();
        let triples: Vec<String> =
            pairs.iter().map(|(f, _)| format!(r"{}(?:\s*,\s*|\s+){}(?:\s*,\s*|\s+){}\b", f.0, f.1, f.2)).collect();
        let any = format!(r"(?P<hex>(?i:#(?:{})))|rgba?\(\s*(?P<rgb>{})", hexes.join("|"), triples.join("|"));
        Palette {
            map: pairs.iter().copied().collect(),
            any: Regex::new(&any).expect("palette alternatives"),
            digits: Regex::new(r"\d+").expect("digits"),
        }
    }

    pub fn apply(&self, data: &[u8]) -> Result<Outcome, String> {
        let text = std::str::from_utf8(data).map_err(|_| "is not UTF-8 text".to_string())?;
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut edits = Vec::new();
        let mut pos = 0;
        for caps in self.any.captures_iter(text) {
            let (m, new) = if let Some(m) = caps.name("hex") {
                // `#1f93ffcc` keeps its alpha; `#1f93ffab12` is not a color.
                let tail = bytes[m.end()..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
                if tail != 0 && tail != 2 {
                    continue;
                }
                let to = self.map[&Rgb::parse(m.as_str()).expect("matched hex")];
                let upper = m.as_str()[1..].chars().any(|c| c.is_ascii_uppercase());
                (m, if upper { to.hex().to_uppercase() } else { to.hex() })
            } else {
                let m = caps.name("rgb").expect("one group matched");
                let nums: Vec<u8> =
                    self.digits.find_iter(m.as_str()).map(|d| d.as_str().parse().unwrap_or(0)).collect();
                let Some(to) = self.map.get(&Rgb(nums[0], nums[1], nums[2])) else { continue };
                // Keep the separators: replace the three numbers in order.
                let mut parts = [to.0, to.1, to.2].into_iter();
                let new =
                    self.digits.replace_all(m.as_str(), |_: &regex::Captures| parts.next().unwrap_or(0).to_string());
                (m, new.into_owned())
            };
            out.push_str(&text[pos..m.start()]);
            edits.push(Edit { at: m.start(), old_len: m.len(), new_len: new.len() });
            out.push_str(&new);
            pos = m.end();
        }
        out.push_str(&text[pos..]);
        let count = edits.len();
        Ok(if count > 0 {
            Outcome { bytes: Some(out.into_bytes()), counts: vec![count], edits: Some(edits) }
        } else {
            Outcome::unchanged(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_is_mapped() {
        let p = Palette::new(&[(Rgb(0x1f, 0x93, 0xff), Rgb(0x4b, 0x2f, 0xd6)), (Rgb(0, 144, 255), Rgb(1, 2, 3))]);
        let css = ".a{color:#1f93ff}.b{--w-500: #1F93FF}.c{background:rgb(0 144 255 / var(--tw-bg-opacity))}.d{color:rgba(0, 144, 255, .5)}.e{color:#1f93ff80}.f{color:#1f93ff12ab}.g{color:rgb(0 144 2550)}";
        let out = p.apply(css.as_bytes()).unwrap();
        assert_eq!(out.edits.as_ref().unwrap().len(), 5);
        let out = String::from_utf8(out.bytes.unwrap()).unwrap();
        assert_eq!(
            out,
            ".a{color:#4b2fd6}.b{--w-500: #4B2FD6}.c{background:rgb(1 2 3 / var(--tw-bg-opacity))}.d{color:rgba(1, 2, 3, .5)}.e{color:#4b2fd680}.f{color:#1f93ff12ab}.g{color:rgb(0 144 2550)}"
        );
    }
}
