//! `whitelabel preview`: the contact sheet of nexa over the fixture tree is
//! drawn where its layout says (logos, icons 1:1, exact swatch colors, text
//! really drawn), hostile names stay escaped in the HTML and the SVG sheet,
//! and the output is byte-for-byte reproducible, from a directory or from
//! an image through the daemon.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::docker::{block_on, docker, fixture_base, wl};
use common::*;
use image::RgbaImage;
use whitelabel::brand::Brand;
use whitelabel::color::Rgb;
use whitelabel::patchset::PatchSet;
use whitelabel::preview::{Fonts, Preview, Rect, TILE};
use whitelabel::render::{self, Options, Overlay};
use whitelabel::report::Report;
use whitelabel::tree::DirTree;

const PATCHES: &str = "patches/chatwoot-v3.15.0";

fn rendered(pack: &Path) -> (Brand, Overlay, Report) {
    let brand = Brand::load(pack).unwrap();
    let ps = PatchSet::load(&repo().join(PATCHES)).unwrap();
    let tree = DirTree::open(&fixture(), &ps.extract).unwrap();
    let (overlay, report) = render::render(&brand, &ps, &tree, Options { partial: false }).unwrap();
    (brand, overlay, report)
}

fn fonts() -> Fonts {
    Fonts::system().unwrap_or_else(|e| panic!("{e}; {}", needs("a system font (fonts-dejavu-core)")))
}

fn px(img: &RgbaImage, x: u32, y: u32) -> Rgb {
    let p = img.get_pixel(x, y);
    Rgb(p[0], p[1], p[2])
}

fn pixels(img: &RgbaImage, r: Rect) -> impl Iterator<Item = Rgb> + '_ {
    (r.y..r.bottom()).flat_map(move |y| (r.x..r.right()).map(move |x| px(img, x, y)))
}

fn near(a: Rgb, b: Rgb, tolerance: i32) -> bool {
    [(a.0, b.0), (a.1, b.1), (a.2, b.2)].iter().all(|(x, y)| (*x as i32 - *y as i32).abs() <= tolerance)
}

fn overlaps(a: Rect, b: Rect) -> bool {
    a.x < b.right() && b.x < a.right() && a.y < b.bottom() && b.y < a.bottom()
}

/// Every icon image the overlay holds, counted independently of the
/// preview: distinct PNG files, plus one per frame of each distinct ICO.
fn expected_icons(overlay: &Overlay) -> (usize, usize) {
    let mut distinct = BTreeSet::new();
    let mut files = 0;
    for (p, b) in &overlay.files {
        if p.ends_with(".png") || p.ends_with(".ico") {
            files += 1;
            distinct.insert((p.ends_with(".ico"), b.clone()));
        }
    }
    let images = distinct.iter().map(|(ico, b)| if *ico { u16::from_le_bytes([b[4], b[5]]) as usize } else { 1 }).sum();
    (images, files)
}

