//! Icons rendered from the brand mark: PNGs at exact pixel sizes, opaque or
//! transparent, optionally with the unread-message badge, and multi-size ICO.

use image::{ImageEncoder, RgbaImage};
use resvg::tiny_skia::{self, Color, FillRule, Paint, PathBuilder, Pixmap, Transform};

use crate::color::Rgb;
use crate::svg::Svg;

/// The badge color Chatwoot's unread favicons use (a red dot).
const BADGE: Rgb = Rgb(0xff, 0x38, 0x2d);

#[derive(Debug, Clone, Copy)]
pub struct IconStyle {
    /// Opaque background color; `None` keeps transparency.
    pub background: Option<Rgb>,
    pub padding: f32,
    pub badge: bool,
}

/// Renders the mark into a `size`×`size` pixmap.
pub fn render(mark: &Svg, size: u32, style: IconStyle) -> Pixmap {
    let mut pixmap = Pixmap::new(size, size).expect("icon size is non-zero");
    if let Some(bg) = style.background {
        pixmap.fill(Color::from_rgba8(bg.0, bg.1, bg.2, 255));
    }
    let art = mark.render_fit(size, size, style.padding);
    pixmap.draw_pixmap(0, 0, art.as_ref(), &tiny_skia::PixmapPaint::default(), Transform::identity(), None);
    if style.badge {
        let s = size as f32;
        let r = (s * 0.22).max(2.0);
        let (cx, cy) = (s - r - s * 0.02, r + s * 0.02);
        let mut paint = Paint { anti_alias: true, ..Default::default() };
        // A white ring keeps the dot visible on a mark of the same color.
        paint.set_color(Color::WHITE);
        if let Some(ring) = PathBuilder::from_circle(cx, cy, r + (s * 0.04).max(1.0)) {
            pixmap.fill_path(&ring, &paint, FillRule::Winding, Transform::identity(), None);
        }
        paint.set_color(Color::from_rgba8(BADGE.0, BADGE.1, BADGE.2, 255));
        if let Some(dot) = PathBuilder::from_circle(cx, cy, r) {
            pixmap.fill_path(&dot, &paint, FillRule::Winding, Transform::identity(), None);
        }
    }
    pixmap
}

fn to_rgba(pixmap: &Pixmap) -> RgbaImage {
    let mut img = RgbaImage::new(pixmap.width(), pixmap.height());
    for (dst, src) in img.pixels_mut().zip(pixmap.pixels()) {
        let c = src.demultiply();
        *dst = image::Rgba([c.red(), c.green(), c.blue(), c.alpha()]);
    }
    img
}

pub fn png(pixmap: &Pixmap) -> Vec<u8> {
    let img = to_rgba(pixmap);
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Best,
        image::codecs::png::FilterType::Adaptive,
    )
    .write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgba8)
    .expect("encoding to memory");
    out
}

/// A `.ico` holding one PNG frame per size.
pub fn ico(mark: &Svg, sizes: &[u32], style: IconStyle) -> Vec<u8> {
    let frames: Vec<image::codecs::ico::IcoFrame> = sizes
        .iter()
        .map(|&s| {
            let img = to_rgba(&render(mark, s, style));
            image::codecs::ico::IcoFrame::as_png(img.as_raw(), s, s, image::ExtendedColorType::Rgba8)
                .expect("icon frame")
        })
        .collect();
    let mut out = Vec::new();
    image::codecs::ico::IcoEncoder::new(&mut out).encode_images(&frames).expect("encoding to memory");
    out
}

/// Reads `NNxNN` from an icon file name.
pub fn size_from_name(path: &str) -> Option<u32> {
    let name = path.rsplit('/').next()?;
    let re = regex::Regex::new(r"(\d+)x(\d+)").expect("valid regex");
    let c = re.captures(name)?;
    let (w, h): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
    (w == h && (1..=1024).contains(&w)).then_some(w)
}
