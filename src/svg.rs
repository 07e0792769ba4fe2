//! Safe SVG handling for brand artwork: refuses external references and
//! active content before parsing, bounds the canvas, renders with resvg and
//! re-serialises a clean copy (no scripts, no foreign objects) for the image.

use resvg::{tiny_skia, usvg};

/// Largest accepted SVG canvas side, in user units.
pub const MAX_CANVAS: f32 = 4096.0;
/// Largest accepted SVG file.
pub const MAX_SVG_BYTES: u64 = 512 * 1024;

/// Bounds on the work a logo may ask for, checked on the raw XML before the
/// (recursive) conversion and the rasteriser see it: with them any accepted
/// logo parses and renders within about 2 s and 256 MB.
pub const MAX_DEPTH: usize = 64;
/// XML nodes (elements, text, comments) the parser builds at most.
pub const MAX_NODES: u32 = 20_000;
pub const MAX_ELEMENTS: usize = 10_000;
/// Filter primitives (`fe*` elements) in the whole file.
pub const MAX_FILTER_PRIMITIVES: usize = 4;
/// A filter region's side: at most this many times the element's bounding
/// box (`objectBoundingBox`, the default) or the canvas (`userSpaceOnUse`).
pub const MAX_FILTER_REGION: f32 = 2.0;
/// `<use>` elements; none may point at content holding another `<use>`
/// (copies of copies grow exponentially).
pub const MAX_USES: usize = 256;

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
        // A panic in the converter or rasteriser is one refused logo, never
        // a crashed process (`list` and `build --all` go on with the others).
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Svg::convert(text, &options)))
            .unwrap_or_else(|_| Err("makes the SVG renderer fail".into()))
    }

    fn convert(text: &str, options: &usvg::Options) -> Result<Svg, String> {
        let tree = usvg::Tree::from_str(text, options).map_err(|e| format!("does not parse as SVG: {e}"))?;
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

/// Walks the raw XML and refuses external references, active content and
/// what exceeds the work bounds. The streaming [`prescan`] runs first:
/// roxmltree recurses per nesting level, so depth is bounded before it parses.
fn vet(text: &str) -> Result<(), String> {
    prescan(text)?;
    let doc = roxmltree::Document::parse_with_options(
        text,
        roxmltree::ParsingOptions { allow_dtd: false, nodes_limit: MAX_NODES },
    )
    .map_err(|e| match e {
        roxmltree::Error::NodesLimitReached => format!("has more than {MAX_NODES} XML nodes (limit)"),
        e => format!("is not well-formed XML (DTDs and entities are refused): {e}"),
    })?;
    // Depth, element and filter-primitive counts: prescan() checked them.
    let mut uses = 0;
    let size = canvas_size(&doc);
    for node in doc.descendants().filter(|n| n.is_element()) {
        let name = node.tag_name().name();
        // Only for messages: text_pos_at scans from the start of the text.
        let line = || doc.text_pos_at(node.range().start).row;
        if name == "filter" {
            filter_region(&node, size).map_err(|why| format!("line {line}: <filter> {why}", line = line()))?;
        }
        if name == "use" {
            uses += 1;
            if uses > MAX_USES {
                return Err(format!("has more than {MAX_USES} <use> elements (limit)"));
            }
            if let Some(target) = href(&node).and_then(|id| doc.descendants().find(|n| n.attribute("id") == Some(id)))
                && target.descendants().any(|n| n.has_tag_name("use") && n != node)
            {
                return Err(format!(
                    "line {line}: <use> points at content that holds another <use> (limit)",
                    line = line()
                ));
            }
        }
        if REFUSED_ELEMENTS.contains(&name) {
            return Err(format!("line {line}: <{name}> is not allowed (external or active content)", line = line()));
        }
        for attr in node.attributes() {
            let value = attr.value().trim();
            if attr.name() == "href" && !value.starts_with('#') {
                return Err(format!("line {line}: <{name} href=\"{value}\"> refers outside the SVG", line = line()));
            }
            if attr.name().starts_with("on") {
                return Err(format!(
                    "line {line}: event handler attribute {} is not allowed",
                    attr.name(),
                    line = line()
                ));
            }
            if external_url(value) {
                return Err(format!(
                    "line {line}: attribute {} refers outside the SVG ({value})",
                    attr.name(),
                    line = line()
                ));
            }
        }
        if name == "style" {
            let css = node.text().unwrap_or_default();
            if css.contains("@import") || external_url(css) {
                return Err(format!("line {line}: <style> loads an external resource", line = line()));
            }
        }
    }
    Ok(())
}

/// The bounds that a recursive parser would hit first (roxmltree recurses
/// per nesting level), checked with a streaming reader that keeps no stack:
/// depth, element count and filter primitives.
fn prescan(text: &str) -> Result<(), String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().check_end_names = false;
    let (mut depth, mut elements, mut filters) = (0usize, 0usize, 0usize);
    loop {
        let event = reader.read_event().map_err(|e| format!("is not well-formed XML: {e}"))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.local_name().into_inner().to_owned()), false),
            Event::Empty(e) => (Some(e.local_name().into_inner().to_owned()), true),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                (None, false)
            }
            Event::Eof => return Ok(()),
            _ => (None, false),
        };
        let Some(name) = start else { continue };
        let level = depth + 1;
        if level > MAX_DEPTH + 1 {
            return Err(format!("elements nest deeper than {MAX_DEPTH} levels (limit)"));
        }
        elements += 1;
        if elements > MAX_ELEMENTS {
            return Err(format!("has more than {MAX_ELEMENTS} elements (limit)"));
        }
        if name.starts_with("fe") {
            filters += 1;
            if filters > MAX_FILTER_PRIMITIVES {
                return Err(format!("has more than {MAX_FILTER_PRIMITIVES} filter primitives (limit)"));
            }
        }
        if !empty {
            depth = level;
        }
    }
}