#[test]
fn nexa_sheet_draws_every_part_where_its_layout_says() {
    let (brand, overlay, report) = rendered(&nexa());
    let preview = Preview::new(&brand, &overlay, &report).unwrap();
    let png = preview.png(&fonts()).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgba8();
    let l = &preview.layout;
    assert_eq!((img.width(), img.height()), (l.width, l.height));
    assert!(img.pixels().all(|p| p[3] == 255), "the sheet is opaque");

    // Every box lies inside the sheet; boxes of one kind never overlap.
    let inside = |r: Rect| r.w > 0 && r.h > 0 && r.right() <= l.width && r.bottom() <= l.height;
    let boxes: Vec<(String, Rect)> = l
        .logos
        .iter()
        .map(|b| (format!("{} logo", b.which), b.rect))
        .chain(l.swatches.iter().map(|s| (format!("swatch {}", s.shade), s.rect)))
        .chain(l.icons.iter().map(|i| (format!("icon {}", i.caption), i.tile)))
        .chain([("mail".to_string(), l.mail)])
        .collect();
    for (i, (a, ra)) in boxes.iter().enumerate() {
        assert!(inside(*ra), "{a} {ra:?} is outside the {}x{} sheet", l.width, l.height);
        for (b, rb) in &boxes[i + 1..] {
            assert!(!overlaps(*ra, *rb), "{a} {ra:?} overlaps {b} {rb:?}");
        }
    }

    // Logos: light on white, dark on the dark slate, art drawn in each box.
    assert_eq!(l.logos.len(), 2);
    for b in &l.logos {
        assert!(b.art.x > b.rect.x && b.art.right() < b.rect.right() && b.art.bottom() < b.rect.bottom());
        let inked = pixels(&img, b.art).filter(|c| *c != b.background).count();
        let area = (b.art.w * b.art.h) as usize;
        assert!(inked * 20 > area, "{} logo: only {inked} of {area} pixels differ from {}", b.which, b.background);
        assert_eq!(px(&img, b.rect.x + 8, b.rect.y + 8), b.background, "{} logo background", b.which);
    }
    assert_eq!(l.logos[0].background, Rgb(255, 255, 255));
    assert_eq!(l.logos[1].background, Rgb(0x1b, 0x1c, 0x21));

    // Palette: every shade, then the primary, each exactly its color.
    let mut expected: Vec<(String, Rgb)> = brand.palette.iter().map(|(k, c)| (k.to_string(), c)).collect();
    expected.push(("primary".into(), brand.primary));
    let shown: Vec<(String, Rgb)> = l.swatches.iter().map(|s| (s.shade.clone(), s.color)).collect();
    assert_eq!(shown, expected);
    for s in &l.swatches {
        assert!(s.solid.w >= 40 && s.solid.h >= 30, "{s:?}");
        assert!(pixels(&img, s.solid).all(|c| c == s.color), "swatch {} is not exactly {}", s.shade, s.color);
        assert!((s.white - s.color.contrast(Rgb(255, 255, 255))).abs() < 1e-9);
    }

    // Icons: each distinct image once, at 1:1: its opaque pixels are the file's.
    let (images, files) = expected_icons(&overlay);
    assert_eq!((l.icons.len(), preview.icons.len(), preview.icon_files), (images, images, files));
    assert!(l.icons.iter().any(|i| i.caption.contains("favicon-badge-16x16.png")), "badge variants are shown");
    for (icon, b) in preview.icons.iter().zip(&l.icons) {
        assert_eq!((b.rect.w, b.rect.h), (icon.width, icon.height), "{}", b.caption);
        assert!(b.caption.contains(icon.name()) && b.caption.contains(&format!("{}×{}", icon.width, icon.height)));
        let inked = pixels(&img, b.rect).filter(|c| *c != TILE).count();
        assert!(inked * 4 > (b.rect.w * b.rect.h) as usize, "{}: {inked} pixels drawn", b.caption);
        let src = image::load_from_memory(&icon.png).unwrap().to_rgba8();
        for (x, y, p) in src.enumerate_pixels().filter(|(_, _, p)| p[3] == 255) {
            assert_eq!(px(&img, b.rect.x + x, b.rect.y + y), Rgb(p[0], p[1], p[2]), "{} at {x},{y}", b.caption);
        }
        // The file's own bytes, for PNGs.
        if icon.frame.is_none() && icon.paths[0].ends_with(".png") {
            assert_eq!(&icon.png, &overlay.files[&icon.paths[0]]);
        }
    }
    let grouped: BTreeMap<&[u8], usize> =
        overlay.files.iter().filter(|(p, _)| p.ends_with(".png")).fold(BTreeMap::new(), |mut m, (_, b)| {
            *m.entry(b.as_slice()).or_default() += 1;
            m
        });
    for icon in preview.icons.iter().filter(|i| i.frame.is_none()) {
        assert_eq!(icon.paths.len(), grouped[overlay.files[&icon.paths[0]].as_slice()], "{:?}", icon.paths);
    }

    // Text: every recorded text area holds pixels of its ink (fails when no font draws).
    assert!(l.texts.iter().any(|t| t.what == "title"));
    assert!(l.texts.iter().any(|t| t.what == "dark logo label" && t.ink.luminance() > 0.5), "light text on dark");
    assert!(l.texts.iter().any(|t| t.what == "mail line"));
    assert_eq!(l.texts.iter().filter(|t| t.what == "ui string").count(), preview.strings.len());
    for t in &l.texts {
        assert!(inside(t.rect), "{} {:?}", t.what, t.rect);
        let ink = pixels(&img, t.rect).filter(|c| near(*c, t.ink, 24)).count();
        assert!(ink >= 6, "{} at {:?}: {ink} pixels of {} (was the text drawn?)", t.what, t.rect, t.ink);
    }

    // The UI strings are real ones of the overlay, the brand's locale first.
    assert!(!preview.strings.is_empty());
    assert_eq!(preview.strings[0].locale, "pt_BR");
    let texts: Vec<&str> = preview.strings.iter().map(|s| s.text.as_str()).collect();
    assert!(texts.contains(&"Entrar no Nexa"), "{texts:?}");
    for s in &preview.strings {
        assert!(s.text.contains("Nexa") && s.text.len() <= 64, "{s:?}");
        let found = overlay.files.values().any(|b| String::from_utf8_lossy(b).contains(&s.text));
        assert!(found, "{s:?} is not in the overlay");
    }
    assert_eq!(texts.iter().collect::<BTreeSet<_>>().len(), texts.len(), "unique");

    // The mail: the layout filled, nothing left to fill.
    assert!(preview.mail.html.contains("Ana Souza") && !preview.mail.html.contains("{{"));
    assert_eq!(preview.mail.card.accent, brand.primary, "the layout's border-top color");
}

