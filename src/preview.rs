//! The brand preview: one contact sheet a person can look at before a
//! build ships — logos on the light and dark backgrounds, every icon of the
//! rendered overlay at its real size, the palette with its WCAG contrast
//! figures, the product name as the UI strings show it, and the mail layout
//! filled with sample content. Pure: brand + overlay + report in, PNG bytes
//! or an HTML page out (fonts are the only thing read from the system).
//!
//! The PNG is one SVG document (backgrounds, swatches, captions; every brand
//! string XML-escaped) rendered by resvg, with the logo and icon pixmaps
//! drawn on top 1:1 by tiny-skia. The [`Layout`] says where everything is.

mod mail;
mod strings;

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use resvg::tiny_skia::{self, Pixmap, PixmapPaint, Transform};
use resvg::usvg::{self, fontdb};

use crate::brand::Brand;
use crate::color::{BLACK, Rgb, WHITE};
use crate::error::{Error, Result};
use crate::escape;
use crate::icon;
use crate::render::Overlay;
use crate::report::Report;
pub use mail::{Card, Mail};
pub use strings::UiString;

/// Chatwoot's light theme background, behind the light logo.
pub const LIGHT_BG: Rgb = WHITE;
/// A dark slate like Chatwoot's dark theme, behind the dark logo.
pub const DARK_BG: Rgb = Rgb(0x1b, 0x1c, 0x21);
/// WCAG AA for normal text.
pub const AA: f64 = 4.5;

/// Sheet width and outer margin, in pixels.
pub const WIDTH: u32 = 1280;
const MARGIN: u32 = 40;
const CONTENT: u32 = WIDTH - 2 * MARGIN;
const PAGE: Rgb = Rgb(0xf4, 0xf5, 0xf7);
const INK: Rgb = Rgb(0x1f, 0x29, 0x37);
const MUTED: Rgb = Rgb(0x5b, 0x63, 0x70);
const LINE: Rgb = Rgb(0xd9, 0xdc, 0xe1);
/// Behind each icon, so white and transparent icons both show their edges.
pub const TILE: Rgb = Rgb(0xe4, 0xe7, 0xeb);
const LIGHT_INK: Rgb = Rgb(0xd1, 0xd5, 0xdb);
/// How many UI strings are shown.
const MAX_STRINGS: usize = 6;
/// Mail lines drawn on the card (after wrapping).
const MAX_MAIL_LINES: usize = 16;

/// A pixel rectangle of the sheet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }
    pub fn bottom(&self) -> u32 {
        self.y + self.h
    }
    pub fn right(&self) -> u32 {
        self.x + self.w
    }
}

/// Where everything is on the sheet.
#[derive(Debug, Clone)]
pub struct Layout {
    pub width: u32,
    pub height: u32,
    pub background: Rgb,
    pub logos: Vec<LogoBox>,
    pub swatches: Vec<SwatchBox>,
    pub icons: Vec<IconBox>,
    /// Areas holding text of one color on one background.
    pub texts: Vec<TextArea>,
    pub mail: Rect,
}

