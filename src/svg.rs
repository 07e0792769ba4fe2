//! Safe SVG handling for brand artwork: refuses external references and
//! active content before parsing, bounds the canvas, renders with resvg and
//! re-serialises a clean copy (no scripts, no foreign objects) for the image.

use resvg::{tiny_skia, usvg};

/// Largest accepted SVG canvas side, in user units.
pub const MAX_CANVAS: f32 = 4096.0;
/// Largest accepted SVG file.
pub const MAX_SVG_BYTES: u64 = 512 * 1024;

/// A parsed, vetted SVG.
pub struct Svg {
    tree: usvg::Tree,
}

impl std::fmt::Debug for Svg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.tree.size();
        write!(f, "Svg({}x{})", s.width(), s.height())
    }
}

/// Elements that either load other resources or run code.
const REFUSED_ELEMENTS: [&str; 5] = ["script", "foreignObject", "image", "iframe", "feImage"];

impl Svg {
    /// Parses `data`, refusing anything that would make the renderer read
    /// outside the SVG itself. The error text says what was found and where.
    pub fn parse(data: &[u8]) -> Result<Svg, String> {
        let text = std::str::from_utf8(data).map_err(|_| "is not UTF-8 text".to_string())?;
        vet(text)?;
        // Never resolve hrefs, not even data: URIs; vet() already refused them.
        let options = usvg::Options {
            image_href_resolver: usvg::ImageHrefResolver {
                resolve_data: Box::new(|_, _, _| None),
                resolve_string: Box::new(|_, _| None),
            },
            resources_dir: None,
            ..Default::default()
        };
        let tree = usvg::Tree::from_str(text, &options).map_err(|e| format!("does not parse as SVG: {e}"))?;
        let size = tree.size();
        if size.width() > MAX_CANVAS || size.height() > MAX_CANVAS {
            return Err(format!(
                "canvas is {}x{}, larger than the {MAX_CANVAS}x{MAX_CANVAS} limit",
                size.width(),
                size.height()
            ));
        }
        let svg = Svg { tree };
        let probe = svg.render_fit(64, 64, 0.0);
        if probe.pixels().iter().all(|p| p.alpha() == 0) {
            return Err("renders nothing (text is not rendered: convert text to paths)".into());
        }
        Ok(svg)
    }

    pub fn width(&self) -> f32 {
        self.tree.size().width()
    }

    pub fn height(&self) -> f32 {
        self.tree.size().height()
    }

    /// Renders into a transparent `w`×`h` pixmap, scaled to fit inside the
    /// canvas minus `padding` (a fraction of the shorter side on each edge)
    /// and centred.
    pub fn render_fit(&self, w: u32, h: u32, padding: f32) -> tiny_skia::Pixmap {
        let mut pixmap = tiny_skia::Pixmap::new(w.max(1), h.max(1)).expect("non-zero size");
        let pad = padding * w.min(h) as f32;
        let (bw, bh) = (w as f32 - 2.0 * pad, h as f32 - 2.0 * pad);
        let size = self.tree.size();
        let scale = (bw / size.width()).min(bh / size.height());
        let (dx, dy) = ((w as f32 - size.width() * scale) / 2.0, (h as f32 - size.height() * scale) / 2.0);
        let transform = tiny_skia::Transform::from_row(scale, 0.0, 0.0, scale, dx, dy);
        resvg::render(&self.tree, transform, &mut pixmap.as_mut());
        pixmap
    }

    /// A clean re-serialisation: only what was rendered survives.
    pub fn to_clean_svg(&self) -> String {
        self.tree.to_string(&usvg::WriteOptions::default())
    }

    /// [`Svg::to_clean_svg`] with every element ID prefixed, so that several
    /// SVGs can sit inline in one HTML page without their IDs colliding.
    pub fn to_clean_svg_with_id_prefix(&self, prefix: &str) -> String {
        let options = usvg::WriteOptions { id_prefix: Some(prefix.to_string()), ..Default::default() };
        self.tree.to_string(&options)
    }
}

/// Walks the raw XML and refuses external references and active content.
fn vet(text: &str) -> Result<(), String> {
    let doc = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions { allow_dtd: false, ..Default::default() },
    )
    .map_err(|e| format!("is not well-formed XML (DTDs and entities are refused): {e}"))?;
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        let line = doc.text_pos_at(node.range().start).row;
        if REFUSED_ELEMENTS.contains(&name) {
            return Err(format!("line {line}: <{name}> is not allowed (external or active content)"));
        }
        for attr in node.attributes() {
            let value = attr.value().trim();
            if attr.name() == "href" && !value.starts_with('#') {
                return Err(format!("line {line}: <{name} href=\"{value}\"> refers outside the SVG"));
            }
            if attr.name().starts_with("on") {
                return Err(format!("line {line}: event handler attribute {} is not allowed", attr.name()));
            }
            if external_url(value) {
                return Err(format!("line {line}: attribute {} refers outside the SVG ({value})", attr.name()));
            }
        }
        if name == "style" {
            let css = node.text().unwrap_or_default();
            if css.contains("@import") || external_url(css) {
                return Err(format!("line {line}: <style> loads an external resource"));
            }
        }
    }
    Ok(())
}

/// True when `text` holds a CSS `url(...)` that is not a local `#fragment`.
fn external_url(text: &str) -> bool {
    text.match_indices("url(").any(|(i, _)| {
        let rest = text[i + 4..].trim_start_matches([' ', '"', '\'']);
        !rest.starts_with('#')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10"><rect width="10" height="10" fill="#123456"/></svg>"##;

    #[test]
    fn renders_a_plain_square() {
        let svg = Svg::parse(SQUARE.as_bytes()).unwrap();
        let px = svg.render_fit(16, 16, 0.0);
        assert_eq!(px.pixel(8, 8).unwrap().alpha(), 255);
        assert!(svg.to_clean_svg().contains("<path"));
    }

    #[test]
    fn text_is_never_rendered_even_with_system_fonts_installed() {
        // resvg's text support is compiled in (for the preview sheet), but
        // brand SVGs are parsed with an empty font database.
        let text = r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><text x="0" y="15" font-family="DejaVu Sans, sans-serif">Hi</text></svg>"#;
        assert!(Svg::parse(text.as_bytes()).unwrap_err().contains("renders nothing"));
        // Control: with the system fonts loaded the same text does render
        // (fails without fonts: install fonts-dejavu-core).
        let mut with_fonts = usvg::Options::default();
        with_fonts.fontdb_mut().load_system_fonts();
        assert!(usvg::Tree::from_str(text, &with_fonts).unwrap().root().has_children());
        let mixed = SQUARE.replace("</svg>", r#"<text x="0" y="9" font-size="9">Hi</text></svg>"#);
        let clean = Svg::parse(mixed.as_bytes()).unwrap().to_clean_svg();
        assert!(!clean.contains("<text") && clean.matches("<path").count() == 1, "{clean}");
    }

    #[test]
    fn refuses_external_and_active_content() {
        for (bad, expect) in [
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><image href="/etc/passwd" width="5" height="5"/></svg>"#,
                "<image>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="file:///etc/passwd#x"/></svg>"#,
                "refers outside",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://evil/x)" width="1" height="1"/></svg>"#,
                "refers outside",
            ),
            (r#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#, "<script>"),
            (
                r#"<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>"#,
                "DTD",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>"#,
                "canvas",
            ),
            (r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>"#, "renders nothing"),
        ] {
            let err = Svg::parse(bad.as_bytes()).unwrap_err();
            assert!(err.contains(expect), "{bad}: {err}");
        }
    }
}
