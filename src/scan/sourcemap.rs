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
