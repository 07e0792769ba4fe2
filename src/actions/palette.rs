//! `action = "palette"`: upstream palette colors → brand shades, in every
//! form CSS and JS write them: `#1f93ff` (any case, with or without an alpha
//! suffix), `rgb(31 147 255 / …)` and `rgb(31, 147, 255)` / `rgba(...)`.

use std::collections::HashMap;

use regex::Regex;

use super::Outcome;
use crate::color::Rgb;

pub struct Palette {
    map: HashMap<Rgb, Rgb>,
    hex: Regex,
    rgb: Regex,
}

impl Palette {
    pub fn new(pairs: &[(Rgb, Rgb)]) -> Palette {
        let alternatives: Vec<String> = pairs.iter().map(|(from, _)| from.hex()[1..].to_string()).collect();
        let hex = Regex::new(&format!("(?i)#(?:{})", alternatives.join("|"))).expect("hex alternatives");
        let triples: Vec<String> =
            pairs.iter().map(|(f, _)| format!(r"{}(?:\s*,\s*|\s+){}(?:\s*,\s*|\s+){}\b", f.0, f.1, f.2)).collect();
        let rgb = Regex::new(&format!(r"rgba?\(\s*(?:{})", triples.join("|"))).expect("rgb alternatives");
        Palette { map: pairs.iter().copied().collect(), hex, rgb }
    }

    pub fn apply(&self, data: &[u8]) -> Result<Outcome, String> {
        let text = std::str::from_utf8(data).map_err(|_| "is not UTF-8 text".to_string())?;
        let mut count = 0;
        let bytes = text.as_bytes();
        let step1 = self.hex.replace_all(text, |c: &regex::Captures| {
            let m = c.get(0).expect("match");
            // `#1f93ffcc` keeps its alpha; `#1f93ffab12` is not a color.
            let tail = bytes[m.end()..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
            if tail != 0 && tail != 2 {
                return m.as_str().to_string();
            }
            let to = self.map[&Rgb::parse(m.as_str()).expect("matched hex")];
            count += 1;
            if m.as_str()[1..].chars().any(|c| c.is_ascii_uppercase()) { to.hex().to_uppercase() } else { to.hex() }
        });
        let step2 = self.rgb.replace_all(&step1, |c: &regex::Captures| {
            let m = c.get(0).expect("match").as_str();
            let nums: Vec<u8> =
                Regex::new(r"\d+").expect("digits").find_iter(m).map(|d| d.as_str().parse().unwrap_or(0)).collect();
            let Some(to) = self.map.get(&Rgb(nums[0], nums[1], nums[2])) else {
                return m.to_string();
            };
            count += 1;
            // Keep the separators: replace the three numbers in order.
            let mut parts = vec![to.0, to.1, to.2].into_iter();
            Regex::new(r"\d+")
                .expect("digits")
                .replace_all(m, |_: &regex::Captures| parts.next().unwrap_or(0).to_string())
                .into_owned()
        });
        Ok(if count > 0 {
            Outcome { bytes: Some(step2.into_owned().into_bytes()), counts: vec![count] }
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
        let out = String::from_utf8(out.bytes.unwrap()).unwrap();
        assert_eq!(
            out,
            ".a{color:#4b2fd6}.b{--w-500: #4B2FD6}.c{background:rgb(1 2 3 / var(--tw-bg-opacity))}.d{color:rgba(1, 2, 3, .5)}.e{color:#4b2fd680}.f{color:#1f93ff12ab}.g{color:rgb(0 144 2550)}"
        );
    }
}