impl Layout {
    fn empty() -> Layout {
        Layout {
            width: WIDTH,
            height: 0,
            background: PAGE,
            logos: Vec::new(),
            swatches: Vec::new(),
            icons: Vec::new(),
            texts: Vec::new(),
            mail: Rect::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogoBox {
    /// `light` or `dark`.
    pub which: &'static str,
    pub rect: Rect,
    /// Where the logo is drawn (inside `rect`).
    pub art: Rect,
    pub background: Rgb,
}

#[derive(Debug, Clone)]
pub struct SwatchBox {
    /// `25` … `900`, or `primary`.
    pub shade: String,
    pub color: Rgb,
    pub rect: Rect,
    /// A part of `rect` holding nothing but the color.
    pub solid: Rect,
    /// Contrast of white and of black text on the color.
    pub white: f64,
    pub black: f64,
}

#[derive(Debug, Clone)]
pub struct IconBox {
    /// The image's pixels, 1:1.
    pub rect: Rect,
    /// The tile behind it.
    pub tile: Rect,
    pub caption: String,
}

#[derive(Debug, Clone)]
pub struct TextArea {
    pub what: String,
    pub rect: Rect,
    pub ink: Rgb,
    pub background: Rgb,
}

/// One distinct icon image of the overlay (an ICO gives one per frame).
#[derive(Debug, Clone)]
pub struct Icon {
    /// Every overlay path with these bytes, shortest first.
    pub paths: Vec<String>,
    pub width: u32,
    pub height: u32,
    /// `Some((n, of))` for frame n of an ICO.
    pub frame: Option<(usize, usize)>,
    /// The image as PNG (the file itself, or the ICO frame re-encoded).
    pub png: Vec<u8>,
    pixmap: Pixmap,
}

impl Icon {
    /// The file name shown (of the shortest path).
    pub fn name(&self) -> &str {
        self.paths[0].rsplit('/').next().unwrap_or(&self.paths[0])
    }

    fn caption(&self) -> (String, String) {
        let mut first = format!("{}×{}", self.width, self.height);
        if let Some((n, of)) = self.frame {
            first.push_str(&format!(" · frame {n}/{of}"));
        }
        if self.paths.len() > 1 {
            first.push_str(&format!(" · {} files", self.paths.len()));
        }
        (first, self.name().to_string())
    }
}

/// The fonts the sheet's text is set in.
pub struct Fonts {
    db: Arc<fontdb::Database>,
    pub sans: String,
    pub mono: String,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fonts({} faces, sans {:?}, mono {:?})", self.db.len(), self.sans, self.mono)
    }
}

impl Fonts {
    /// The system fonts (fontconfig's directories, else the usual ones).
    pub fn system() -> Result<Fonts> {
        let mut db = fontdb::Database::new();
        db.load_system_fonts();
        Fonts::from_db(db, "the system font directories (/usr/share/fonts, ~/.local/share/fonts)")
    }

    /// The fonts of one directory (recursively).
    pub fn from_dir(dir: &Path) -> Result<Fonts> {
        let mut db = fontdb::Database::new();
        db.load_fonts_dir(dir);
        Fonts::from_db(db, &dir.display().to_string())
    }

    fn from_db(mut db: fontdb::Database, searched: &str) -> Result<Fonts> {
        let has = |db: &fontdb::Database, family: &str| {
            db.query(&fontdb::Query { families: &[fontdb::Family::Name(family)], ..Default::default() }).is_some()
        };
        // DejaVu first (the CI's and Debian's fonts-dejavu-core), then any
        // family, by name so the choice does not depend on directory order.
        let mut families: Vec<String> = db.faces().flat_map(|f| f.families.iter().map(|(n, _)| n.clone())).collect();
        families.sort();
        let pick = |preferred: &[&str], monospaced: bool| {
            preferred.iter().find(|f| has(&db, f)).map(|f| f.to_string()).or_else(|| {
                let mono_names: Vec<&String> = families.iter().filter(|n| n.to_lowercase().contains("mono")).collect();
                if monospaced { mono_names.first().map(|s| s.to_string()) } else { None }
                    .or_else(|| families.iter().find(|n| !n.to_lowercase().contains("mono")).cloned())
                    .or_else(|| families.first().cloned())
            })
        };
        let Some(sans) = pick(&["DejaVu Sans", "Liberation Sans", "Noto Sans", "FreeSans"], false) else {
            return Err(Error::usage(
                format!("no usable font in {searched}: the preview needs one to draw its text"),
                "install fonts-dejavu-core (apt-get install fonts-dejavu-core)",
            ));
        };
        let mono = pick(&["DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "FreeMono"], true)
            .unwrap_or_else(|| sans.clone());
        // The chosen faces are kept in memory: usvg reads a face's data for
        // every run of text, and a file-backed face is read from disk each time.
        let chosen: Vec<fontdb::ID> =
            db.faces().filter(|f| f.families.iter().any(|(n, _)| *n == sans || *n == mono)).map(|f| f.id).collect();
        let mut read: BTreeMap<std::path::PathBuf, Arc<Vec<u8>>> = BTreeMap::new();
        for id in chosen {
            let Some(mut info) = db.face(id).cloned() else { continue };
            let fontdb::Source::File(path) = &info.source else { continue };
            let data = match read.get(path) {
                Some(d) => d.clone(),
                None => match std::fs::read(path) {
                    Ok(bytes) => read.entry(path.clone()).or_insert(Arc::new(bytes)).clone(),
                    Err(_) => continue,
                },
            };
            info.source = fontdb::Source::Binary(data);
            db.remove_face(id);
            db.push_face_info(info);
        }
        db.set_sans_serif_family(sans.clone());
        db.set_monospace_family(mono.clone());
        Ok(Fonts { db: Arc::new(db), sans, mono })
    }
}

/// The sheet for one brand: computed once, then written as PNG or HTML.
pub struct Preview<'a> {
    brand: &'a Brand,
    pub layout: Layout,
    pub icons: Vec<Icon>,
    /// How many overlay files the icons come from.
    pub icon_files: usize,
    pub strings: Vec<UiString>,
    pub mail: Mail,
    pub svg: String,
    footer: String,
    /// Pixmaps drawn over the rendered SVG: (x, y, pixmap).
    draws: Vec<(u32, u32, Pixmap)>,
}

impl<'a> Preview<'a> {
    /// Lays out the sheet for `brand` from its rendered `overlay`.
    pub fn new(brand: &'a Brand, overlay: &Overlay, report: &Report) -> Result<Preview<'a>> {
        let (icons, icon_files) = icons(overlay)?;
        let strings = strings::find(overlay, &brand.name, &brand.locale, MAX_STRINGS);
        let mail = mail::Sample::new(brand).fill(brand);
        let digest = &report.brand_digest[..report.brand_digest.len().min(12)];
        let footer = format!("{} · patch set {} · brand digest {digest}", report.tool, report.patchset);
        let t = &report.totals;
        let summary = format!(
            "{} files changed, {} added, {} replacements · patch set {}",
            t.files_changed, t.files_added, t.replacements, report.patchset
        );
        let mut p = Preview {
            brand,
            layout: Layout::empty(),
            icons,
            icon_files,
            strings,
            mail,
            svg: String::new(),
            footer,
            draws: Vec::new(),
        };
        p.lay_out(&summary);
        Ok(p)
    }

    /// The sheet as PNG bytes (deterministic: same inputs and fonts, same bytes).
    pub fn png(&self, fonts: &Fonts) -> Result<Vec<u8>> {
        let options = usvg::Options { fontdb: fonts.db.clone(), font_family: fonts.sans.clone(), ..Default::default() };
        let tree = usvg::Tree::from_str(&self.svg, &options)
            .map_err(|e| Error::usage(format!("the preview sheet does not parse: {e}"), "report this as a bug"))?;
        let mut pixmap = Pixmap::new(self.layout.width, self.layout.height).ok_or_else(|| {
            Error::usage(format!("a {}×{} sheet is too large", self.layout.width, self.layout.height), "report this")
        })?;
        // Opaque from the start, so premultiplied pixels are plain RGBA.
        pixmap.fill(tiny_skia::Color::from_rgba8(PAGE.0, PAGE.1, PAGE.2, 255));
        resvg::render(&tree, Transform::identity(), &mut pixmap.as_mut());
        for (x, y, art) in &self.draws {
            pixmap.draw_pixmap(
                *x as i32,
                *y as i32,
                art.as_ref(),
                &PixmapPaint::default(),
                Transform::identity(),
                None,
            );
        }
        let out = encode(&pixmap);
        Ok(out)
    }

    fn lay_out(&mut self, summary: &str) {
        let brand = self.brand;
        let mut s = Sheet { svg: String::new(), layout: Layout::empty() };
        let mut y = 44;

        // Title, with the mark as the icons show it.
        let mark = 56;
        self.draws.push((WIDTH - MARGIN - mark, y, brand.logos.mark.svg.render_fit(mark, mark, 0.0)));
        s.text(MARGIN, y + 30, 30, Font::SansBold, INK, &brand.name, Some("title"));
        y += 54;
        let sub = format!("{} · locale {} · primary {}", brand.company, brand.locale, brand.primary);
        s.text(MARGIN, y, 14, Font::Sans, MUTED, &sub, None);
        y += 22;
        s.text(MARGIN, y, 14, Font::Sans, MUTED, summary, None);
        y += 30;

        // Logos.
        y = s.heading(y, "Logos", "the light logo on Chatwoot's light background, the dark logo on its dark one");
        let gap = 24;
        let bw = (CONTENT - gap) / 2;
        let bh = 200;
        for (i, (which, asset, bg, ink, label)) in [
            ("light", &brand.logos.light, LIGHT_BG, MUTED, format!("light logo · white {}", LIGHT_BG)),
            ("dark", &brand.logos.dark, DARK_BG, LIGHT_INK, format!("dark logo · dark slate {}", DARK_BG)),
        ]
        .into_iter()
        .enumerate()
        {
            let rect = Rect::new(MARGIN + i as u32 * (bw + gap), y, bw, bh);
            let border = if bg == LIGHT_BG { format!(r#" stroke="{LINE}" stroke-width="1""#) } else { String::new() };
            s.raw(&format!(
                r#"<rect x="{}.5" y="{}.5" width="{}" height="{}" rx="10" fill="{bg}"{border}/>"#,
                rect.x,
                rect.y,
                rect.w - 1,
                rect.h - 1
            ));
            let art = Rect::new(rect.x + 32, rect.y + 24, rect.w - 64, rect.h - 24 - 44);
            self.draws.push((art.x, art.y, asset.svg.render_fit(art.w, art.h, 0.0)));
            s.text(rect.x + 16, rect.bottom() - 16, 13, Font::Mono, ink, &label, Some(&format!("{which} logo label")));
            s.layout.texts.last_mut().expect("just added").background = bg;
            s.text(rect.x, rect.bottom() + 22, 13, Font::Sans, MUTED, &asset.rel, None);
            s.layout.logos.push(LogoBox { which, rect, art, background: bg });
        }
        y += bh + 52;

        // Palette.
        y = s.heading(
            y,
            "Palette",
            &format!(
                "shades 25 to 900 and the primary; W / B: WCAG contrast of white / black text on it, AA from {AA}:1"
            ),
        );
        let mut shades: Vec<(String, Rgb)> = brand.palette.iter().map(|(k, c)| (k.to_string(), c)).collect();
        shades.push(("primary".to_string(), brand.primary));
        let n = shades.len() as u32;
        let sw = (CONTENT - (n - 1) * 8) / n;
        // The rounding remainder goes into the gaps, so the row spans the content width.
        let sgap = (CONTENT - n * sw) / (n - 1);
        let sh = 92;
        for (i, (shade, color)) in shades.iter().enumerate() {
            let rect = Rect::new(MARGIN + i as u32 * (sw + sgap), y, sw, sh);
            s.raw(&format!(
                r#"<rect x="{}.5" y="{}.5" width="{}" height="{}" rx="8" fill="{color}" stroke="{BLACK}" stroke-opacity="0.08"/>"#,
                rect.x,
                rect.y,
                rect.w - 1,
                rect.h - 1
            ));
            let solid = Rect::new(rect.x + 8, rect.y + 8, rect.w - 16, 40);
            s.text(rect.x + 9, rect.bottom() - 13, 17, Font::SansBold, WHITE, "Aa", None);
            s.text(rect.right() - 33, rect.bottom() - 13, 17, Font::SansBold, BLACK, "Aa", None);
            let (white, black) = (color.contrast(WHITE), color.contrast(BLACK));
            let ty = rect.bottom() + 20;
            s.text(rect.x, ty, 13, Font::SansBold, INK, shade, Some("shade name"));
            s.text(rect.x, ty + 17, 11, Font::Mono, MUTED, &color.hex(), None);
            for (j, (letter, ratio)) in [("W", white), ("B", black)].into_iter().enumerate() {
                let line = ty + 33 + j as u32 * 15;
                let (mark, fill) = if ratio >= AA { ("AA", Rgb(0x05, 0x7a, 0x55)) } else { ("--", MUTED) };
                s.raw(&format!(
                    r#"<text x="{}" y="{line}" font-family="monospace" font-size="11" fill="{MUTED}">{letter} {ratio:5.2} <tspan font-weight="bold" fill="{fill}">{mark}</tspan></text>"#,
                    rect.x
                ));
            }
            s.layout.swatches.push(SwatchBox { shade: shade.clone(), color: *color, rect, solid, white, black });
        }
        y += sh + 20 + 33 + 15 + 40;

        // Icons.
        let distinct = self.icons.len();
        y = s.heading(
            y,
            "Icons",
            &format!(
                "{distinct} distinct images at 1:1 from {} PNG / ICO files of the overlay (identical files shown once)",
                self.icon_files
            ),
        );
        // One group per icon family (favicon, apple, android, ms…), largest
        // family first; inside a group, bottom-left skyline packing, largest
        // icon first, so the small icons fill the room beside the large ones.
        let groups = icon_groups(&self.icons);
        let pad = 8;
        let (cgap, rgap) = (18, 20);
        for (name, icons) in &groups {
            let files = group_files(icons);
            s.raw(&format!(
                r#"<text x="{MARGIN}" y="{}" font-family="sans-serif" font-size="13" fill="{MUTED}"><tspan font-weight="bold" fill="{INK}">{}</tspan>  {} images, {files} files</text>"#,
                y + 13,
                xml(name),
                icons.len()
            ));
            y += 26;
            // `sky[c]`: the first free y of column c.
            let mut sky = vec![y; CONTENT as usize];
            for icon in icons {
                let (l1, l2) = icon.caption();
                let text_w = mono_width(&l1, 10).max(mono_width(&l2, 10));
                let tw = icon.width + 2 * pad;
                let cw = tw.max(text_w + 4).min(CONTENT);
                let ch = icon.height + 2 * pad + 34;
                let top = |c: usize| sky[c..c + cw as usize].iter().copied().max().unwrap_or(y);
                let candidates = (0..=(CONTENT - cw) as usize).filter(|&c| c == 0 || sky[c] != sky[c - 1]);
                let (cy, cx) = candidates.map(|c| (top(c), c)).min().unwrap_or((top(0), 0));
                let end = (cx + (cw + cgap) as usize).min(CONTENT as usize);
                sky[cx..end].iter_mut().for_each(|v| *v = cy + ch + rgap);
                let x = MARGIN + cx as u32;
                let tile = Rect::new(x + (cw - tw) / 2, cy, tw, icon.height + 2 * pad);
                s.raw(&format!(
                    r#"<rect x="{}" y="{}" width="{}" height="{}" rx="4" fill="{TILE}"/>"#,
                    tile.x, tile.y, tile.w, tile.h
                ));
                let rect = Rect::new(tile.x + pad, tile.y + pad, icon.width, icon.height);
                self.draws.push((rect.x, rect.y, icon.pixmap.clone()));
                let mid = x + cw / 2;
                for (k, (line, fill)) in [(&l1, INK), (&l2, MUTED)].into_iter().enumerate() {
                    s.raw(&format!(
                        r#"<text x="{mid}" y="{}" font-family="monospace" font-size="10" text-anchor="middle" fill="{fill}">{}</text>"#,
                        tile.bottom() + 14 + 13 * k as u32,
                        xml(line)
                    ));
                }
                s.layout.texts.push(TextArea {
                    what: format!("caption of {}", icon.name()),
                    rect: Rect::new(mid - text_w / 2, tile.bottom() + 4, text_w, 13),
                    ink: INK,
                    background: PAGE,
                });
                s.layout.icons.push(IconBox { rect, tile, caption: format!("{l1} {l2}") });
            }
            y = sky.iter().copied().max().unwrap_or(y) - rgap + 26;
        }
        y += 14;

        // The product name in the UI.
        y = s.heading(
            y,
            "Product name in the UI",
            &format!("strings of the rendered overlay showing the name, {} first", brand.locale),
        );
        if self.strings.is_empty() {
            s.text(MARGIN, y + 18, 15, Font::Sans, MUTED, "no short UI string of the overlay shows the name", None);
            y += 34;
        }
        for u in &self.strings {
            s.raw(&format!(
                r#"<rect x="{MARGIN}" y="{y}" width="{CONTENT}" height="34" rx="6" fill="{WHITE}" stroke="{LINE}"/>"#
            ));
            s.text(MARGIN + 14, y + 22, 12, Font::Mono, MUTED, &u.locale, None);
            s.text(MARGIN + 90, y + 23, 17, Font::Sans, INK, &u.text, Some("ui string"));
            s.layout.texts.last_mut().expect("just added").background = WHITE;
            s.raw(&format!(
                r#"<text x="{}" y="{}" font-family="monospace" font-size="11" text-anchor="end" fill="{MUTED}">{}</text>"#,
                WIDTH - MARGIN - 14,
                y + 22,
                xml(&u.source)
            ));
            y += 42;
        }
        y += 30;

        // Mail.
        let m = &self.mail;
        y = s.heading(
            y,
            "Mail",
            &format!("{} filled with sample content (the HTML preview shows the real HTML)", brand.mail.layout_rel),
        );
        s.text(MARGIN, y + 14, 12, Font::Mono, MUTED, &format!("From:    {}", brand.mail.sender), None);
        s.text(MARGIN, y + 32, 12, Font::Mono, MUTED, &format!("Subject: {}", m.subject), None);
        y += 48;
        let card = &m.card;
        // (text, heading, first line of its block): blocks get a little air.
        let mut lines: Vec<(String, bool, bool)> = Vec::new();
        for (i, l) in card.lines.iter().enumerate() {
            let (size, heading) = if i == 0 { (20, true) } else { (15, false) };
            for (k, w) in mail::wrap(l, (536.0 / (size as f64 * 0.6)) as usize).into_iter().enumerate() {
                lines.push((w, heading, k == 0 && i > 1));
            }
        }
        if lines.len() > MAX_MAIL_LINES {
            lines.truncate(MAX_MAIL_LINES);
            lines.push(("…".to_string(), false, false));
        }
        let advance =
            |&(_, heading, block): &(String, bool, bool)| if heading { 32 } else { 22 + if block { 6 } else { 0 } };
        let inner_h = 40 + lines.iter().map(advance).sum::<u32>() + 14;
        let outer = Rect::new(MARGIN, y, CONTENT, inner_h + 64);
        s.raw(&format!(
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="10" fill="{}" stroke="{LINE}"/>"#,
            outer.x, outer.y, outer.w, outer.h, card.page
        ));
        let cw = 600;
        let inner = Rect::new(MARGIN + (CONTENT - cw) / 2, y + 32, cw, inner_h);
        s.raw(&format!(
            r#"<rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="{}" stroke="{LINE}"/><rect x="{}" y="{}" width="{}" height="4" fill="{}"/>"#,
            inner.x, inner.y, inner.w, inner.h, card.background, inner.x, inner.y, inner.w, card.accent
        ));
        let mut ly = inner.y + 40;
        for line in &lines {
            let (text, heading, block) = line;
            if *block {
                ly += 6;
            }
            if *heading {
                s.text(inner.x + 32, ly, 20, Font::SansBold, card.heading, text, None);
            } else {
                s.text(inner.x + 32, ly, 15, Font::Sans, INK, text, Some("mail line"));
                s.layout.texts.last_mut().expect("just added").background = card.background;
            }
            ly += advance(line) - if *block { 6 } else { 0 };
        }
        s.layout.mail = outer;
        y = outer.bottom() + 36;

        s.text(MARGIN, y, 12, Font::Mono, MUTED, &self.footer, None);
        y += 28;

        s.layout.width = WIDTH;
        s.layout.height = y;
        self.svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{y}" viewBox="0 0 {WIDTH} {y}"><rect width="{WIDTH}" height="{y}" fill="{PAGE}"/>{}</svg>"#,
            s.svg
        );
        self.layout = s.layout;
    }

    /// A self-contained HTML page: inline clean SVG logos, icons as data
    /// URIs, the mail in a sandboxed iframe; every brand string escaped and
    /// a policy that lets nothing load from outside.
    pub fn html(&self) -> String {
        let b = self.brand;
        let h = escape::html;
        let mut o = String::new();
        o.push_str("<!DOCTYPE html>\n<html lang=\"");
        o.push_str(&h(&b.locale.replace('_', "-")));
        o.push_str("\">\n<head>\n<meta charset=\"utf-8\">\n");
        o.push_str(
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n",
        );
        o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        o.push_str(&format!("<title>{} · brand preview</title>\n", h(&b.name)));
        o.push_str(&format!(
            "<style>\n\
             body{{margin:0;padding:40px;background:{PAGE};color:{INK};font:15px/1.45 system-ui,'DejaVu Sans',sans-serif}}\n\
             h1{{margin:0 0 6px;font-size:30px}} h2{{margin:40px 0 4px;font-size:13px;letter-spacing:.08em;text-transform:uppercase}}\n\
             .muted,figcaption,.note{{color:{MUTED}}} .note{{margin:0 0 14px}} code,.mono{{font-family:'DejaVu Sans Mono',monospace;font-size:12px}}\n\
             .logos{{display:grid;grid-template-columns:1fr 1fr;gap:24px}}\n\
             .logo{{height:200px;border-radius:10px;border:1px solid {LINE};display:flex;flex-direction:column;box-sizing:border-box;padding:24px 32px 12px}}\n\
             .logo .art{{flex:1;display:flex;align-items:center;justify-content:center;min-height:0}}\n\
             .logo .art svg{{max-width:100%;max-height:100%;width:auto;height:auto}}\n\
             .swatches{{display:grid;grid-template-columns:repeat(auto-fill,minmax(84px,1fr));gap:8px}}\n\
             .swatch .chip{{height:92px;border-radius:8px;display:flex;align-items:flex-end;justify-content:space-between;padding:0 10px 8px;box-sizing:border-box;font-weight:bold;font-size:20px}}\n\
             h3{{margin:18px 0 8px;font-size:13px;font-weight:normal}}\n\
             .icons{{display:flex;flex-wrap:wrap;gap:22px 18px;align-items:flex-start}}\n\
             figure{{margin:0;text-align:center}} figure .tile{{display:inline-block;padding:8px;background:{TILE};border-radius:4px;line-height:0}}\n\
             figure img{{image-rendering:pixelated}} figcaption{{font-family:'DejaVu Sans Mono',monospace;font-size:10px}}\n\
             table.strings{{border-collapse:collapse;width:100%;background:#fff}} .strings td{{border:1px solid {LINE};padding:6px 12px}}\n\
             iframe{{width:100%;height:640px;border:1px solid {LINE};border-radius:10px;background:#fff}}\n\
             .aa{{color:#057a55;font-weight:bold}}\n\
             </style>\n</head>\n<body>\n"
        ));
        o.push_str(&format!("<h1>{}</h1>\n", h(&b.name)));
        o.push_str(&format!(
            "<p class=\"muted\">{} · locale {} · primary {}<br>{}</p>\n",
            h(&b.company),
            h(&b.locale),
            b.primary,
            h(&self.footer)
        ));

        o.push_str("<h2>Logos</h2>\n<p class=\"note\">the light logo on Chatwoot's light background, the dark logo on its dark one</p>\n<div class=\"logos\">\n");
        for (which, asset, bg, ink, label) in [
            ("light", &b.logos.light, LIGHT_BG, MUTED, "white"),
            ("dark", &b.logos.dark, DARK_BG, LIGHT_INK, "dark slate"),
        ] {
            o.push_str(&format!(
                "<div><div class=\"logo\" style=\"background:{bg}\"><div class=\"art\">{}</div><span class=\"mono\" style=\"color:{ink}\">{which} logo · {label} {bg}</span></div><p class=\"muted\">{}</p></div>\n",
                asset.svg.to_clean_svg_with_id_prefix(&format!("{which}-")),
                h(&asset.rel)
            ));
        }
        o.push_str("</div>\n");

        o.push_str(&format!(
            "<h2>Palette</h2>\n<p class=\"note\">shades 25 to 900 and the primary; W / B: WCAG contrast of white / black text on it, AA from {AA}:1</p>\n<div class=\"swatches\">\n"
        ));
        for sw in &self.layout.swatches {
            let mark = |r: f64| if r >= AA { "<span class=\"aa\">AA</span>" } else { "--" };
            o.push_str(&format!(
                "<div class=\"swatch\"><div class=\"chip\" style=\"background:{c}\"><span style=\"color:#fff\">Aa</span><span style=\"color:#000\">Aa</span></div><b>{shade}</b><br><span class=\"mono muted\">{c}<br>W {w:.2} {wm}<br>B {bl:.2} {bm}</span></div>\n",
                c = sw.color,
                shade = h(&sw.shade),
                w = sw.white,
                wm = mark(sw.white),
                bl = sw.black,
                bm = mark(sw.black)
            ));
        }
        o.push_str("</div>\n");

        o.push_str(&format!(
            "<h2>Icons</h2>\n<p class=\"note\">{} distinct images at 1:1 from {} PNG / ICO files of the overlay (identical files shown once)</p>\n",
            self.icons.len(),
            self.icon_files
        ));
        for (name, icons) in icon_groups(&self.icons) {
            o.push_str(&format!(
                "<h3><b>{}</b> <span class=\"muted\">{} images, {} files</span></h3>\n<div class=\"icons\">\n",
                h(&name),
                icons.len(),
                group_files(&icons)
            ));
            for icon in &icons {
                let (l1, l2) = icon.caption();
                let data = base64::engine::general_purpose::STANDARD.encode(&icon.png);
                o.push_str(&format!(
                    "<figure title=\"{}\"><span class=\"tile\"><img alt=\"{}\" width=\"{}\" height=\"{}\" \
                     src=\"data:image/png;base64,{data}\"></span><figcaption>{}<br>{}</figcaption></figure>\n",
                    h(&icon.paths.join("\n")),
                    h(icon.name()),
                    icon.width,
                    icon.height,
                    h(&l1),
                    h(&l2)
                ));
            }
            o.push_str("</div>\n");
        }

        o.push_str(&format!(
            "<h2>Product name in the UI</h2>\n<p class=\"note\">strings of the rendered overlay showing the name, {} first</p>\n",
            h(&b.locale)
        ));
        if self.strings.is_empty() {
            o.push_str("<p class=\"muted\">no short UI string of the overlay shows the name</p>\n");
        } else {
            o.push_str("<table class=\"strings\">\n");
            for u in &self.strings {
                o.push_str(&format!(
                    "<tr><td class=\"mono muted\">{}</td><td>{}</td><td class=\"mono muted\">{}</td></tr>\n",
                    h(&u.locale),
                    h(&u.text),
                    h(&u.source)
                ));
            }
            o.push_str("</table>\n");
        }

        o.push_str(&format!(
            "<h2>Mail</h2>\n<p class=\"note\">{} filled with sample content</p>\n<p class=\"mono muted\">From: {}<br>Subject: {}</p>\n",
            h(&b.mail.layout_rel),
            h(&b.mail.sender),
            h(&self.mail.subject)
        ));
        // An empty sandbox: no scripts, no forms, no navigation of this page.
        o.push_str(&format!("<iframe sandbox title=\"sample mail\" srcdoc=\"{}\"></iframe>\n", h(&self.mail.html)));
        o.push_str("</body>\n</html>\n");
        o
    }
}

#[derive(Clone, Copy)]
enum Font {
    Sans,
    SansBold,
    Mono,
}

/// The SVG being written and the layout recorded alongside.
struct Sheet {
    svg: String,
    layout: Layout,
}

impl Sheet {
    fn raw(&mut self, element: &str) {
        self.svg.push_str(element);
    }

    /// One line of text with its baseline at `y`; recorded as a text area
    /// (on the page background) when `what` is given.
    #[allow(clippy::too_many_arguments)]
    fn text(&mut self, x: u32, y: u32, size: u32, font: Font, fill: Rgb, text: &str, what: Option<&str>) {
        let (family, weight) = match font {
            Font::Sans => ("sans-serif", ""),
            Font::SansBold => ("sans-serif", r#" font-weight="bold""#),
            Font::Mono => ("monospace", ""),
        };
        self.svg.push_str(&format!(
            r#"<text x="{x}" y="{y}" font-family="{family}" font-size="{size}"{weight} fill="{fill}" xml:space="preserve">{}</text>"#,
            xml(text)
        ));
        if let Some(what) = what {
            let width = match font {
                Font::Mono => mono_width(text, size),
                _ => (text.chars().count() as f64 * size as f64 * 0.62).ceil() as u32,
            };
            self.layout.texts.push(TextArea {
                what: what.to_string(),
                rect: Rect::new(x, y.saturating_sub(size), width.min(WIDTH - x), size + size / 3),
                ink: fill,
                background: PAGE,
            });
        }
    }

    /// A section heading and its note; returns where the section's body starts.
    fn heading(&mut self, y: u32, title: &str, note: &str) -> u32 {
        self.svg.push_str(&format!(
            r#"<text x="{MARGIN}" y="{}" font-family="sans-serif" font-size="13" font-weight="bold" letter-spacing="1.2" fill="{INK}">{}</text>"#,
            y + 13,
            xml(&title.to_uppercase())
        ));
        self.text(MARGIN, y + 33, 13, Font::Sans, MUTED, note, None);
        self.svg
            .push_str(&format!(r#"<rect x="{MARGIN}" y="{}" width="{CONTENT}" height="1" fill="{LINE}"/>"#, y + 44));
        y + 60
    }
}

/// The icons by family, in the order `icons()` returns them (display order).
fn icon_groups(icons: &[Icon]) -> Vec<(String, Vec<&Icon>)> {
    let mut groups: Vec<(String, Vec<&Icon>)> = Vec::new();
    for icon in icons {
        let name = family(icon.name());
        match groups.last_mut() {
            Some((last, members)) if *last == name => members.push(icon),
            _ => groups.push((name, vec![icon])),
        }
    }
    groups
}

/// How many overlay files a group's images come from (an ICO once).
fn group_files(icons: &[&Icon]) -> usize {
    icons.iter().filter(|i| i.frame.is_none_or(|(n, _)| n == 1)).map(|i| i.paths.len()).sum()
}

/// The family of an icon file: its name up to the first `-`, `_` or `.`
/// (`favicon-badge-16x16.png` → `favicon`).
fn family(name: &str) -> String {
    name.split(['-', '_', '.']).next().unwrap_or(name).to_string()
}

/// Width of `text` in a monospace font (DejaVu Sans Mono advances 0.602 em).
fn mono_width(text: &str, size: u32) -> u32 {
    (text.chars().count() as f64 * size as f64 * 0.602).ceil() as u32
}

/// Escapes text for SVG/XML, dropping characters XML cannot hold at all.
pub fn xml(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}'))
        .collect();
    escape::html(&kept)
}

/// The distinct icon images of the overlay (PNG files and ICO frames),
/// largest first, and how many files they come from.
fn icons(overlay: &Overlay) -> Result<(Vec<Icon>, usize)> {
    let mut by_bytes: BTreeMap<&[u8], Vec<String>> = BTreeMap::new();
    let mut files = 0;
    for (path, bytes) in &overlay.files {
        let lower = path.to_lowercase();
        if lower.ends_with(".png") || lower.ends_with(".ico") {
            by_bytes.entry(bytes.as_slice()).or_default().push(path.clone());
            files += 1;
        }
    }
    let bad = |path: &str, why: String| {
        Error::usage(format!("overlay file {path} is not a readable image: {why}"), "report this as a bug")
    };
    let mut out = Vec::new();
    for (bytes, mut paths) in by_bytes {
        paths.sort_by_key(|p| (p.matches('/').count(), p.len(), p.clone()));
        let first = paths[0].clone();
        if first.to_lowercase().ends_with(".ico") {
            let frames = ico_frames(bytes).unwrap_or_default();
            let decoded: Vec<image::RgbaImage> =
                frames.iter().filter_map(|f| image::load_from_memory(f).ok().map(|i| i.to_rgba8())).collect();
            let images = if !decoded.is_empty() && decoded.len() == frames.len() {
                decoded
            } else {
                vec![image::load_from_memory(bytes).map_err(|e| bad(&first, e.to_string()))?.to_rgba8()]
            };
            let of = images.len();
            for (i, img) in images.into_iter().enumerate() {
                let pixmap = to_pixmap(&img).ok_or_else(|| bad(&first, "empty frame".into()))?;
                let png = icon::png(&pixmap);
                out.push(Icon {
                    paths: paths.clone(),
                    width: img.width(),
                    height: img.height(),
                    frame: (of > 1).then_some((i + 1, of)),
                    png,
                    pixmap,
                });
            }
        } else {
            let img = image::load_from_memory(bytes).map_err(|e| bad(&first, e.to_string()))?.to_rgba8();
            let pixmap = to_pixmap(&img).ok_or_else(|| bad(&first, "empty image".into()))?;
            out.push(Icon {
                paths,
                width: img.width(),
                height: img.height(),
                frame: None,
                png: bytes.to_vec(),
                pixmap,
            });
        }
    }
    // Display order: families by their largest icon, then largest first.
    let mut largest: BTreeMap<String, u32> = BTreeMap::new();
    for i in &out {
        let e = largest.entry(family(i.name())).or_default();
        *e = (*e).max(i.height);
    }
    out.sort_by_cached_key(|i| {
        let f = family(i.name());
        (Reverse(largest[&f]), f, Reverse(i.height), Reverse(i.width), i.name().to_string(), i.frame)
    });
    Ok((out, files))
}

/// The image data of each entry of an ICO file.
fn ico_frames(data: &[u8]) -> Option<Vec<&[u8]>> {
    if data.get(..4)? != [0, 0, 1, 0] {
        return None;
    }
    let count = u16::from_le_bytes([data[4], data[5]]) as usize;
    (0..count)
        .map(|i| {
            let e = data.get(6 + 16 * i..6 + 16 * (i + 1))?;
            let len = u32::from_le_bytes(e[8..12].try_into().ok()?) as usize;
            let off = u32::from_le_bytes(e[12..16].try_into().ok()?) as usize;
            data.get(off..off.checked_add(len)?)
        })
        .collect()
}

/// PNG of an opaque pixmap (its premultiplied bytes are then plain RGBA).
fn encode(pixmap: &Pixmap) -> Vec<u8> {
    use image::ImageEncoder as _;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Default,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(pixmap.data(), pixmap.width(), pixmap.height(), image::ExtendedColorType::Rgba8)
    .expect("encoding to memory");
    out
}

fn to_pixmap(img: &image::RgbaImage) -> Option<Pixmap> {
    let mut p = Pixmap::new(img.width(), img.height())?;
    for (dst, src) in p.pixels_mut().iter_mut().zip(img.pixels()) {
        *dst = tiny_skia::ColorU8::from_rgba(src[0], src[1], src[2], src[3]).premultiply();
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_and_drops_what_xml_cannot_hold() {
        assert_eq!(xml("<script>&\"'{{x}}\u{1}"), "&lt;script&gt;&amp;&quot;&#39;{{x}}");
    }

    #[test]
    fn ico_frames_are_read_from_the_directory() {
        let svg = crate::svg::Svg::parse(
            br##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#123456"/></svg>"##,
        )
        .unwrap();
        let style = icon::IconStyle { background: None, padding: 0.0, badge: false };
        let ico = icon::ico(&svg, &[16, 32, 48], style);
        let frames = ico_frames(&ico).unwrap();
        let sizes: Vec<u32> = frames.iter().map(|f| image::load_from_memory(f).unwrap().width()).collect();
        assert_eq!(sizes, vec![16, 32, 48]);
        assert!(ico_frames(b"not an icon").is_none());
        let mut truncated = ico.clone();
        truncated.truncate(60);
        assert!(ico_frames(&truncated).is_none());
    }

    #[test]
    fn no_fonts_is_a_clear_error() {
        let empty = tempfile::tempdir().unwrap();
        let err = Fonts::from_dir(empty.path()).unwrap_err().to_string();
        assert!(err.contains("fonts-dejavu-core"), "{err}");
    }
}
