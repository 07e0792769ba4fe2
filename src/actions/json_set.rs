//! `action = "json-set"`: sets string values in a JSON document by JSON
//! pointer (`/name`). A pointer that does not exist is drift, not a silent add.

use serde_json::Value;

use super::Outcome;

/// `set` holds (pointer, rendered value) pairs.
pub fn apply(data: &[u8], set: &[(String, String)]) -> Result<Outcome, String> {
    let mut doc: Value = serde_json::from_slice(data).map_err(|e| format!("is not JSON: {e}"))?;
    let mut count = 0;
    for (pointer, value) in set {
        let slot = doc.pointer_mut(pointer).ok_or_else(|| format!("has no {pointer}"))?;
        if slot.as_str() != Some(value) {
            *slot = Value::String(value.clone());
        }
        count += 1;
    }
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok(Outcome::whole((out != data).then_some(out), vec![count]))
}