#[test]
fn hostile_name_is_escaped_in_the_html_and_the_svg_sheet() {
    let name = r#"<script>alert(1)</script> & "Q" 'x' {{ y }}"#;
    let quoted = toml::Value::String(name.to_string()).to_string();
    let pack = nexa_variant(|t| t.replacen("name = \"Nexa\"", &format!("name = {quoted}"), 1));
    let dir = variant_dir(&pack);
    // The layout outputs the name through Liquid too, as the stock one does.
    let layout = dir.join("mail/base.liquid");
    let text = std::fs::read_to_string(&layout).unwrap();
    std::fs::write(&layout, text.replace("Enviado por", "Enviado por {{ global_config['BRAND_NAME'] }} /")).unwrap();

    let (brand, overlay, report) = rendered(&dir);
    assert_eq!(brand.name, name);
    let preview = Preview::new(&brand, &overlay, &report).unwrap();

    let html = preview.html();
    assert!(!html.to_lowercase().contains("<script"), "a raw <script> in the page");
    assert!(html.contains("<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q&quot; &#39;x&#39; {{ y }}</h1>"));
    assert!(html.contains("<title>&lt;script&gt;"));
    // No external fetches: a policy that forbids them, nothing but data: sources.
    assert!(html.contains("default-src 'none'"));
    for attr in ["src=\"", "href=\"", "url("] {
        for (i, _) in html.match_indices(attr) {
            let rest = &html[i + attr.len()..];
            assert!(rest.starts_with("data:") || rest.starts_with('#'), "{attr}{}", &rest[..40.min(rest.len())]);
        }
    }
    // The mail sits whole in one attribute, escaped once more; unescaped, it is the mail.
    let srcdoc = regex::Regex::new(r#"<iframe sandbox title="sample mail" srcdoc="([^"]*)"></iframe>"#).unwrap();
    let attr = &srcdoc.captures(&html).expect("one sandboxed iframe")[1];
    let unescaped = attr
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    assert_eq!(unescaped, preview.mail.html);
    assert!(preview.mail.html.contains("Enviado por &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Q&quot;"));
    assert!(!preview.mail.html.contains("<script"));

    // The SVG sheet is well-formed and shows the name as text, verbatim.
    let doc = roxmltree::Document::parse(&preview.svg).expect("the sheet is well-formed XML");
    let title = doc.descendants().find(|n| n.has_tag_name("text")).unwrap();
    assert_eq!(title.text(), Some(name));
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    let png = preview.png(&fonts()).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_rgba8();
    let t = preview.layout.texts.iter().find(|t| t.what == "title").unwrap();
    assert!(pixels(&img, t.rect).filter(|c| near(*c, t.ink, 24)).count() > 50, "the hostile title is drawn");
    assert!(
        !preview.strings.is_empty() && preview.strings.iter().all(|s| s.text.contains(name)),
        "{:?}",
        preview.strings
    );
    assert!(preview.svg.contains(&format!("Entrar no {}", whitelabel::preview::xml(name))));
}

fn run_ok(args: &[&str]) -> serde_json::Value {
    let o = whitelabel(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn cli_writes_the_same_bytes_every_run_and_says_what_it_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = fixture();
    let base = ["preview", "nexa", "--base-dir", tree.to_str().unwrap(), "--json", "-o"];
    let (brand, overlay, report) = rendered(&nexa());
    let (images, files) = expected_icons(&overlay);
    let mut outputs = Vec::new();
    for name in ["a.png", "b.png", "a.html", "b.html"] {
        let out = tmp.path().join(name);
        let mut args = base.to_vec();
        args.push(out.to_str().unwrap());
        if name.ends_with(".html") {
            args.push("--html");
        }
        let v = run_ok(&args);
        assert_eq!(v["format"], if name.ends_with(".html") { "html" } else { "png" });
        assert_eq!((v["icons"].as_u64(), v["icon_files"].as_u64()), (Some(images as u64), Some(files as u64)));
        outputs.push((v, std::fs::read(&out).unwrap()));
    }
    assert_eq!(outputs[0].1, outputs[1].1, "two PNG runs differ");
    assert_eq!(outputs[2].1, outputs[3].1, "two HTML runs differ");
    let img = image::load_from_memory(&outputs[0].1).unwrap();
    assert_eq!(
        (img.width() as u64, img.height() as u64),
        (outputs[0].0["width"].as_u64().unwrap(), outputs[0].0["height"].as_u64().unwrap())
    );
    assert_eq!(outputs[0].0["bytes"].as_u64().unwrap(), outputs[0].1.len() as u64);
    // The CLI draws what the library draws.
    assert_eq!(Preview::new(&brand, &overlay, &report).unwrap().png(&fonts()).unwrap(), outputs[0].1);

    // The summary line names the file, the size and the icons.
    let out = tmp.path().join("c.png");
    let o = whitelabel(&["preview", "nexa", "--base-dir", tree.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let line = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains("c.png")
            && line.contains(&format!("{}×{}", img.width(), img.height()))
            && line.contains(&format!("{images} icons"))
    );

    // A missing tree is one clear error, and nothing is written.
    let missing = tmp.path().join("nope");
    let out = tmp.path().join("d.png");
    let o = whitelabel(&["preview", "nexa", "--base-dir", missing.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: --base-dir ") && err.contains("nope is not a directory"), "{err}");
    assert!(!out.exists());
}

/// Without --base-dir the base files come through the daemon and the
/// extraction cache, like `build`: same overlay, so the same bytes.
#[test]
fn from_an_image_through_the_daemon_gives_the_same_sheet() {
    let (image, id) = fixture_base();
    let tmp = tempfile::tempdir().unwrap();
    let (from_image, from_dir) = (tmp.path().join("image.png"), tmp.path().join("dir.png"));
    let cache = tmp.path().join("cache");
    for (out, extra) in
        [(&from_image, ["--base", image.as_str()]), (&from_dir, ["--base-dir", fixture().to_str().unwrap()])]
    {
        let mut args = vec!["--patches", PATCHES, "preview", "nexa", "--json", "-o", out.to_str().unwrap()];
        args.extend(extra);
        let o = wl(&args, &cache, &[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(std::fs::read(&from_image).unwrap(), std::fs::read(&from_dir).unwrap());
    assert!(std::fs::read_dir(cache.join("bases")).unwrap().count() == 1, "the extraction was cached");
    let rm = bollard::query_parameters::RemoveImageOptionsBuilder::default().force(true).build();
    block_on(docker().remove_image(&id, Some(rm), None)).unwrap();
}
