//! Source maps: the original texts in `sourcesContent` carry the upstream
//! strings too (devtools show them). This rewrites those texts through a
//! callback and re-serialises the map, leaving every other member as is.

use serde_json::Value;

/// Calls `patch(source_name, text)` for each source text; `None` keeps it.
/// Returns the new map bytes when anything changed.
pub fn patch_sources(
    map: &[u8],
    mut patch: impl FnMut(&str, &str) -> Result<Option<String>, String>,
) -> Result<Option<Vec<u8>>, String> {
    let mut doc: Value = serde_json::from_slice(map).map_err(|e| format!("is not a JSON source map: {e}"))?;
    let names: Vec<String> = doc
        .get("sources")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|s| s.as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default();
    let Some(contents) = doc.get_mut("sourcesContent").and_then(Value::as_array_mut) else {
        return Ok(None);
    };
    let mut changed = false;
    for (i, slot) in contents.iter_mut().enumerate() {
        let Some(text) = slot.as_str() else { continue };
        let name = names.get(i).map(String::as_str).unwrap_or_default();
        if let Some(new) = patch(name, text).map_err(|e| format!("source {name}: {e}"))? {
            *slot = Value::String(new);
            changed = true;
        }
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&doc).map(Some).map_err(|e| e.to_string())
}

/// How a source text is scanned, from its file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Js,
    Json,
    /// Vue single-file components and anything else: not rewritten.
    Other,
}

pub fn source_kind(name: &str) -> SourceKind {
    let name = name.split(['?', '#']).next().unwrap_or(name);
    match name.rsplit('.').next() {
        Some("js" | "mjs" | "cjs") => SourceKind::Js,
        Some("json") => SourceKind::Json,
        _ => SourceKind::Other,
    }
}

/// Moves the generated positions of `map` from `old_js` to `new_js`, given
/// the edits that turned one into the other. Returns the new map bytes, with
/// only `mappings` changed.
pub fn remap(map: &[u8], old_js: &str, new_js: &str, chain: &crate::edits::Chain) -> Result<Vec<u8>, String> {
    let parsed = sourcemap::SourceMap::from_slice(map).map_err(|e| format!("is not a source map: {e}"))?;
    check_mappings(map)?;
    let mut tokens: Vec<sourcemap::RawToken> = parsed.tokens().map(|t| t.get_raw_token()).collect();
    tokens.sort_by_key(|t| (t.dst_line, t.dst_col));
    let mut old = crate::edits::Positions::new(old_js);
    let offsets: Vec<usize> = tokens.iter().map(|t| old.offset(t.dst_line as usize, t.dst_col as usize)).collect();
    let moved = crate::edits::map_offsets(chain, &offsets);
    let mut new = crate::edits::Positions::new(new_js);
    for (t, o) in tokens.iter_mut().zip(moved) {
        let (line, col) = new.position(o);
        (t.dst_line, t.dst_col) = (line as u32, col as u32);
    }
    let names = parsed.names().map(Into::into).collect();
    let sources = parsed.sources().map(Into::into).collect();
    let rebuilt = sourcemap::SourceMap::new(None, tokens, names, sources, None);
    let mut encoded = Vec::new();
    rebuilt.to_writer(&mut encoded).map_err(|e| e.to_string())?;
    let encoded: Value = serde_json::from_slice(&encoded).map_err(|e| e.to_string())?;
    let mut doc: Value = serde_json::from_slice(map).map_err(|e| e.to_string())?;
    doc["mappings"] = encoded["mappings"].clone();
    serde_json::to_vec(&doc).map_err(|e| e.to_string())
}

/// Refuses a `mappings` field the parser would read leniently: every
/// segment must be base64 VLQ of 1, 4 or 5 fields. Rewriting one that does
/// not decode would silently drop (or invent) positions.
fn check_mappings(map: &[u8]) -> Result<(), String> {
    let doc: Value = serde_json::from_slice(map).map_err(|e| format!("is not JSON: {e}"))?;
    let mappings = doc["mappings"].as_str().ok_or("has no `mappings` string")?;
    for (line, segments) in mappings.split(';').enumerate() {
        for segment in segments.split(',').filter(|s| !s.is_empty()) {
            match sourcemap::vlq::parse_vlq_segment(segment) {
                Ok(fields) if matches!(fields.len(), 1 | 4 | 5) => {}
                _ => {
                    return Err(format!(
                        "has a bogus `mappings` field (line {}: segment {segment:?} is not a 1-, 4- or 5-field VLQ)",
                        line + 1
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edits::Edit;

    #[test]
    fn mappings_follow_the_code() {
        let old = "const a=\"Login to Chatwoot\";const b=\"Chatwoot\";f(a,b);";
        let new = "const a=\"Login to Nexa Çé\";const b=\"Nexa Çé\";f(a,b);";
        let chain = vec![vec![Edit { at: 18, old_len: 8, new_len: 9 }, Edit { at: 37, old_len: 8, new_len: 9 }]];
        // Tokens at `const` (0), `b` (34), `f` (47).
        let mut b = sourcemap::SourceMapBuilder::new(None);
        for (col, src_col) in [(0, 0), (34, 10), (47, 20)] {
            b.add(0, col, 0, src_col, Some("x.js"), None, false);
        }
        let mut map = Vec::new();
        b.into_sourcemap().to_writer(&mut map).unwrap();
        let out = remap(&map, old, new, &chain).unwrap();
        let sm = sourcemap::SourceMap::from_slice(&out).unwrap();
        let cols: Vec<u32> = sm.tokens().map(|t| t.get_dst_col()).collect();
        // "Nexa Çé" is 7 UTF-16 units where "Chatwoot" was 8: one less each time.
        assert_eq!(cols, vec![0, 33, 45]);
        assert_eq!(&new[new.char_indices().nth(45).unwrap().0..][..1], "f");
    }

    #[test]
    fn bogus_mappings_are_refused() {
        for bogus in ["!!!", "AAAA,BB", "AAA", "AAAA;;\u{e9}"] {
            let map = format!(r#"{{"version":3,"sources":["a.js"],"names":[],"mappings":"{bogus}"}}"#);
            let err = check_mappings(map.as_bytes()).unwrap_err();
            assert!(err.contains("bogus `mappings`"), "{bogus}: {err}");
        }
        let good = r#"{"version":3,"sources":["a.js"],"names":["x"],"mappings":"AAAA,CAAC;AACAA;;"}"#;
        check_mappings(good.as_bytes()).unwrap();
    }
}
