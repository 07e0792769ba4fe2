//! Colors: hex parsing and formatting, the brand palette derived from the
//! primary color, and WCAG contrast figures.

use std::collections::BTreeMap;
use std::fmt;

/// An sRGB color with 8-bit channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The shade keys of a palette, lightest first (the Tailwind/Chatwoot ladder).
pub const SHADES: [&str; 12] = ["25", "50", "75", "100", "200", "300", "400", "500", "600", "700", "800", "900"];

impl Rgb {
    /// Parses `#rgb` or `#rrggbb` (any case).
    pub fn parse(text: &str) -> Option<Rgb> {
        let hex = text.strip_prefix('#')?;
        let digits: Vec<u8> = hex.chars().map(|c| c.to_digit(16).map(|d| d as u8)).collect::<Option<_>>()?;
        match digits.as_slice() {
            [r, g, b] => Some(Rgb(r * 17, g * 17, b * 17)),
            [r1, r2, g1, g2, b1, b2] => Some(Rgb(r1 * 16 + r2, g1 * 16 + g2, b1 * 16 + b2)),
            _ => None,
        }
    }

    /// `#rrggbb` in lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2.x relative luminance.
    pub fn luminance(self) -> f64 {
        fn channel(c: u8) -> f64 {
            let c = c as f64 / 255.0;
            if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        }
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    /// WCAG contrast ratio between two colors (1.0 to 21.0).
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        let (hi, lo) = if a > b { (a, b) } else { (b, a) };
        (hi + 0.05) / (lo + 0.05)
    }

    /// Linear mix in sRGB space: `t = 0` is `self`, `t = 1` is `other`.
    pub fn mix(self, other: Rgb, t: f64) -> Rgb {
        let m = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round().clamp(0.0, 255.0) as u8;
        Rgb(m(self.0, other.0), m(self.1, other.1), m(self.2, other.2))
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

pub const WHITE: Rgb = Rgb(255, 255, 255);
pub const BLACK: Rgb = Rgb(0, 0, 0);

/// A full palette: every key of [`SHADES`] mapped to a color.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette(pub BTreeMap<&'static str, Rgb>);

impl Palette {
    /// Derives the ladder from `primary` (which becomes shade 500) by mixing
    /// towards white for the light shades and towards black for the dark ones,
    /// then applies any explicit overrides.
    pub fn derive(primary: Rgb, overrides: &BTreeMap<String, Rgb>) -> Palette {
        // How far each shade moves from the primary; tuned to resemble the
        // spacing of common UI palettes (Tailwind, Radix).
        const STEPS: [(&str, f64); 12] = [
            ("25", 0.97),
            ("50", 0.93),
            ("75", 0.87),
            ("100", 0.80),
            ("200", 0.62),
            ("300", 0.45),
            ("400", 0.25),
            ("500", 0.0),
            ("600", -0.12),
            ("700", -0.30),
            ("800", -0.50),
            ("900", -0.75),
        ];
        let mut shades = BTreeMap::new();
        for (key, t) in STEPS {
            let color = if t >= 0.0 { primary.mix(WHITE, t) } else { primary.mix(BLACK, -t) };
            shades.insert(key, overrides.get(key).copied().unwrap_or(color));
        }
        Palette(shades)
    }

    pub fn get(&self, shade: &str) -> Option<Rgb> {
        self.0.get(shade).copied()
    }

    /// Shades in ladder order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Rgb)> + '_ {
        SHADES.iter().filter_map(|k| self.0.get(k).map(|c| (*k, *c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_short_and_long_hex() {
        assert_eq!(Rgb::parse("#1F93ff"), Some(Rgb(0x1f, 0x93, 0xff)));
        assert_eq!(Rgb::parse("#fff"), Some(WHITE));
        assert_eq!(Rgb::parse("1f93ff"), None);
        assert_eq!(Rgb::parse("#1f93f"), None);
        assert_eq!(Rgb::parse("#gggggg"), None);
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        assert!((WHITE.contrast(BLACK) - 21.0).abs() < 1e-9);
        // #1f93ff on white is a known 3.0-ish pair.
        let c = Rgb::parse("#1f93ff").unwrap().contrast(WHITE);
        assert!((c - 3.16).abs() < 0.05, "{c}");
    }

    #[test]
    fn derived_palette_is_ordered_light_to_dark_and_keeps_primary() {
        let p = Rgb(0x5b, 0x3c, 0xc4);
        let mut overrides = BTreeMap::new();
        overrides.insert("900".to_string(), Rgb(1, 2, 3));
        let palette = Palette::derive(p, &overrides);
        assert_eq!(palette.get("500"), Some(p));
        assert_eq!(palette.get("900"), Some(Rgb(1, 2, 3)));
        let lum: Vec<f64> = palette.iter().take(11).map(|(_, c)| c.luminance()).collect();
        assert!(lum.windows(2).all(|w| w[0] > w[1]), "{lum:?}");
    }
}
