//! The operations a patch-set rule can perform on one file. Each takes the
//! current bytes and returns the new bytes (or `None` when nothing changed)
//! plus the number of replacements it made per replace entry.

pub mod id3;
pub mod json_set;
pub mod palette;
pub mod replace;
pub mod yaml_entries;

/// What applying one rule to one file did.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub bytes: Option<Vec<u8>>,
    /// Matches per replace entry (one slot for non-replace actions).
    pub counts: Vec<usize>,
    /// Where the bytes changed, when the action knows (text replacements).
    pub edits: Option<Vec<crate::edits::Edit>>,
}

impl Outcome {
    pub fn unchanged(entries: usize) -> Outcome {
        Outcome { bytes: None, counts: vec![0; entries], edits: Some(Vec::new()) }
    }

    /// A whole-file result with no edit list.
    pub fn whole(bytes: Option<Vec<u8>>, counts: Vec<usize>) -> Outcome {
        Outcome { bytes, counts, edits: None }
    }
}