/// The `#id` a `<use>` refers to.
fn href<'a>(node: &roxmltree::Node<'a, '_>) -> Option<&'a str> {
    node.attributes().find(|a| a.name() == "href").and_then(|a| a.value().trim().strip_prefix('#'))
}

/// The canvas side (the larger of width/height, else of the viewBox).
fn canvas_size(doc: &roxmltree::Document) -> f32 {
    let root = doc.root_element();
    let num = |v: Option<&str>| v.and_then(|v| v.trim().trim_end_matches("px").parse::<f32>().ok());
    let from_attrs = num(root.attribute("width")).into_iter().chain(num(root.attribute("height"))).fold(0.0, f32::max);
    let from_box = root
        .attribute("viewBox")
        .map(|b| b.split([' ', ',']).filter_map(|n| n.parse::<f32>().ok()).skip(2).fold(0.0, f32::max))
        .unwrap_or(0.0);
    from_attrs.max(from_box).clamp(1.0, MAX_CANVAS)
}

/// Refuses a filter region larger than [`MAX_FILTER_REGION`] times its
/// reference (the element's box, or the canvas in user space).
fn filter_region(node: &roxmltree::Node, canvas: f32) -> Result<(), String> {
    let user_space = node.attribute("filterUnits") == Some("userSpaceOnUse");
    let limit = if user_space { MAX_FILTER_REGION * canvas } else { MAX_FILTER_REGION };
    for attr in ["x", "y", "width", "height"] {
        let Some(v) = node.attribute(attr) else { continue };
        let v = v.trim();
        let n = match v.strip_suffix('%') {
            Some(p) => p.trim().parse::<f32>().map(|p| p / 100.0 * if user_space { canvas } else { 1.0 }),
            None => v.trim_end_matches("px").parse::<f32>(),
        };
        match n {
            Ok(n) if n.is_finite() && n.abs() <= limit => {}
            _ => {
                return Err(format!(
                    "region {attr}=\"{v}\" exceeds {MAX_FILTER_REGION}x its {} (limit)",
                    if user_space { "canvas" } else { "bounding box" }
                ));
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
